// The whole public API of rapyer.
#pragma once

#include "rapyer/client.hpp"
#include "rapyer/config.hpp"
#include "rapyer/connection.hpp"
#include "rapyer/embedded_server.hpp"
#include "rapyer/error.hpp"
#include "rapyer/reply.hpp"
#include "rapyer/request.hpp"

// The whole public API of rapyer.
#pragma once

#include "rapyer/client.hpp"
#include "rapyer/config.hpp"
#include "rapyer/connection.hpp"
#include "rapyer/embedded_server.hpp"
#include "rapyer/error.hpp"
#include "rapyer/fields/dict.hpp"
#include "rapyer/fields/list.hpp"
#include "rapyer/fields/scalars.hpp"
#include "rapyer/fields/set.hpp"
#include "rapyer/init.hpp"
#include "rapyer/key.hpp"
#include "rapyer/model.hpp"
#include "rapyer/model_config.hpp"
#include "rapyer/registry.hpp"
#include "rapyer/reply.hpp"
#include "rapyer/request.hpp"

// The logging hook: the client reports connects, reconnects, timeouts, health-check failures and
// errors to a sink the application sets. Messages never contain credentials.
#pragma once

#include <functional>
#include <string_view>

namespace rapyer {

enum class log_level { debug, info, warning, error };

/// "debug", "info", "warning" or "error".
std::string_view to_string(log_level level) noexcept;

/// Called on the connection's executor; it must not block. Empty: nothing is logged.
using log_sink = std::function<void(log_level level, std::string_view message)>;

}  // namespace rapyer

// The +switch-master watch of a Sentinel-managed client: it listens on one sentinel at a time and
// reports each new primary of the client's master, so that connections move before they fail.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>

#include "rapyer/config.hpp"

namespace rapyer::detail {

class sentinel_watch {
 public:
  /// Starts listening on config.sentinel's sentinels, the first that answers; when it goes away,
  /// on the next. `on_switch` gets the new primary of config.sentinel.master_name.
  sentinel_watch(boost::asio::any_io_executor executor, const connection_config& config,
                 std::function<void(const host_port&)> on_switch);
  /// Stops listening.
  ~sentinel_watch();
  sentinel_watch(const sentinel_watch&) = delete;
  sentinel_watch& operator=(const sentinel_watch&) = delete;

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace rapyer::detail

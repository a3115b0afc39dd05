#include "rapyer/detail/sentinel_watch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "rapyer/detail/sentinel.hpp"
#include "rapyer/subscription.hpp"

namespace rapyer::detail {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

struct sentinel_watch::state {
  state(asio::any_io_executor ex, connection_config cfg, std::function<void(const host_port&)> callback)
      : executor(std::move(ex)), config(std::move(cfg)), on_switch(std::move(callback)), timer(executor) {}

  void log(log_level level, const std::string& message) const {
    if (config.logger) config.logger(level, config.endpoint() + ": " + message);
  }

  asio::any_io_executor executor;
  connection_config config;
  std::function<void(const host_port&)> on_switch;
  std::optional<subscription> listening;  // on the current sentinel
  asio::steady_timer timer;               // paces checks and retries; cancelled to stop
  bool stopped = false;
};

namespace {

// How often a quiet watch checks that its sentinel is still connected.
constexpr std::chrono::milliseconds check_interval{500};

// Receives +switch-master messages on one sentinel until it is lost for longer than a check.
awaitable<void> listen(std::shared_ptr<sentinel_watch::state> st, host_port sentinel) {
  connection_config config = sentinel_node_config(st->config, sentinel);
  config.health_check_interval = st->config.health_check_interval;  // notices a hung sentinel
  st->listening.emplace(co_await subscription::connect(st->executor, config));
  if (st->stopped) co_return;
  co_await st->listening->subscribe(switch_master_channel);
  st->log(log_level::debug, "watching for +switch-master on sentinel " + to_string(sentinel));
  while (!st->stopped) {
    st->timer.expires_after(check_interval);
    auto next = co_await (st->listening->receive() || st->timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (next.index() == 1) {
      if (!st->listening->is_connected()) co_return;
      continue;
    }
    const pubsub_message& message = std::get<0>(next);
    if (message.type != pubsub_message::kind::message) continue;
    if (const auto primary = switched_primary(st->config.sentinel.master_name, message.payload)) {
      st->log(log_level::info, "+switch-master: the primary is now " + to_string(*primary));
      st->on_switch(*primary);
    }
  }
}

// The sentinels in turn: the next at once when one fails or is lost, but a pause of
// reconnect_max_delay after the last of the list, so that sentinels all down cost little.
awaitable<void> watch(std::shared_ptr<sentinel_watch::state> st) {
  const auto& sentinels = st->config.sentinel.sentinels;
  for (std::size_t next = 0; !st->stopped; next = (next + 1) % sentinels.size()) {
    try {
      co_await listen(st, sentinels[next]);
    } catch (const std::exception& e) {
      if (!st->stopped) st->log(log_level::warning, "sentinel " + to_string(sentinels[next]) + ": " + e.what());
    }
    st->listening.reset();
    if (!st->stopped && next + 1 == sentinels.size()) {
      st->timer.expires_after(st->config.reconnect_max_delay);
      co_await st->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
}

}  // namespace

sentinel_watch::sentinel_watch(asio::any_io_executor executor, const connection_config& config,
                               std::function<void(const host_port&)> on_switch)
    : state_(std::make_shared<state>(std::move(executor), config, std::move(on_switch))) {
  asio::co_spawn(state_->executor, watch(state_), asio::detached);
}

sentinel_watch::~sentinel_watch() {
  state_->stopped = true;
  state_->timer.cancel();
  if (state_->listening) state_->listening->close();
}

}  // namespace rapyer::detail

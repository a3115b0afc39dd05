#include "rapyer/subscription.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <list>
#include <optional>
#include <utility>

#include "rapyer/connection.hpp"
#include "rapyer/error.hpp"

namespace rapyer {
namespace detail {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

class subscription_impl {
 public:
  subscription_impl(asio::any_io_executor executor, const subscription_options& options)
      : executor_(std::move(executor)), state_(options.capacity) {}

  // The connection's handlers hold a weak pointer: pushes that arrive after the handle is gone go
  // nowhere.
  void attach(const std::shared_ptr<subscription_impl>& self, connection_config config) {
    config.auto_reconnect = true;
    const std::weak_ptr<subscription_impl> weak = self;
    connection_.emplace(executor_, std::move(config),
                        push_handlers{
                            .on_push =
                                [weak](reply&& push) {
                                  if (auto impl = weak.lock()) impl->on_push(std::move(push));
                                },
                            .on_connected =
                                [weak] {
                                  if (auto impl = weak.lock()) impl->resubscribe();
                                },
                            .on_lost =
                                [weak](std::string_view reason) {
                                  if (auto impl = weak.lock()) impl->on_lost(reason);
                                },
                        });
  }

  connection& conn() { return *connection_; }
  const connection& conn() const { return *connection_; }
  const pubsub_state& state() const { return state_; }

  awaitable<pubsub_message> receive() {
    for (;;) {
      throw_if_closed();
      // Woken by a push in the same turn as the caller cancelled: a message taken now would be
      // discarded with the cancelled operation, so it stays in the buffer.
      if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
        throw boost::system::system_error(asio::error::operation_aborted);
      }
      if (auto message = state_.next()) co_return std::move(*message);
      co_await sleep(clock::time_point::max());
    }
  }

  awaitable<void> change(pubsub_target target, std::vector<std::string> names, bool subscribing) {
    throw_if_closed();
    if (names.empty()) throw usage_error("pub/sub: subscribe and unsubscribe need at least one name");
    connection_->send(subscribing ? state_.subscribe(target, names) : state_.unsubscribe(target, names));
    const auto timeout = connection_->config().command_timeout;
    const auto deadline = timeout.count() > 0 ? clock::now() + timeout : clock::time_point::max();
    const auto done = [&] {
      return std::ranges::all_of(names,
                                 [&](const auto& name) { return state_.confirmed(target, name) == subscribing; });
    };
    while (!done()) {
      throw_if_closed();
      if (clock::now() >= deadline) {
        throw timeout_error(connection_->config().endpoint() + ": pub/sub: no confirmation within the command timeout");
      }
      co_await sleep(deadline);
    }
  }

  void close() {
    closed_ = true;
    connection_->close();
    wake();
  }

 private:
  // A coroutine waiting for a push, a loss or close(); wake() cancels its timer.
  struct sleeper {
    asio::steady_timer timer;
    bool woken = false;
  };

  void on_push(reply&& push) {
    state_.on_push(std::move(push));
    wake();
  }

  void on_lost(std::string_view reason) {
    state_.on_lost(reason);
    wake();
  }

  // Sends are dropped while disconnected, so whatever is wanted is sent again on every connect.
  void resubscribe() {
    const request req = state_.resubscribe();
    if (!req.empty()) connection_->send(req);
  }

  void wake() {
    for (sleeper* s : sleepers_) {
      s->woken = true;
      s->timer.cancel();
    }
  }

  void throw_if_closed() const {
    if (closed_) throw connection_error(connection_->config().endpoint() + ": subscription closed");
  }

  // Returns when woken or at the deadline; throws system_error(operation_aborted) when the
  // caller's cancellation fires.
  awaitable<void> sleep(clock::time_point deadline) {
    sleeper s{asio::steady_timer(executor_, deadline)};
    sleepers_.push_front(&s);
    const auto registration = sleepers_.begin();
    struct unregister {
      std::list<sleeper*>& sleepers;
      std::list<sleeper*>::iterator it;
      ~unregister() { sleepers.erase(it); }
    } guard{sleepers_, registration};
    auto [ec] = co_await s.timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted && !s.woken) throw boost::system::system_error(ec);
  }

  asio::any_io_executor executor_;
  pubsub_state state_;
  std::list<sleeper*> sleepers_;
  bool closed_ = false;
  std::optional<connection> connection_;  // set by attach()
};

}  // namespace detail

awaitable<subscription> subscription::connect(boost::asio::any_io_executor executor, connection_config config,
                                              subscription_options options) {
  auto impl = std::make_shared<detail::subscription_impl>(executor, options);
  impl->attach(impl, std::move(config));
  subscription result(impl);
  co_await impl->conn().connect();
  co_return result;
}

subscription::subscription(std::shared_ptr<detail::subscription_impl> impl) : impl_(std::move(impl)) {}
subscription::subscription(subscription&&) noexcept = default;

subscription& subscription::operator=(subscription&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

subscription::~subscription() {
  if (impl_) impl_->close();
}

awaitable<pubsub_message> subscription::receive() {
  auto impl = impl_;  // the handle may be moved from while we wait
  co_return co_await impl->receive();
}

awaitable<void> subscription::subscribe(std::vector<std::string> channels) {
  auto impl = impl_;
  co_await impl->change(detail::pubsub_target::channel, std::move(channels), true);
}

awaitable<void> subscription::psubscribe(std::vector<std::string> patterns) {
  auto impl = impl_;
  co_await impl->change(detail::pubsub_target::pattern, std::move(patterns), true);
}

awaitable<void> subscription::unsubscribe(std::vector<std::string> channels) {
  auto impl = impl_;
  co_await impl->change(detail::pubsub_target::channel, std::move(channels), false);
}

awaitable<void> subscription::punsubscribe(std::vector<std::string> patterns) {
  auto impl = impl_;
  co_await impl->change(detail::pubsub_target::pattern, std::move(patterns), false);
}

void subscription::close() { impl_->close(); }
bool subscription::is_connected() const noexcept { return impl_->conn().is_connected(); }
std::size_t subscription::dropped() const noexcept { return impl_->state().dropped(); }
std::size_t subscription::buffered() const noexcept { return impl_->state().buffered(); }
std::size_t subscription::reconnect_count() const noexcept { return impl_->conn().reconnect_count(); }

}  // namespace rapyer

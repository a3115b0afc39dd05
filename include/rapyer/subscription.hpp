// Pub/sub: a subscription owns a dedicated connection in push mode, buffers what it receives, and
// subscribes again by itself after a reconnect, reporting the gap to its receiver.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <concepts>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/config.hpp"
#include "rapyer/detail/command_interface.hpp"
#include "rapyer/detail/pubsub_state.hpp"

namespace rapyer {

namespace detail {
class subscription_impl;

template <class... Names>
concept pubsub_names = sizeof...(Names) > 0 && (std::convertible_to<const Names&, std::string_view> && ...);

// Built outside the caller's coroutine: GCC 12 miscompiles a braced list inside a co_await.
template <class... Names>
std::vector<std::string> name_list(const Names&... names) {
  return {std::string(std::string_view(names))...};
}
}  // namespace detail

struct subscription_options {
  /// How many messages (and gaps) wait for receive(). When a message arrives to a full buffer the
  /// oldest one is dropped: the read loop never blocks, the newest messages are kept, and the
  /// receiver gets a gap counting the dropped messages before the oldest message kept.
  std::size_t capacity = 10000;
};

/// A movable handle; destroying it closes the connection. Messages published while the connection
/// is down are lost: the receiver sees a gap (pubsub_message::reconnected) where that happened.
/// Like connection, use it from coroutines on its executor.
class subscription {
 public:
  /// Connects a dedicated connection (always reconnecting by itself, whatever
  /// config.auto_reconnect says) with nothing subscribed yet. Throws as connection::connect does.
  static awaitable<subscription> connect(boost::asio::any_io_executor executor, connection_config config,
                                         subscription_options options = {});

  subscription(subscription&&) noexcept;
  subscription& operator=(subscription&&) noexcept;
  ~subscription();

  /// The next message or gap, oldest first; waits for one. Honours Asio's per-operation
  /// cancellation (throws system_error(operation_aborted)); throws connection_error once closed.
  awaitable<pubsub_message> receive();

  /// Each takes at least one name (else usage_error). They complete when the server has confirmed
  /// every name, so that a message published afterwards is received, or throw timeout_error after
  /// command_timeout (the change still takes effect when the connection allows). Messages of a
  /// channel or pattern are no longer delivered from the moment it is unsubscribed, even those
  /// already on their way.
  awaitable<void> subscribe(std::vector<std::string> channels);
  awaitable<void> psubscribe(std::vector<std::string> patterns);
  awaitable<void> unsubscribe(std::vector<std::string> channels);
  awaitable<void> punsubscribe(std::vector<std::string> patterns);
  /// `co_await sub.subscribe("a", "b")`.
  template <class... Channels>
  requires detail::pubsub_names<Channels...> awaitable<void> subscribe(const Channels&... channels) {
    return subscribe(detail::name_list(channels...));
  }
  template <class... Patterns>
  requires detail::pubsub_names<Patterns...> awaitable<void> psubscribe(const Patterns&... patterns) {
    return psubscribe(detail::name_list(patterns...));
  }
  template <class... Channels>
  requires detail::pubsub_names<Channels...> awaitable<void> unsubscribe(const Channels&... channels) {
    return unsubscribe(detail::name_list(channels...));
  }
  template <class... Patterns>
  requires detail::pubsub_names<Patterns...> awaitable<void> punsubscribe(const Patterns&... patterns) {
    return punsubscribe(detail::name_list(patterns...));
  }

  /// Closes the connection; receive() and pending calls throw connection_error.
  void close();

  bool is_connected() const noexcept;
  /// Messages discarded because the buffer was full, since the start.
  std::size_t dropped() const noexcept;
  /// Messages and gaps waiting for receive().
  std::size_t buffered() const noexcept;
  /// How many times the connection was re-established (and resubscribed) after a loss.
  std::size_t reconnect_count() const noexcept;

 private:
  explicit subscription(std::shared_ptr<detail::subscription_impl> impl);
  std::shared_ptr<detail::subscription_impl> impl_;
};

}  // namespace rapyer

// The decisions of a pub/sub subscription without any I/O: which channels and patterns are wanted
// and confirmed, what each push means, the bounded buffer of messages and gaps, and the requests
// that (re)subscribe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/reply.hpp"
#include "rapyer/request.hpp"

namespace rapyer {

/// What subscription::receive() yields: a published message, or a gap marking where messages
/// may be missing.
struct pubsub_message {
  enum class kind : std::uint8_t { message, gap };

  kind type = kind::message;
  /// message: the channel it was published to.
  std::string channel;
  /// message: the pattern it matched (psubscribe); empty for a channel subscription.
  std::string pattern;
  /// message: what was published.
  std::string payload;
  /// gap: the connection was lost, then reconnected and subscribed again by itself; whatever was
  /// published in between is lost.
  bool reconnected = false;
  /// gap: why the connection was lost.
  std::string reason;
  /// gap: messages discarded because the buffer was full (the oldest go first).
  std::size_t dropped = 0;

  bool is_gap() const noexcept { return type == kind::gap; }
};

namespace detail {

enum class pubsub_target : std::uint8_t { channel, pattern };

class pubsub_state {
 public:
  /// capacity: how many messages and gaps the buffer holds (at least 1).
  explicit pubsub_state(std::size_t capacity);

  /// Records the names as wanted and returns the command that subscribes to them.
  request subscribe(pubsub_target target, const std::vector<std::string>& names);
  /// Records the names as no longer wanted and returns the command that unsubscribes.
  request unsubscribe(pubsub_target target, const std::vector<std::string>& names);
  /// After a (re)connect: the commands that subscribe to everything wanted (empty if nothing is).
  request resubscribe() const;

  /// One push read from the connection: a message is buffered (unless its channel or pattern was
  /// unsubscribed meanwhile), a confirmation updates what is confirmed, anything else is ignored.
  void on_push(reply&& push);
  /// The connection was lost: nothing is confirmed any more, and a gap goes into the buffer.
  void on_lost(std::string_view reason);

  /// Whether the server confirmed the subscription to `name` (and no unsubscribe since).
  bool confirmed(pubsub_target target, const std::string& name) const;
  /// The next message or gap, oldest first.
  std::optional<pubsub_message> next();
  /// Messages and gaps waiting in the buffer.
  std::size_t buffered() const noexcept { return buffer_.size() + (overflow_ ? 1 : 0); }
  /// Messages discarded for overflow since the start.
  std::size_t dropped() const noexcept { return dropped_; }

 private:
  void enqueue(pubsub_message&& message);
  std::set<std::string>& wanted_set(pubsub_target target) {
    return target == pubsub_target::channel ? channels_ : patterns_;
  }
  const std::set<std::string>& confirmed_set(pubsub_target target) const {
    return target == pubsub_target::channel ? confirmed_channels_ : confirmed_patterns_;
  }

  std::size_t capacity_;
  std::set<std::string> channels_;
  std::set<std::string> patterns_;
  std::set<std::string> confirmed_channels_;
  std::set<std::string> confirmed_patterns_;
  std::deque<pubsub_message> buffer_;
  // The gap standing for messages dropped from the front of the buffer; delivered before it.
  std::optional<pubsub_message> overflow_;
  std::size_t dropped_ = 0;
};

}  // namespace detail
}  // namespace rapyer

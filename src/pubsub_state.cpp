#include "rapyer/detail/pubsub_state.hpp"

#include <algorithm>
#include <utility>

namespace rapyer::detail {

namespace {

const char* command_for(pubsub_target target, bool subscribing) {
  if (target == pubsub_target::channel) return subscribing ? "SUBSCRIBE" : "UNSUBSCRIBE";
  return subscribing ? "PSUBSCRIBE" : "PUNSUBSCRIBE";
}

pubsub_message published(const std::string& channel, const std::string& pattern, const std::string& payload) {
  pubsub_message message;
  message.channel = channel;
  message.pattern = pattern;
  message.payload = payload;
  return message;
}

pubsub_message gap() {
  pubsub_message marker;
  marker.type = pubsub_message::kind::gap;
  return marker;
}

}  // namespace

pubsub_state::pubsub_state(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

request pubsub_state::subscribe(pubsub_target target, const std::vector<std::string>& names) {
  wanted_set(target).insert(names.begin(), names.end());
  request req;
  req.push(command_for(target, true), names);
  return req;
}

request pubsub_state::unsubscribe(pubsub_target target, const std::vector<std::string>& names) {
  auto& wanted = wanted_set(target);
  for (const auto& name : names) wanted.erase(name);
  request req;
  req.push(command_for(target, false), names);
  return req;
}

request pubsub_state::resubscribe() const {
  request req;
  if (!channels_.empty()) req.push("SUBSCRIBE", channels_);
  if (!patterns_.empty()) req.push("PSUBSCRIBE", patterns_);
  return req;
}

void pubsub_state::on_push(reply&& push) {
  // Anything but a pub/sub array (a PONG outside subscribed mode, an error) carries nothing.
  if (!push.is_array()) return;
  const auto& parts = push.as_array();
  const auto text = [&](std::size_t i) -> const std::string* {
    return i < parts.size() && parts[i].is_string() ? &parts[i].as_string() : nullptr;
  };
  const std::string* type = text(0);
  if (type == nullptr) return;
  if (*type == "message" && text(1) && text(2)) {
    // Sent before an unsubscribe took effect: the caller no longer wants it.
    if (!channels_.contains(*text(1))) return;
    enqueue(published(*text(1), {}, *text(2)));
  } else if (*type == "pmessage" && text(1) && text(2) && text(3)) {
    if (!patterns_.contains(*text(1))) return;
    enqueue(published(*text(2), *text(1), *text(3)));
  } else if ((*type == "subscribe" || *type == "psubscribe") && text(1)) {
    (*type == "subscribe" ? confirmed_channels_ : confirmed_patterns_).insert(*text(1));
  } else if ((*type == "unsubscribe" || *type == "punsubscribe") && text(1)) {
    (*type == "unsubscribe" ? confirmed_channels_ : confirmed_patterns_).erase(*text(1));
  }
}

void pubsub_state::on_lost(std::string_view reason) {
  confirmed_channels_.clear();
  confirmed_patterns_.clear();
  // Losses with nothing received in between are one gap.
  if (!buffer_.empty() && buffer_.back().is_gap()) {
    buffer_.back().reason = reason;
    return;
  }
  pubsub_message lost = gap();
  lost.reconnected = true;
  lost.reason = reason;
  enqueue(std::move(lost));
}

bool pubsub_state::confirmed(pubsub_target target, const std::string& name) const {
  return confirmed_set(target).contains(name);
}

std::optional<pubsub_message> pubsub_state::next() {
  std::optional<pubsub_message> result;
  if (overflow_) {
    result.swap(overflow_);
  } else if (!buffer_.empty()) {
    result.emplace(std::move(buffer_.front()));
    buffer_.pop_front();
  }
  return result;
}

// Full: the oldest entry makes room. A dropped message is counted in the overflow gap, which is
// delivered first; a dropped gap is folded into it, so that no loss goes unreported.
void pubsub_state::enqueue(pubsub_message&& message) {
  if (buffer_.size() >= capacity_) {
    if (!overflow_) overflow_ = gap();
    pubsub_message& oldest = buffer_.front();
    if (oldest.is_gap()) {
      overflow_->reconnected = overflow_->reconnected || oldest.reconnected;
      overflow_->reason = std::move(oldest.reason);
      overflow_->dropped += oldest.dropped;
    } else {
      ++overflow_->dropped;
      ++dropped_;
    }
    buffer_.pop_front();
  }
  buffer_.push_back(std::move(message));
}

}  // namespace rapyer::detail

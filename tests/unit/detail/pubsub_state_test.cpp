#include "rapyer/detail/pubsub_state.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using rapyer::pubsub_message;
using rapyer::reply;
using rapyer::request;
using rapyer::detail::pubsub_state;
using rapyer::detail::pubsub_target;

reply push(std::vector<std::string> parts) {
  std::vector<reply> elements;
  for (auto& part : parts) elements.push_back(reply::string(std::move(part)));
  return reply::array(std::move(elements));
}

reply confirmation(const std::string& type, const std::string& name, long long count) {
  return reply::array({reply::string(type), reply::string(name), reply::integer(count)});
}

std::string payloads(pubsub_state& state) {
  std::string seen;
  while (auto m = state.next()) {
    seen +=
        m->is_gap() ? "[gap " + std::to_string(m->dropped) + (m->reconnected ? " " + m->reason : "") + "]" : m->payload;
    seen += ' ';
  }
  return seen;
}

TEST(PubsubState, BuildsSubscribeAndResubscribeCommands) {
  pubsub_state state(10);
  request expected;
  expected.push("SUBSCRIBE", "b", "a");
  EXPECT_EQ(state.subscribe(pubsub_target::channel, {"b", "a"}).payload(), expected.payload());
  (void)state.subscribe(pubsub_target::pattern, {"p*"});
  (void)state.unsubscribe(pubsub_target::channel, {"b"});
  request again;
  again.push("SUBSCRIBE", "a");
  again.push("PSUBSCRIBE", "p*");
  EXPECT_EQ(state.resubscribe().payload(), again.payload());
  (void)state.unsubscribe(pubsub_target::channel, {"a"});
  (void)state.unsubscribe(pubsub_target::pattern, {"p*"});
  EXPECT_TRUE(state.resubscribe().empty());
}

TEST(PubsubState, TracksConfirmations) {
  pubsub_state state(10);
  (void)state.subscribe(pubsub_target::channel, {"a"});
  (void)state.subscribe(pubsub_target::pattern, {"a"});
  EXPECT_FALSE(state.confirmed(pubsub_target::channel, "a"));
  state.on_push(confirmation("subscribe", "a", 1));
  EXPECT_TRUE(state.confirmed(pubsub_target::channel, "a"));
  EXPECT_FALSE(state.confirmed(pubsub_target::pattern, "a"));
  state.on_push(confirmation("psubscribe", "a", 2));
  EXPECT_TRUE(state.confirmed(pubsub_target::pattern, "a"));
  state.on_push(confirmation("unsubscribe", "a", 1));
  EXPECT_FALSE(state.confirmed(pubsub_target::channel, "a"));
  EXPECT_TRUE(state.confirmed(pubsub_target::pattern, "a"));
  state.on_lost("read failed");
  EXPECT_FALSE(state.confirmed(pubsub_target::pattern, "a"));
  EXPECT_EQ(state.buffered(), 1U);  // the gap
}

TEST(PubsubState, DeliversMessagesAndPatternMessagesInOrder) {
  pubsub_state state(10);
  (void)state.subscribe(pubsub_target::channel, {"news"});
  (void)state.subscribe(pubsub_target::pattern, {"user:*"});
  state.on_push(push({"message", "news", "one"}));
  state.on_push(push({"pmessage", "user:*", "user:7", "two"}));
  state.on_push(push({"pong", ""}));  // a health check's answer carries nothing
  state.on_push(reply::status("PONG"));
  auto first = state.next();
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->is_gap());
  EXPECT_EQ(first->channel, "news");
  EXPECT_EQ(first->pattern, "");
  EXPECT_EQ(first->payload, "one");
  auto second = state.next();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->channel, "user:7");
  EXPECT_EQ(second->pattern, "user:*");
  EXPECT_EQ(second->payload, "two");
  EXPECT_FALSE(state.next());
}

TEST(PubsubState, DropsMessagesOfWhatWasUnsubscribed) {
  pubsub_state state(10);
  (void)state.subscribe(pubsub_target::channel, {"a", "b"});
  (void)state.unsubscribe(pubsub_target::channel, {"a"});
  state.on_push(push({"message", "a", "late"}));
  state.on_push(push({"message", "b", "kept"}));
  state.on_push(push({"pmessage", "x*", "x1", "never asked"}));
  EXPECT_EQ(payloads(state), "kept ");
}

TEST(PubsubState, ReportsALossAsOneGapInItsPlace) {
  pubsub_state state(10);
  (void)state.subscribe(pubsub_target::channel, {"c"});
  state.on_push(push({"message", "c", "1"}));
  state.on_lost("first");
  state.on_lost("second");  // nothing received in between: still one gap
  state.on_push(push({"message", "c", "2"}));
  EXPECT_EQ(payloads(state), "1 [gap 0 second] 2 ");
}

TEST(PubsubState, OverflowDropsTheOldestAndCountsThem) {
  pubsub_state state(3);
  (void)state.subscribe(pubsub_target::channel, {"c"});
  for (int i = 1; i <= 7; ++i) state.on_push(push({"message", "c", std::to_string(i)}));
  EXPECT_EQ(state.dropped(), 4U);
  EXPECT_EQ(state.buffered(), 4U);  // the gap and three messages
  EXPECT_EQ(payloads(state), "[gap 4] 5 6 7 ");
  // A later overflow starts a new count; the total goes on.
  for (int i = 8; i <= 12; ++i) state.on_push(push({"message", "c", std::to_string(i)}));
  EXPECT_EQ(payloads(state), "[gap 2] 10 11 12 ");
  EXPECT_EQ(state.dropped(), 6U);
}

TEST(PubsubState, OverflowFoldsADroppedLossIntoItsGap) {
  pubsub_state state(2);
  (void)state.subscribe(pubsub_target::channel, {"c"});
  state.on_push(push({"message", "c", "1"}));
  state.on_lost("killed");
  for (int i = 2; i <= 4; ++i) state.on_push(push({"message", "c", std::to_string(i)}));
  // 1, the loss and 2 made room: one gap says both.
  EXPECT_EQ(payloads(state), "[gap 2 killed] 3 4 ");
  EXPECT_EQ(state.dropped(), 2U);
}

TEST(PubsubState, IgnoresMalformedPushes) {
  pubsub_state state(10);
  (void)state.subscribe(pubsub_target::channel, {"c"});
  state.on_push(reply::array({reply::string("message"), reply::string("c")}));
  state.on_push(reply::array({reply::string("message"), reply::integer(1), reply::string("x")}));
  state.on_push(reply::error("ERR unknown command"));
  state.on_push(reply::array({}));
  EXPECT_FALSE(state.next());
}

}  // namespace

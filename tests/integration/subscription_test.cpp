// Pub/sub through client::subscribe: order over many messages, resubscription after the
// connection is killed (with the gap reported), patterns, unsubscribe, overflow, keyspace
// notifications and cancellation.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "rapyer/client.hpp"
#include "rapyer/error.hpp"
#include "rapyer/subscription.hpp"
#include "test_support.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using rapyer::awaitable;
using rapyer::client;
using rapyer::pubsub_message;
using rapyer::request;
using rapyer::subscription;
using rapyer::test::server_url;
using rapyer::test::sleep_for;

class SubscriptionTest : public rapyer::test::redis_test {};

// Publishes "<first>" … "<last>" to `channel` in one pipelined batch; each must reach exactly one
// subscriber.
awaitable<void> publish_range(client& redis, const std::string& channel, int first, int last) {
  request req;
  for (int i = first; i <= last; ++i) req.push("PUBLISH", channel, std::to_string(i));
  const auto replies = co_await redis.execute(std::move(req));
  // Throws rather than waiting for messages that nobody received.
  for (const auto& r : replies) {
    if (r.as_integer() != 1) throw std::runtime_error(channel + ": " + std::to_string(r.as_integer()) + " receivers");
  }
}

// Throws at the first difference: thousands of failures would say nothing more.
void expect_message(const pubsub_message& m, const std::string& channel, int number) {
  if (m.is_gap() || m.channel != channel || m.payload != std::to_string(number)) {
    throw std::runtime_error("expected " + channel + " " + std::to_string(number) + ", received " +
                             (m.is_gap() ? "a gap" : m.channel + " " + m.payload));
  }
}

awaitable<void> expect_range(subscription& sub, const std::string& channel, int first, int last) {
  for (int i = first; i <= last; ++i) expect_message(co_await sub.receive(), channel, i);
}

// Until the server counts `expected` subscribers of `channel` (a resubscription is under way).
awaitable<void> wait_for_subscribers(client& redis, const std::string& channel, long long expected) {
  for (int i = 0; i < 1000; ++i) {
    const auto counts = co_await redis.execute_one(request().push("PUBSUB", "NUMSUB", channel));
    if (counts.as_array().at(1).as_integer() == expected) co_return;
    co_await sleep_for(10ms);
  }
  throw std::runtime_error(channel + " never reached " + std::to_string(expected) + " subscribers");
}

TEST_F(SubscriptionTest, TenThousandMessagesInOrderAcrossAKilledConnection) {
  run([&]() -> awaitable<void> {
    client redis(co_await asio::this_coro::executor, server_url());
    co_await redis.connect();
    subscription sub = co_await redis.subscribe("numbers");
    co_await publish_range(redis, "numbers", 1, 5000);

    // Killed with part of the first half possibly unread: what arrives is a prefix, in order.
    const auto killed = co_await redis.execute_one(request().push("CLIENT", "KILL", "TYPE", "pubsub"));
    EXPECT_EQ(killed.as_integer(), 1);
    int received = 0;
    for (;;) {
      const pubsub_message m = co_await sub.receive();
      if (m.is_gap()) {
        EXPECT_TRUE(m.reconnected);
        EXPECT_EQ(m.dropped, 0U);
        EXPECT_FALSE(m.reason.empty());
        break;
      }
      expect_message(m, "numbers", ++received);
    }
    EXPECT_LE(received, 5000);

    co_await wait_for_subscribers(redis, "numbers", 1);
    EXPECT_EQ(sub.reconnect_count(), 1U);
    co_await publish_range(redis, "numbers", 5001, 10000);
    co_await expect_range(sub, "numbers", 5001, 10000);
    EXPECT_EQ(sub.buffered(), 0U);
    EXPECT_EQ(sub.dropped(), 0U);
  }());
}

TEST_F(SubscriptionTest, PatternsCarryTheMatchedPatternUntilPunsubscribed) {
  run([&]() -> awaitable<void> {
    client redis(co_await asio::this_coro::executor, server_url());
    co_await redis.connect();
    subscription sub = co_await redis.psubscribe("news.*");
    co_await sub.subscribe("plain");
    EXPECT_EQ((co_await redis.execute_one(request().push("PUBLISH", "news.sport", "goal"))).as_integer(), 1);
    EXPECT_EQ((co_await redis.execute_one(request().push("PUBLISH", "weather", "rain"))).as_integer(), 0);
    EXPECT_EQ((co_await redis.execute_one(request().push("PUBLISH", "plain", "text"))).as_integer(), 1);
    const pubsub_message matched = co_await sub.receive();
    EXPECT_EQ(matched.pattern, "news.*");
    EXPECT_EQ(matched.channel, "news.sport");
    EXPECT_EQ(matched.payload, "goal");
    const pubsub_message plain = co_await sub.receive();
    EXPECT_EQ(plain.pattern, "");
    EXPECT_EQ(plain.channel, "plain");
    EXPECT_EQ(plain.payload, "text");

    co_await sub.punsubscribe("news.*");
    EXPECT_EQ((co_await redis.execute_one(request().push("PUBLISH", "news.sport", "late"))).as_integer(), 0);
    EXPECT_EQ(sub.buffered(), 0U);
  }());
}

TEST_F(SubscriptionTest, UnsubscribedChannelStopsWhileOthersGoOn) {
  run([&]() -> awaitable<void> {
    client redis(co_await asio::this_coro::executor, server_url());
    co_await redis.connect();
    subscription sub = co_await redis.subscribe("a", "b");
    co_await sub.unsubscribe("a");
    EXPECT_EQ((co_await redis.execute_one(request().push("PUBLISH", "a", "gone"))).as_integer(), 0);
    EXPECT_EQ((co_await redis.execute_one(request().push("PUBLISH", "b", "kept"))).as_integer(), 1);
    const pubsub_message m = co_await sub.receive();
    EXPECT_EQ(m.channel, "b");
    EXPECT_EQ(m.payload, "kept");
    EXPECT_EQ(sub.buffered(), 0U);
  }());
}

TEST_F(SubscriptionTest, FullBufferDropsTheOldestAndReportsHowMany) {
  run([&]() -> awaitable<void> {
    client redis(co_await asio::this_coro::executor, server_url());
    co_await redis.connect();
    const std::vector<std::string> channels{"burst"};
    const rapyer::subscription_options options{.capacity = 10};
    subscription sub = co_await redis.subscribe(channels, options);
    co_await publish_range(redis, "burst", 1, 25);
    // Its confirmation follows the 25 messages on the connection: all of them are in by then.
    co_await sub.subscribe("barrier");
    EXPECT_EQ(sub.dropped(), 15U);
    const pubsub_message gap = co_await sub.receive();
    EXPECT_TRUE(gap.is_gap());
    EXPECT_EQ(gap.dropped, 15U);
    EXPECT_FALSE(gap.reconnected);
    co_await expect_range(sub, "burst", 16, 25);
    EXPECT_EQ(sub.buffered(), 0U);
  }());
}

TEST_F(SubscriptionTest, KeyspaceNotificationsArriveThroughAPattern) {
  run([&]() -> awaitable<void> {
    client redis(co_await asio::this_coro::executor, server_url());
    co_await redis.connect();
    co_await redis.execute_one(request().push("CONFIG", "SET", "notify-keyspace-events", "KEA"));
    subscription sub = co_await redis.psubscribe("__keyspace@0__:*");
    co_await redis.execute_one(request().push("SET", "watched", "1"));
    const pubsub_message event = co_await sub.receive();
    co_await redis.execute_one(request().push("CONFIG", "SET", "notify-keyspace-events", ""));
    EXPECT_EQ(event.pattern, "__keyspace@0__:*");
    EXPECT_EQ(event.channel, "__keyspace@0__:watched");
    EXPECT_EQ(event.payload, "set");
  }());
}

TEST_F(SubscriptionTest, CancelledReceiveReturnsPromptlyAndTheSubscriptionGoesOn) {
  run([&]() -> awaitable<void> {
    client redis(co_await asio::this_coro::executor, server_url());
    co_await redis.connect();
    subscription sub = co_await redis.subscribe("quiet");
    asio::steady_timer timer(co_await asio::this_coro::executor, 50ms);
    const auto start = std::chrono::steady_clock::now();
    const auto result = co_await (sub.receive() || timer.async_wait(asio::use_awaitable));
    EXPECT_EQ(result.index(), 1U);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);

    co_await redis.execute_one(request().push("PUBLISH", "quiet", "now"));
    EXPECT_EQ((co_await sub.receive()).payload, "now");
  }());
}

TEST_F(SubscriptionTest, ReceiveAfterCloseThrows) {
  run([&]() -> awaitable<void> {
    client redis(co_await asio::this_coro::executor, server_url());
    co_await redis.connect();
    subscription sub = co_await redis.subscribe("closing");
    sub.close();
    EXPECT_FALSE(sub.is_connected());
    EXPECT_THROW(co_await sub.receive(), rapyer::connection_error);
    redis.close();
    EXPECT_THROW(co_await redis.subscribe("closing"), rapyer::connection_error);
  }());
}

}  // namespace

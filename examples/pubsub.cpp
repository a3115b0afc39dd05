// Pub/sub: a subscription on its own connection, channels and patterns, keyspace notifications,
// and the gap a receiver sees when the connection is lost and resubscribed by itself.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "example_main.hpp"

namespace asio = boost::asio;

rapyer::awaitable<long long> publish(rapyer::client& redis, const char* channel, const char* payload) {
  co_return (co_await redis.execute_one(rapyer::request().push("PUBLISH", channel, payload))).as_integer();
}

rapyer::awaitable<void> pubsub() {
  rapyer::client& redis = rapyer::default_client();

  // Returns once the server confirmed: what is published from now on is received.
  rapyer::subscription sub = co_await redis.subscribe("orders");
  co_await sub.psubscribe("alerts.*");
  co_await publish(redis, "orders", "order 1");
  co_await publish(redis, "alerts.disk", "disk 91% full");
  const rapyer::pubsub_message order = co_await sub.receive();
  const rapyer::pubsub_message alert = co_await sub.receive();
  std::cout << order.channel << ": " << order.payload << '\n';
  std::cout << alert.channel << " (matched " << alert.pattern << "): " << alert.payload << '\n';
  check(order.payload == "order 1" && alert.pattern == "alerts.*", "channel and pattern messages");

  // Keyspace notifications are pub/sub messages too, once the server is told to send them.
  co_await redis.execute("CONFIG", "SET", "notify-keyspace-events", "KEA");
  co_await sub.psubscribe("__keyspace@0__:example:*");
  co_await redis.execute("SET", "example:stock", 7);
  const rapyer::pubsub_message event = co_await sub.receive();
  std::cout << event.channel << ": " << event.payload << '\n';
  check(event.payload == "set", "keyspace notification");
  co_await redis.execute("CONFIG", "SET", "notify-keyspace-events", "");

  // The connection is lost: the receiver gets a gap, since whatever was published until the
  // subscription is back is lost; it reconnects and subscribes again by itself.
  co_await redis.execute("CLIENT", "KILL", "TYPE", "pubsub");
  const rapyer::pubsub_message gap = co_await sub.receive();
  std::cout << "gap: connection lost (" << gap.reason << "), messages may be missing\n";
  check(gap.is_gap() && gap.reconnected, "gap after a lost connection");
  asio::steady_timer pause(co_await asio::this_coro::executor);
  while (co_await publish(redis, "orders", "order 2") == 0) {  // nobody subscribed yet
    pause.expires_after(std::chrono::milliseconds(10));
    co_await pause.async_wait(asio::use_awaitable);
  }
  check((co_await sub.receive()).payload == "order 2", "received after resubscribing");

  // A receive that waits too long: cancel it with a timer (or any Asio cancellation).
  using namespace asio::experimental::awaitable_operators;
  pause.expires_after(std::chrono::milliseconds(20));
  const auto waited = co_await (sub.receive() || pause.async_wait(asio::use_awaitable));
  check(waited.index() == 1, "nothing more was published");
  std::cout << "dropped for overflow: " << sub.dropped() << '\n';
}

int main() { return run_example("pubsub", pubsub); }

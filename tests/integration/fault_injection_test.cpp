// Faults between rapyer and redis-server, injected by a loopback proxy: replies and requests cut
// midway, a stalled server, a refusing endpoint, a slow link. None may hang, pair a reply with the
// wrong request, or leave a model half-saved.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "fault_proxy.hpp"
#include "rapyer/rapyer.hpp"
#include "test_support.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using rapyer::awaitable;
using rapyer::connection;
using rapyer::connection_config;
using rapyer::test::direction;
using rapyer::test::fault_proxy;
using rapyer::test::sleep_for;
using clock_type = std::chrono::steady_clock;

struct Profile : rapyer::AtomicRedisModel<Profile> {
  rapyer::RedisStr name;
  rapyer::RedisInt version;
  rapyer::RedisList<std::string> items;
  rapyer::RedisDict<std::string, std::string> settings;
};
BOOST_DESCRIBE_STRUCT(Profile, (), (name, version, items, settings))

Profile make_profile(const std::string& name, int version, int items) {
  Profile p;
  p.name = name;
  p.version = version;
  std::vector<std::string> list;
  for (int i = 0; i < items; ++i) list.push_back(name + "-" + std::to_string(i));
  p.items = list;
  p.settings = std::map<std::string, std::string>{{"version", std::to_string(version)}};
  return p;
}

void expect_same_profile(const Profile& a, const Profile& b) {
  EXPECT_EQ(a.name.value(), b.name.value());
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.items.value(), b.items.value());
  EXPECT_EQ(a.settings.value(), b.settings.value());
}

class FaultInjectionTest : public rapyer::test::redis_test {
 protected:
  connection_config through_proxy(const fault_proxy& proxy) const {
    auto config = connection_config::from_url(proxy.url());
    config.command_timeout = 2s;
    config.reconnect_min_delay = 10ms;
    config.reconnect_max_delay = 100ms;
    return config;
  }
  /// Sends PINGs until one succeeds; false if none did within `limit`.
  static awaitable<bool> wait_until_serving(connection& conn, std::chrono::milliseconds limit) {
    const auto deadline = clock_type::now() + limit;
    while (clock_type::now() < deadline) {
      try {
        co_await conn.execute("PING");
        co_return true;
      } catch (const rapyer::error&) {
      }
      co_await sleep_for(5ms);
    }
    co_return false;
  }
};

TEST_F(FaultInjectionTest, ReplyCutMidwayFailsThatRequestAndTheConnectionRecovers) {
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    fault_proxy proxy(executor, rapyer::test::server_port());
    connection conn(executor, through_proxy(proxy));
    co_await conn.connect();
    const std::string big(1 << 20, 'v');
    co_await conn.execute("SET", "big", big);
    co_await conn.execute("SET", "small", "s");
    proxy.cut_after(direction::to_client, 1000);  // inside the 1 MB bulk string
    bool failed_clearly = false;
    try {
      co_await conn.execute("GET", "big");
    } catch (const rapyer::connection_error& e) {
      failed_clearly = std::string(e.what()).find("closed") != std::string::npos;
      EXPECT_TRUE(failed_clearly) << e.what();
    }
    EXPECT_TRUE(failed_clearly);
    EXPECT_EQ(proxy.connections_cut(), 1u);
    EXPECT_TRUE(co_await wait_until_serving(conn, 2000ms));
    EXPECT_EQ(conn.reconnect_count(), 1u);
    const auto small = co_await conn.execute("GET", "small");
    EXPECT_EQ(small.as_string(), "s");
    const auto whole = co_await conn.execute("GET", "big");
    EXPECT_EQ(whole.as_string(), big);
  }());
}

// A save cut in the middle of its request never reaches the server: the previous version stays
// whole (read back over a direct connection). A load cut in the middle of its reply fails, and the
// next load is complete.
TEST_F(FaultInjectionTest, CutSaveLeavesThePreviousVersionAndCutLoadFails) {
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    fault_proxy proxy(executor, rapyer::test::server_port());
    connection direct(executor, connection_config::from_url(rapyer::test::server_url()));
    co_await direct.connect();
    // What Redis holds for a profile, read without the proxy.
    const auto stored = [&](const Profile& p) -> awaitable<std::string> {
      rapyer::request req;
      req.push("HMGET", p.key(), "name", "version");
      req.push("LRANGE", p.items.key(), 0, -1);
      req.push("HGETALL", p.settings.key());
      std::string text;
      for (const auto& r : co_await direct.execute(std::move(req))) text += r.to_debug_string() + "\n";
      co_return text;
    };
    auto proxied = std::make_shared<rapyer::client>(executor, rapyer::client_config{through_proxy(proxy), 1});
    co_await proxied->connect();
    rapyer::init(proxied);
    const Profile v1 = make_profile("first", 1, 100);
    co_await v1.save();
    const std::string v1_stored = co_await stored(v1);
    EXPECT_NE(v1_stored.find("first-99"), std::string::npos);

    Profile v2 = make_profile("second", 2, 20000);
    v2.set_id(v1.id());
    proxy.cut_after(direction::to_server, 50000);  // the save's request is several hundred kB
    EXPECT_THROW(co_await v2.save(), rapyer::connection_error);
    EXPECT_EQ(co_await stored(v1), v1_stored);

    connection& pooled = *proxied->connections().front();
    EXPECT_TRUE(co_await wait_until_serving(pooled, 2000ms));
    proxy.cut_after(direction::to_client, 500);  // the reply is about 1.5 kB
    EXPECT_THROW(co_await Profile::get(v1.key()), rapyer::connection_error);
    EXPECT_TRUE(co_await wait_until_serving(pooled, 2000ms));
    expect_same_profile(co_await Profile::get(v1.key()), v1);
    co_await v2.save();
    expect_same_profile(co_await Profile::get(v1.key()), v2);
    EXPECT_NE(co_await stored(v1), v1_stored);
    rapyer::teardown();
  }());
}

TEST_F(FaultInjectionTest, StalledServerTimesOutAndTheLateReplyIsNotMisdelivered) {
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    fault_proxy proxy(executor, rapyer::test::server_port());
    auto config = through_proxy(proxy);
    config.command_timeout = 300ms;
    connection conn(executor, config);
    co_await conn.connect();
    co_await conn.execute("SET", "a", "value-of-a");
    co_await conn.execute("SET", "b", "value-of-b");
    proxy.set_stalled(true);
    const auto started = clock_type::now();
    EXPECT_THROW(co_await conn.execute("GET", "a"), rapyer::timeout_error);
    const auto waited = clock_type::now() - started;
    EXPECT_GE(waited, 290ms);
    EXPECT_LT(waited, 1000ms);
    proxy.set_stalled(false);
    const auto b = co_await conn.execute("GET", "b");
    EXPECT_EQ(b.as_string(), "value-of-b");
    int correct = 0;
    int done = 0;
    for (int i = 0; i < 100; ++i) {
      asio::co_spawn(
          executor,
          [&, i]() -> awaitable<void> {
            const std::string payload = "echo-" + std::to_string(i);
            if ((co_await conn.execute("ECHO", payload)).as_string() == payload) ++correct;
          },
          [&](std::exception_ptr e) {
            EXPECT_FALSE(e);
            ++done;
          });
    }
    while (done < 100) co_await sleep_for(1ms);
    EXPECT_EQ(correct, 100);
  }());
}

// For 3 s the endpoint refuses connections: requests fail at once (no waiting for timeouts), and
// succeed again soon after it is back.
TEST_F(FaultInjectionTest, RefusedConnectionsFailFastAndRecoverAfterTheOutage) {
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    fault_proxy proxy(executor, rapyer::test::server_port());
    // Failing at once is the opt-out; by default requests wait for the reconnect (see
    // connection_health_test).
    auto config = through_proxy(proxy);
    config.wait_for_reconnect = false;
    connection conn(executor, config);
    co_await conn.connect();
    proxy.set_refusing(true);
    const auto outage_start = clock_type::now();
    int failures = 0;
    int successes_during_outage = 0;
    auto slowest_failure = clock_type::duration::zero();
    while (clock_type::now() - outage_start < 3s) {
      const auto sent = clock_type::now();
      try {
        co_await conn.execute("PING");
        ++successes_during_outage;
      } catch (const rapyer::connection_error&) {
        ++failures;
        slowest_failure = std::max(slowest_failure, clock_type::now() - sent);
      }
      co_await sleep_for(20ms);
    }
    proxy.set_refusing(false);
    const auto outage_end = clock_type::now();
    EXPECT_EQ(successes_during_outage, 0);
    EXPECT_GT(failures, 50);
    EXPECT_LT(slowest_failure, 100ms) << "requests waited during the outage";
    EXPECT_TRUE(co_await wait_until_serving(conn, 1000ms));
    EXPECT_LT(clock_type::now() - outage_end, 1000ms);
    const auto echo = co_await conn.execute("ECHO", "back");
    EXPECT_EQ(echo.as_string(), "back");
    EXPECT_GE(proxy.connections_accepted(), 2u);
  }());
}

TEST_F(FaultInjectionTest, SlowLinkKeepsRepliesPaired) {
  int correct = 0;
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    fault_proxy proxy(executor, rapyer::test::server_port());
    proxy.set_delay(3ms);
    connection conn(executor, through_proxy(proxy));
    co_await conn.connect();
    int done = 0;
    for (int i = 0; i < 500; ++i) {
      asio::co_spawn(
          executor,
          [&, i]() -> awaitable<void> {
            const std::string payload = std::to_string(i) + std::string(static_cast<std::size_t>(i) * 37, 'p');
            if ((co_await conn.execute("ECHO", payload)).as_string() == payload) ++correct;
          },
          [&](std::exception_ptr e) {
            EXPECT_FALSE(e);
            ++done;
          });
    }
    while (done < 500) co_await sleep_for(1ms);
  }());
  EXPECT_EQ(correct, 500);
}

}  // namespace

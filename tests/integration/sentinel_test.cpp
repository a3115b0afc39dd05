// Redis Sentinel: connecting through sentinels, following a failover after the primary is killed,
// a +switch-master moving idle connections, and a demoted primary answering READONLY.
#include "rapyer/testing/embedded_sentinel.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "rapyer/client.hpp"
#include "rapyer/connection.hpp"
#include "rapyer/error.hpp"
#include "test_certificates.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using rapyer::awaitable;
using rapyer::client;
using rapyer::client_config;
using rapyer::connection;
using rapyer::connection_config;
using rapyer::test::sleep_for;
using rapyer::testing::embedded_sentinel;
using steady = std::chrono::steady_clock;

class SentinelTest : public ::testing::Test {
 protected:
  explicit SentinelTest(rapyer::testing::embedded_sentinel_options options = {}) : setup_(std::move(options)) {}

  template <class T>
  T run(awaitable<T> task) {
    return rapyer::test::run(ctx_, std::move(task));
  }

  // Short limits, so that a failover is followed within a few seconds.
  // `more_options`: "&name=value…".
  client_config config(const std::string& url, const std::string& more_options = "") const {
    const auto hash = url.find('#');
    const char* separator = url.find('?') == std::string::npos ? "?" : "&";
    auto cfg = client_config::from_url(url.substr(0, hash) + separator +
                                       "connect_timeout=1s&command_timeout=2s&reconnect_max_delay=200ms" +
                                       more_options + url.substr(hash));
    cfg.connection.logger = [this](rapyer::log_level, std::string_view message) {
      log_->push_back(std::string(message));
    };
    return cfg;
  }

  bool logged(std::string_view text) const {
    for (const auto& message : *log_) {
      if (message.find(text) != std::string::npos) return true;
    }
    return false;
  }

  embedded_sentinel setup_;
  boost::asio::io_context ctx_;
  std::shared_ptr<std::vector<std::string>> log_ = std::make_shared<std::vector<std::string>>();
};

// Runs a blocking call of the test support on a thread while the io_context keeps serving.
template <class Result>
awaitable<Result> off_thread(std::function<Result()> call) {
  auto result = std::async(std::launch::async, std::move(call));
  while (result.wait_for(0s) != std::future_status::ready) co_await sleep_for(10ms);
  co_return result.get();
}

std::string with_host(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

TEST_F(SentinelTest, ConnectsToThePrimaryAndReadsAndWrites) {
  run([&]() -> awaitable<void> {
    client redis(ctx_.get_executor(), config(setup_.url()));
    co_await redis.connect();
    EXPECT_EQ((co_await redis.execute("SET", "greeting", "hello")).as_string(), "OK");
    EXPECT_EQ((co_await redis.execute("GET", "greeting")).as_string(), "hello");
    EXPECT_EQ((co_await redis.execute("ROLE")).as_array().front().as_string(), "master");
    for (const auto& conn : redis.connections()) EXPECT_EQ(conn->node_address().port, setup_.primary_port());
    auto news = co_await redis.subscribe("news");  // pub/sub goes through the sentinels too
    EXPECT_EQ((co_await redis.execute("PUBLISH", "news", "extra")).as_integer(), 1);
    EXPECT_EQ((co_await news.receive()).payload, "extra");
    EXPECT_EQ(redis.config().connection.endpoint(), "sentinel mymaster (" + with_host(setup_.sentinel_ports()[0]) +
                                                        "," + with_host(setup_.sentinel_ports()[1]) + "," +
                                                        with_host(setup_.sentinel_ports()[2]) + ")");
    redis.close();
  }());
}

TEST_F(SentinelTest, ReadFromReplicaConnectsToTheReplica) {
  const std::string url = setup_.url();
  run([&]() -> awaitable<void> {
    connection writer(ctx_.get_executor(), config(url).connection);
    connection reader(ctx_.get_executor(), config(url, "&read_from_replica=yes").connection);
    co_await writer.connect();
    co_await reader.connect();
    EXPECT_EQ(reader.node_address().port, setup_.replica_port());
    EXPECT_EQ((co_await reader.execute("ROLE")).as_array().front().as_string(), "slave");
    co_await writer.execute("SET", "shared", "value");
    co_await writer.execute("WAIT", 1, 1000);
    EXPECT_EQ((co_await reader.execute("GET", "shared")).as_string(), "value");
    // A replica refuses writes; that is no reason to leave it.
    EXPECT_THROW(co_await reader.execute("SET", "shared", "other"), rapyer::server_error);
    EXPECT_TRUE(reader.is_connected());
  }());
}

TEST_F(SentinelTest, SkipsASentinelThatDoesNotAnswer) {
  const std::uint16_t nobody = rapyer::testing::free_loopback_port();
  const auto ports = setup_.sentinel_ports();
  run([&]() -> awaitable<void> {
    connection conn(
        ctx_.get_executor(),
        config("redis-sentinel://" + with_host(nobody) + "," + with_host(ports[1]) + "#mymaster").connection);
    co_await conn.connect();
    EXPECT_EQ((co_await conn.execute("PING")).as_string(), "PONG");
    EXPECT_EQ(conn.node_address().port, setup_.primary_port());
  }());
}

TEST_F(SentinelTest, UnknownMasterNameFailsNamingItAndEverySentinel) {
  const auto ports = setup_.sentinel_ports();
  std::string url = setup_.url();
  url = url.substr(0, url.find('#')) + "#nosuchmaster";
  const auto start = steady::now();
  try {
    run([&]() -> awaitable<void> {
      connection conn(ctx_.get_executor(), config(url).connection);
      co_await conn.connect();
    }());
    FAIL() << "connected to an unknown master";
  } catch (const rapyer::connection_error& e) {
    std::string expected = "sentinel: no usable primary for master 'nosuchmaster'";
    for (const auto port : ports) {
      expected += "; sentinel " + with_host(port) + ": does not know master 'nosuchmaster'";
    }
    EXPECT_EQ(std::string(e.what()), expected);
  }
  // No sentinel named a node: nothing to wait for.
  EXPECT_LT(steady::now() - start, 1s);
}

// Eight writers INCR one counter while the primary is SIGKILLed and a replica promoted; they
// go on until each has 50 increments acknowledged by the new primary.
struct killed_primary_run {
  long long acknowledged = 0;
  long long failed = 0;
  long long acknowledged_after_failover = 0;
  long long acknowledged_before_kill = 0;
  steady::duration slowest{};
  std::uint16_t old_primary = 0;
  std::uint16_t new_primary = 0;
  long long final_value = 0;
  std::vector<std::uint16_t> pooled_ports;
};

class SentinelFailoverTest : public SentinelTest {
 protected:
  static constexpr int writers = 8;
  static constexpr long long wanted_after_failover = 50;  // per writer

  // `restart_old_primary`: once failed over, the killed node comes back as the new replica.
  killed_primary_run kill_primary_under_increments(const std::string& more_options, bool restart_old_primary) {
    killed_primary_run totals;
    bool failed_over = false;
    bool stop = false;
    int running = writers;
    totals.old_primary = setup_.primary_port();

    client redis(ctx_.get_executor(), config(setup_.url(), more_options));
    run(redis.connect());
    const auto writer = [&]() -> awaitable<void> {
      long long mine_after_failover = 0;
      bool failed_now = false;
      while (!stop && mine_after_failover < wanted_after_failover) {
        const bool started_after_failover = failed_over;
        const auto start = steady::now();
        try {
          co_await redis.execute("INCR", "counter");
          ++totals.acknowledged;
          if (started_after_failover) {
            ++totals.acknowledged_after_failover;
            ++mine_after_failover;
          }
        } catch (const rapyer::error&) {
          ++totals.failed;
          failed_now = true;
        }
        totals.slowest = std::max(totals.slowest, steady::now() - start);
        // Always a request in flight, so that the kill catches some; no busy loop of failures.
        if (std::exchange(failed_now, false)) co_await sleep_for(1ms);
      }
      --running;
    };
    for (int i = 0; i < writers; ++i) boost::asio::co_spawn(ctx_, writer(), boost::asio::detached);

    run([&]() -> awaitable<void> {
      co_await sleep_for(300ms);
      totals.acknowledged_before_kill = totals.acknowledged;
      co_await sleep_for(50ms);  // the increments counted have reached the replica by now
      setup_.kill_primary();
      totals.new_primary = co_await off_thread<std::uint16_t>([&] { return setup_.wait_for_failover(); });
      failed_over = true;
      if (restart_old_primary) co_await off_thread<bool>([&] { return setup_.restart_old_primary(), true; });
      const auto deadline = steady::now() + 20s;
      while (totals.acknowledged_after_failover < writers * wanted_after_failover && steady::now() < deadline) {
        co_await sleep_for(10ms);
      }
      stop = true;
      while (running > 0) co_await sleep_for(10ms);
    }());
    totals.final_value = run([&]() -> awaitable<long long> {
      co_return std::stoll((co_await redis.execute("GET", "counter")).as_string());
    }());
    for (const auto& conn : redis.connections()) totals.pooled_ports.push_back(conn->node_address().port);
    redis.close();
    return totals;
  }

  void expect_followed(const killed_primary_run& totals) const {
    EXPECT_NE(totals.new_primary, totals.old_primary);
    EXPECT_GT(totals.acknowledged_before_kill, 0);
    EXPECT_EQ(totals.acknowledged_after_failover, writers * wanted_after_failover);
    EXPECT_GE(totals.failed, 1) << "requests in flight when the primary died must fail";
    EXPECT_LT(totals.slowest, 4s) << "no request may hang (connect 1 s + command 2 s)";
    EXPECT_LE(totals.final_value, totals.acknowledged + totals.failed) << "nothing counts twice";
    for (const std::uint16_t port : totals.pooled_ports) EXPECT_EQ(port, totals.new_primary);
  }
};

TEST_F(SentinelFailoverTest, FollowsThePromotedReplicaWhenThePrimaryIsKilled) {
  const auto totals = kill_primary_under_increments("", false);
  expect_followed(totals);
  // Increments acknowledged by the old primary just before the kill may be lost (no WAIT); those
  // replicated before it and every one acknowledged by the new primary are there.
  EXPECT_GE(totals.final_value, totals.acknowledged_before_kill + totals.acknowledged_after_failover);
}

TEST_F(SentinelFailoverTest, WithWaitReplicasNoAcknowledgedIncrementIsLost) {
  // WAIT 1 needs a replica of the new primary: the killed node comes back as one. Until then the
  // new primary's increments fail with replication_error (applied, but not acknowledged).
  const auto totals = kill_primary_under_increments("&wait_replicas=1&wait_timeout=500", true);
  expect_followed(totals);
  // An increment is acknowledged only once the replica has it: the promoted replica has them all.
  EXPECT_GE(totals.final_value, totals.acknowledged);
  std::printf("%lld increments acknowledged, %lld failed, final value %lld\n", totals.acknowledged, totals.failed,
              totals.final_value);
}

TEST_F(SentinelTest, SwitchMasterMovesIdleConnectionsWithoutErrors) {
  client redis(ctx_.get_executor(), config(setup_.url()));
  run([&]() -> awaitable<void> {
    co_await redis.connect();
    co_await redis.execute("SET", "kept", "yes");
    co_await redis.execute("WAIT", 1, 1000);  // on the replica before it takes over
    co_await sleep_for(700ms);                // the watch is listening by now
  }());
  const std::uint16_t old_primary = setup_.primary_port();
  setup_.failover();
  const auto new_primary = run(off_thread<std::uint16_t>([&] { return setup_.wait_for_failover(); }));
  ASSERT_NE(new_primary, old_primary);
  run([&]() -> awaitable<void> {
    const auto moved = [&] {
      for (const auto& conn : redis.connections()) {
        if (!conn->is_connected() || conn->node_address().port != new_primary) return false;
      }
      return true;
    };
    const auto deadline = steady::now() + 5s;
    while (!moved() && steady::now() < deadline) co_await sleep_for(10ms);
    EXPECT_TRUE(moved());
    EXPECT_EQ((co_await redis.execute("GET", "kept")).as_string(), "yes");
    EXPECT_EQ((co_await redis.execute("ROLE")).as_array().front().as_string(), "master");
  }());
  EXPECT_TRUE(logged("+switch-master: the primary is now " + with_host(new_primary)));
  EXPECT_TRUE(logged("the primary moved to " + with_host(new_primary) + " (+switch-master)"));
  EXPECT_EQ(redis.stats().timeouts, 0U);
  redis.close();
}

TEST_F(SentinelTest, ReadonlyReplyDropsTheConnectionToResolveAgain) {
  connection conn(ctx_.get_executor(), config(setup_.url()).connection);
  connection plain(ctx_.get_executor(), connection_config::from_url("redis://" + with_host(setup_.primary_port())));
  run([&]() -> awaitable<void> {
    co_await conn.connect();
    co_await plain.connect();
    // Demoted behind the sentinels' back: the next write is refused.
    co_await plain.execute("REPLICAOF", "127.0.0.1", setup_.replica_port());
    try {
      co_await conn.execute("SET", "k", "v");
      ADD_FAILURE() << "a replica accepted a write";
    } catch (const rapyer::server_error& e) {
      EXPECT_TRUE(e.server_message().starts_with("READONLY")) << e.what();
    }
    EXPECT_FALSE(conn.is_connected());
    conn.close();
    plain.close();
  }());
  EXPECT_TRUE(logged("the node is no longer the primary (READONLY); asking the sentinels again"));
}

rapyer::testing::embedded_sentinel_options with_passwords() {
  rapyer::testing::embedded_sentinel_options options;
  options.password = "data-secret";
  options.sentinel_password = "watch-secret";
  return options;
}

class SentinelCredentialsTest : public SentinelTest {
 protected:
  SentinelCredentialsTest() : SentinelTest(with_passwords()) {}

  // The connect failure of `url`, with the test's timeouts.
  std::string connect_error(const std::string& url) {
    try {
      run([&]() -> awaitable<void> {
        connection conn(ctx_.get_executor(), config(url).connection);
        co_await conn.connect();
      }());
    } catch (const rapyer::connection_error& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(SentinelCredentialsTest, SentinelsAndDataNodesHaveTheirOwnCredentials) {
  const auto ports = setup_.sentinel_ports();
  const std::string sentinels =
      with_host(ports[0]) + "," + with_host(ports[1]) + "," + with_host(ports[2]) + "?sentinel_password=";
  run([&]() -> awaitable<void> {
    connection conn(ctx_.get_executor(),
                    config("redis-sentinel://:data-secret@" + sentinels + "watch-secret#mymaster").connection);
    co_await conn.connect();
    EXPECT_EQ((co_await conn.execute("ROLE")).as_array().front().as_string(), "master");
  }());

  const std::string wrong_sentinel_password =
      connect_error("redis-sentinel://:data-secret@" + sentinels + "wrong#mymaster");
  for (const auto port : ports) {
    EXPECT_NE(wrong_sentinel_password.find("; sentinel " + with_host(port) + ": " + with_host(port) +
                                           ": authentication failed: WRONGPASS"),
              std::string::npos)
        << wrong_sentinel_password;
  }

  const auto start = steady::now();
  try {
    run([&]() -> awaitable<void> {
      connection conn(ctx_.get_executor(),
                      config("redis-sentinel://:not-the-password@" + sentinels + "watch-secret#mymaster").connection);
      co_await conn.connect();
    }());
    ADD_FAILURE() << "connected with a wrong data node password";
  } catch (const rapyer::authentication_error& e) {
    EXPECT_NE(std::string(e.what()).find("named " + with_host(setup_.primary_port()) + ": sentinel mymaster (" +
                                         with_host(ports[0])),
              std::string::npos)
        << e.what();
    EXPECT_EQ(std::string(e.what()).find("not-the-password"), std::string::npos) << "the message shows a password";
  }
  // Refused credentials end the connect at once: no rounds until connect_timeout (1 s).
  EXPECT_LT(steady::now() - start, 500ms);
}

rapyer::testing::embedded_sentinel_options with_tls() {
  const auto& files = rapyer::test::certificates();
  rapyer::testing::embedded_sentinel_options options;
  options.tls = rapyer::testing::embedded_server_tls{files.server_cert_file, files.server_key_file, files.ca_file};
  return options;
}

class SentinelTlsTest : public SentinelTest {
 protected:
  SentinelTlsTest() : SentinelTest(with_tls()) {}
};

TEST_F(SentinelTlsTest, TalksTlsToTheSentinelsAndThePrimary) {
  EXPECT_TRUE(setup_.url().starts_with("rediss-sentinel://"));
  run([&]() -> awaitable<void> {
    client redis(ctx_.get_executor(), config(setup_.url()));
    EXPECT_TRUE(redis.config().connection.sentinel.tls.enabled);
    co_await redis.connect();
    EXPECT_EQ((co_await redis.execute("SET", "secret", "sauce")).as_string(), "OK");
    EXPECT_EQ((co_await redis.execute("GET", "secret")).as_string(), "sauce");
    for (const auto& conn : redis.connections()) EXPECT_EQ(conn->node_address().port, setup_.primary_port());
    redis.close();
  }());
  // The same ports without TLS: the sentinels do not answer in plain text there.
  std::string plain = setup_.url();
  plain =
      "redis-sentinel://" + plain.substr(plain.find("//") + 2, plain.find('?') - plain.find("//") - 2) + "#mymaster";
  try {
    run([&]() -> awaitable<void> {
      connection conn(ctx_.get_executor(), config(plain).connection);
      co_await conn.connect();
    }());
    ADD_FAILURE() << "plain text reached a TLS port";
  } catch (const rapyer::connection_error& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("sentinel: no usable primary for master 'mymaster'; sentinel "))
        << e.what();
  }
}

}  // namespace

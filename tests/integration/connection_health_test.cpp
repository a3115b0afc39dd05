// Health checks, waiting for a reconnect, the logging hook and the counters of a connection.
#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "rapyer/connection.hpp"
#include "rapyer/testing/embedded_server.hpp"
#include "test_support.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using rapyer::awaitable;
using rapyer::connection;
using rapyer::connection_config;
using rapyer::test::server_url;
using rapyer::test::sleep_for;
using steady = std::chrono::steady_clock;

class ConnectionHealthTest : public rapyer::test::redis_test {};

// Every message a connection logs, with its level.
struct log_record {
  std::vector<std::string> messages;
  rapyer::log_sink sink() {
    return [this](rapyer::log_level level, std::string_view message) {
      messages.push_back(std::string(rapyer::to_string(level)) + ": " + std::string(message));
    };
  }
  bool contains(std::string_view text) const {
    for (const auto& m : messages) {
      if (m.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

long long ms_since(steady::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start).count();
}

// The text of `command`'s reply once the connection serves again (retried for up to 5 s).
template <class... Args>
awaitable<std::string> once_served(connection& conn, std::string_view command, const Args&... args) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    bool failed = false;
    try {
      const rapyer::reply served = co_await conn.execute(command, args...);
      co_return served.as_string();
    } catch (const rapyer::error&) {
      failed = true;
    }
    if (failed) co_await sleep_for(50ms);
  }
  co_return std::string();
}

awaitable<void> wait_until_disconnected(const connection& conn) {
  for (int i = 0; i < 2000 && conn.is_connected(); ++i) co_await sleep_for(1ms);
}

// Kills every other client of the shared server, as a server restart or a proxy would.
awaitable<void> kill_other_clients() {
  connection killer(co_await asio::this_coro::executor, connection_config::from_url(server_url()));
  co_await killer.connect();
  co_await killer.execute("CLIENT", "KILL", "USER", "default", "SKIPME", "yes");
}

TEST_F(ConnectionHealthTest, StoppedServerIsDeclaredDeadAndServesAgainAfterItResumes) {
  rapyer::testing::embedded_server server;
  log_record log;
  run([&]() -> awaitable<void> {
    auto config = connection_config::from_url(server.url());
    config.health_check_interval = 200ms;
    config.command_timeout = 1000ms;
    config.connect_timeout = 300ms;
    config.reconnect_max_delay = 200ms;
    config.logger = log.sink();
    connection conn(co_await asio::this_coro::executor, config);
    co_await conn.connect();
    co_await conn.execute("SET", "a", "1");
    server.pause();
    const auto start = steady::now();
    EXPECT_THROW((void)co_await conn.execute("GET", "a"), rapyer::error);
    EXPECT_LT(ms_since(start), 2500);
    co_await sleep_for(800ms);
    EXPECT_GE(conn.stats().health_check_failures, 1U);
    EXPECT_TRUE(log.contains("health check failed"));
    // Nothing hangs while the server stays stopped.
    const auto again = steady::now();
    EXPECT_THROW((void)co_await conn.execute("GET", "a"), rapyer::error);
    EXPECT_LT(ms_since(again), 2500);
    server.resume();
    EXPECT_EQ(co_await once_served(conn, "GET", "a"), "1");
    EXPECT_GE(conn.reconnect_count(), 1U);
    EXPECT_TRUE(log.contains("reconnected"));
  }());
}

TEST_F(ConnectionHealthTest, IdleConnectionIsCheckedWithPings) {
  run([]() -> awaitable<void> {
    auto config = connection_config::from_url(server_url());
    config.health_check_interval = 100ms;
    connection conn(co_await asio::this_coro::executor, config);
    co_await conn.connect();
    const auto before = conn.stats();
    co_await sleep_for(550ms);
    const auto after = conn.stats();
    EXPECT_GE(after.commands - before.commands, 2U);
    EXPECT_EQ(after.replies - before.replies, after.commands - before.commands);
    EXPECT_EQ(after.health_check_failures, 0U);
    EXPECT_EQ(conn.load(), 0U);  // its own PINGs are not load
  }());
}

TEST_F(ConnectionHealthTest, RequestsDuringAReconnectWaitForIt) {
  run([]() -> awaitable<void> {
    connection conn(co_await asio::this_coro::executor, connection_config::from_url(server_url()));
    co_await conn.connect();
    co_await kill_other_clients();
    co_await wait_until_disconnected(conn);
    EXPECT_FALSE(conn.is_connected());
    EXPECT_EQ((co_await conn.execute("INCR", "waited")).as_integer(), 1);
    EXPECT_EQ(conn.reconnect_count(), 1U);
  }());
}

TEST_F(ConnectionHealthTest, WithoutWaitingRequestsDuringAReconnectFailAtOnce) {
  run([]() -> awaitable<void> {
    auto config = connection_config::from_url(server_url());
    config.wait_for_reconnect = false;
    connection conn(co_await asio::this_coro::executor, config);
    co_await conn.connect();
    co_await kill_other_clients();
    co_await wait_until_disconnected(conn);
    const auto start = steady::now();
    EXPECT_THROW((void)co_await conn.execute("INCR", "not-waited"), rapyer::connection_error);
    EXPECT_LT(ms_since(start), 100);
  }());
}

TEST_F(ConnectionHealthTest, WaitForAReconnectEndsAtTheRequestsDeadline) {
  rapyer::testing::embedded_server server;
  run([&]() -> awaitable<void> {
    auto config = connection_config::from_url(server.url());
    config.command_timeout = 300ms;
    config.connect_timeout = 200ms;
    connection conn(co_await asio::this_coro::executor, config);
    co_await conn.connect();
    server.kill();
    co_await wait_until_disconnected(conn);
    const auto start = steady::now();
    EXPECT_THROW((void)co_await conn.execute("PING"), rapyer::timeout_error);
    EXPECT_GE(ms_since(start), 250);
    EXPECT_LT(ms_since(start), 1500);
    server.start();
    EXPECT_EQ(co_await once_served(conn, "PING"), "PONG");
  }());
}

TEST_F(ConnectionHealthTest, LogsReportConnectionLossAndReconnectButNeverThePassword) {
  rapyer::testing::embedded_server_options options;
  options.extra_arguments = {"--requirepass", "s3cret-pass"};
  rapyer::testing::embedded_server server(options);
  log_record log;
  run([&]() -> awaitable<void> {
    auto config = connection_config::from_url("redis://:s3cret-pass@127.0.0.1:" + std::to_string(server.port()));
    config.logger = log.sink();
    connection conn(co_await asio::this_coro::executor, config);
    co_await conn.connect();
    connection killer(co_await asio::this_coro::executor, config);
    co_await killer.connect();
    co_await killer.execute("CLIENT", "KILL", "USER", "default", "SKIPME", "yes");
    co_await wait_until_disconnected(conn);
    EXPECT_EQ((co_await conn.execute("PING")).as_string(), "PONG");
    auto wrong = config;
    wrong.password = "not-the-s3cret-pass";
    connection refused(co_await asio::this_coro::executor, wrong);
    EXPECT_THROW(co_await refused.connect(), rapyer::authentication_error);
  }());
  EXPECT_TRUE(log.contains("connection lost"));
  EXPECT_TRUE(log.contains("reconnected"));
  for (const auto& message : log.messages) EXPECT_EQ(message.find("s3cret-pass"), std::string::npos) << message;
}

TEST_F(ConnectionHealthTest, CountersCountCommandsBytesAndReplies) {
  run([]() -> awaitable<void> {
    auto config = connection_config::from_url(server_url());
    config.health_check_interval = 0ms;
    connection conn(co_await asio::this_coro::executor, config);
    co_await conn.connect();
    const auto before = conn.stats();
    rapyer::request pings;
    for (int i = 0; i < 10; ++i) pings.push("PING");
    (void)co_await conn.execute(pings);
    for (int i = 0; i < 5; ++i) co_await conn.execute("PING");
    const auto after = conn.stats();
    EXPECT_EQ(after.commands - before.commands, 15U);
    EXPECT_EQ(after.replies - before.replies, 15U);
    EXPECT_EQ(after.bytes_written - before.bytes_written, 15U * std::string_view("*1\r\n$4\r\nPING\r\n").size());
    EXPECT_EQ(after.bytes_read - before.bytes_read, 15U * std::string_view("+PONG\r\n").size());
    EXPECT_EQ(after.in_flight, 0U);
    EXPECT_EQ(after.timeouts, 0U);
  }());
}

TEST_F(ConnectionHealthTest, SubscribeOnASharedConnectionIsRefusedBeforeSending) {
  run([]() -> awaitable<void> {
    connection conn(co_await asio::this_coro::executor, connection_config::from_url(server_url()));
    co_await conn.connect();
    const auto before = conn.stats().commands;
    EXPECT_THROW((void)co_await conn.execute("SUBSCRIBE", "news"), rapyer::usage_error);
    EXPECT_THROW((void)co_await conn.execute("monitor"), rapyer::usage_error);
    EXPECT_EQ(conn.stats().commands, before);
    EXPECT_EQ((co_await conn.execute("PING")).as_string(), "PONG");
  }());
}

}  // namespace

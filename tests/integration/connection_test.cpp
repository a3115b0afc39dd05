#include "rapyer/connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using rapyer::test::sleep_for;

namespace asio = boost::asio;
using namespace std::chrono_literals;
using rapyer::awaitable;
using rapyer::connection;
using rapyer::connection_config;
using rapyer::reply;
using rapyer::request;
using rapyer::test::server_url;

class ConnectionTest : public rapyer::test::redis_test {};

TEST_F(ConnectionTest, ExecutesCommandsAndReturnsTypedReplies) {
  run([]() -> awaitable<void> {
    connection conn(co_await asio::this_coro::executor, connection_config::from_url(server_url()));
    co_await conn.connect();
    EXPECT_TRUE(conn.is_connected());
    {
      const auto result = co_await conn.execute("SET", "greeting", "hello");
      EXPECT_EQ(result.as_string(), "OK");
    }
    {
      const auto result = co_await conn.execute("GET", "greeting");
      EXPECT_EQ(result.as_string(), "hello");
    }
    {
      const auto result = co_await conn.execute("GET", "missing");
      EXPECT_TRUE(result.is_nil());
    }
    {
      const auto result = co_await conn.execute("INCRBY", "counter", 41);
      EXPECT_EQ(result.as_integer(), 41);
    }
    const std::vector<std::string> elements = {"a", "b"};
    {
      const auto result = co_await conn.execute("RPUSH", "list", elements);
      EXPECT_EQ(result.as_integer(), 2);
    }
    const auto list = co_await conn.execute("LRANGE", "list", 0, -1);
    EXPECT_EQ(list, reply::array({reply::string("a"), reply::string("b")}));
    {
      const auto result = co_await conn.execute("CLIENT", "GETNAME");
      EXPECT_EQ(result.as_string(), "rapyer");
    }
  }());
}

TEST_F(ConnectionTest, ErrorReplyThrowsServerErrorWithRedisMessage) {
  run([]() -> awaitable<void> {
    connection conn(co_await asio::this_coro::executor, connection_config::from_url(server_url()));
    co_await conn.connect();
    co_await conn.execute("SET", "text", "x");
    try {
      co_await conn.execute("LPUSH", "text", "y");
      ADD_FAILURE() << "expected server_error";
    } catch (const rapyer::server_error& e) {
      EXPECT_EQ(e.command(), "LPUSH");
      EXPECT_TRUE(e.server_message().starts_with("WRONGTYPE")) << e.server_message();
    }
    // The connection stays usable after an error reply.
    {
      const auto result = co_await conn.execute("GET", "text");
      EXPECT_EQ(result.as_string(), "x");
    }
  }());
}

TEST_F(ConnectionTest, WritesFloatsExactly) {
  run([]() -> awaitable<void> {
    connection conn(co_await asio::this_coro::executor, connection_config::from_url(server_url()));
    co_await conn.connect();
    for (double value : {0.1, 1e308, -2.5e-300, 1.0 / 3.0}) {
      co_await conn.execute("SET", "f", value);
      const std::string stored = (co_await conn.execute("GET", "f")).as_string();
      EXPECT_EQ(std::stod(stored), value) << stored;
    }
    co_await conn.execute("SET", "f", 0.1);
    {
      const auto result = co_await conn.execute("GET", "f");
      EXPECT_EQ(result.as_string(), "0.1");
    }
  }());
}

TEST_F(ConnectionTest, BatchSendsAllCommandsAndReturnsEveryReplyInOrder) {
  run([]() -> awaitable<void> {
    connection conn(co_await asio::this_coro::executor, connection_config::from_url(server_url()));
    co_await conn.connect();
    request batch;
    batch.push("SET", "a", 1).push("INCR", "a").push("LPUSH", "a", "x").push("GET", "a");
    const auto replies = co_await conn.execute(batch);
    EXPECT_EQ(replies.size(), 4u);
    if (replies.size() != 4) co_return;
    EXPECT_EQ(replies[0].as_string(), "OK");
    EXPECT_EQ(replies[1].as_integer(), 2);
    EXPECT_TRUE(replies[2].is_error());  // delivered in place, not thrown
    EXPECT_EQ(replies[3].as_string(), "2");
  }());
}

// 1,000 coroutines × 10 commands each on ONE connection; every reply must be its own.
TEST_F(ConnectionTest, ThousandConcurrentCoroutinesEachGetTheirOwnReplies) {
  constexpr int coroutines = 1000;
  constexpr int commands = 10;
  int finished = 0;
  int mismatches = 0;
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    connection conn(executor, connection_config::from_url(server_url()));
    co_await conn.connect();
    for (int c = 0; c < coroutines; ++c) {
      asio::co_spawn(
          executor,
          [&, c]() -> awaitable<void> {
            const std::string key = "k:" + std::to_string(c);
            for (int i = 0; i < commands; ++i) {
              const std::string payload = std::to_string(c) + "/" + std::to_string(i) + std::string(c % 97, 'x');
              if (i % 2 == 0) {
                if ((co_await conn.execute("ECHO", payload)).as_string() != payload) ++mismatches;
              } else if ((co_await conn.execute("INCR", key)).as_integer() != (i + 1) / 2) {
                ++mismatches;
              }
            }
            ++finished;
          },
          [&](std::exception_ptr e) {
            if (e) ++mismatches;
          });
    }
    while (finished < coroutines && mismatches == 0) co_await sleep_for(1ms);
    request check;
    for (int c = 0; c < coroutines; ++c) check.push("GET", "k:" + std::to_string(c));
    for (const auto& r : co_await conn.execute(check)) {
      if (r.as_string() != std::to_string(commands / 2)) ++mismatches;
    }
  }());
  EXPECT_EQ(finished, coroutines);
  EXPECT_EQ(mismatches, 0);
}

TEST_F(ConnectionTest, SelectsTheDatabaseFromTheUrl) {
  run([]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    connection db3(executor, connection_config::from_url(server_url() + "/3"));
    connection db0(executor, connection_config::from_url(server_url()));
    co_await db3.connect();
    co_await db0.connect();
    co_await db3.execute("SET", "where", "three");
    {
      const auto result = co_await db3.execute("GET", "where");
      EXPECT_EQ(result.as_string(), "three");
    }
    {
      const auto result = co_await db0.execute("GET", "where");
      EXPECT_TRUE(result.is_nil());
    }
    co_await db3.execute("FLUSHDB");
  }());
}

TEST_F(ConnectionTest, CommandTimesOutWhileServerSleepsAndConnectionRecovers) {
  run([]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    auto config = connection_config::from_url(server_url());
    config.command_timeout = 200ms;
    connection sleeper(executor, connection_config::from_url(server_url()));
    connection conn(executor, config);
    co_await sleeper.connect();
    co_await conn.connect();
    bool slept = false;
    asio::co_spawn(
        executor, [&]() -> awaitable<void> { co_await sleeper.execute("DEBUG", "SLEEP", 1); },
        [&](std::exception_ptr e) { slept = !e; });
    co_await sleep_for(50ms);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(co_await conn.execute("SET", "late", "value"), rapyer::timeout_error);
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, 150ms);
    EXPECT_LT(waited, 800ms);
    while (!slept) co_await sleep_for(10ms);
    // The late reply to the timed-out SET is consumed and discarded, not given to this GET.
    {
      const auto result = co_await conn.execute("ECHO", "fresh");
      EXPECT_EQ(result.as_string(), "fresh");
    }
    {
      const auto result = co_await conn.execute("GET", "late");
      EXPECT_EQ(result.as_string(), "value");
    }
  }());
}

TEST_F(ConnectionTest, UnknownHostFailsWithConnectionError) {
  run([]() -> awaitable<void> {
    auto config = connection_config::from_url("redis://no-such-host.invalid:6390");
    connection conn(co_await asio::this_coro::executor, config);
    EXPECT_THROW(co_await conn.connect(), rapyer::connection_error);
    EXPECT_FALSE(conn.is_connected());
    EXPECT_THROW(co_await conn.execute("PING"), rapyer::connection_error);
  }());
}

TEST_F(ConnectionTest, ClosedPortFailsFastWithConnectionError) {
  run([]() -> awaitable<void> {
    // A port that was free a moment ago: nothing listens there.
    std::uint16_t port = 0;
    {
      asio::ip::tcp::acceptor probe(co_await asio::this_coro::executor,
                                    asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
      port = probe.local_endpoint().port();
    }
    rapyer::connection_config config;
    config.port = port;
    connection conn(co_await asio::this_coro::executor, config);
    const auto start = std::chrono::steady_clock::now();
    try {
      co_await conn.connect();
      ADD_FAILURE() << "connected to a closed port";
    } catch (const rapyer::connection_error& e) {
      EXPECT_NE(std::string(e.what()).find(std::to_string(port)), std::string::npos) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  }());
}

TEST_F(ConnectionTest, CloseFailsPendingRequestsAndRejectsNewOnes) {
  run([]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    connection conn(executor, connection_config::from_url(server_url()));
    connection other(executor, connection_config::from_url(server_url()));
    co_await conn.connect();
    co_await other.connect();
    int failed = 0;
    for (int i = 0; i < 10; ++i) {
      asio::co_spawn(
          executor, [&]() -> awaitable<void> { co_await conn.execute("BLPOP", "never", 0); },
          [&](std::exception_ptr e) {
            try {
              if (e) std::rethrow_exception(e);
            } catch (const rapyer::connection_error&) {
              ++failed;
            }
          });
    }
    co_await sleep_for(50ms);
    conn.close();
    while (failed < 10) co_await sleep_for(1ms);
    EXPECT_THROW(co_await conn.execute("PING"), rapyer::connection_error);
    {
      const auto result = co_await other.execute("PING");
      EXPECT_EQ(result.as_string(), "PONG");
    }
  }());
}

}  // namespace

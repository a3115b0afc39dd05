#include "rapyer/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <set>
#include <string>

#include "test_support.hpp"

namespace {

using rapyer::test::sleep_for;

namespace asio = boost::asio;
using namespace std::chrono_literals;
using rapyer::awaitable;
using rapyer::client;
using rapyer::client_config;
using rapyer::test::server_url;

class ClientTest : public rapyer::test::redis_test {};

TEST_F(ClientTest, SpreadsConcurrentRequestsOverThePool) {
  std::map<long long, int> per_connection;
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    auto config = client_config::from_url(server_url());
    config.pool_size = 4;
    client c(executor, config);
    co_await c.connect();
    int done = 0;
    for (int i = 0; i < 400; ++i) {
      asio::co_spawn(
          executor, [&]() -> awaitable<void> { ++per_connection[(co_await c.execute("CLIENT", "ID")).as_integer()]; },
          [&](std::exception_ptr e) {
            EXPECT_FALSE(e);
            ++done;
          });
    }
    while (done < 400) co_await sleep_for(1ms);
  }());
  ASSERT_EQ(per_connection.size(), 4u);
  for (const auto& [id, count] : per_connection) EXPECT_EQ(count, 100) << "connection " << id;
}

TEST_F(ClientTest, LeaseIsExclusiveForBlockingCommands) {
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    client c(executor, client_config::from_url(server_url()));
    co_await c.connect();
    std::set<long long> pool_ids;
    for (int i = 0; i < 10; ++i) pool_ids.insert((co_await c.execute("CLIENT", "ID")).as_integer());
    auto lease = co_await c.lease();
    const long long lease_id = (co_await lease.execute("CLIENT", "ID")).as_integer();
    EXPECT_FALSE(pool_ids.contains(lease_id));
    std::optional<rapyer::reply> popped;
    asio::co_spawn(
        executor, [&]() -> awaitable<void> { popped = co_await lease.execute("BLPOP", "jobs", 5); }, asio::detached);
    co_await sleep_for(50ms);
    // The pool keeps serving while the lease blocks.
    for (int i = 0; i < 100; ++i) {
      const auto result = co_await c.execute("PING");
      EXPECT_EQ(result.as_string(), "PONG");
    }
    EXPECT_FALSE(popped.has_value());
    co_await c.execute("RPUSH", "jobs", "job-1");
    while (!popped) co_await sleep_for(1ms);
    EXPECT_EQ(popped->as_array().at(1).as_string(), "job-1");
  }());
}

TEST_F(ClientTest, CleanLeaseIsReusedAndOneLeftInTransactionIsNot) {
  run([&]() -> awaitable<void> {
    client c(co_await asio::this_coro::executor, client_config::from_url(server_url()));
    co_await c.connect();
    long long first = 0;
    {
      auto lease = co_await c.lease();
      first = (co_await lease.execute("CLIENT", "ID")).as_integer();
      co_await lease.execute("WATCH", "x");
      co_await lease.execute("MULTI");
      co_await lease.execute("SET", "x", 1);
      {
        const auto result = co_await lease.execute("EXEC");
        EXPECT_TRUE(result.is_array());
      }
    }
    long long second = 0;
    {
      auto lease = co_await c.lease();
      second = (co_await lease.execute("CLIENT", "ID")).as_integer();
      co_await lease.execute("MULTI");  // abandoned: the connection must not be handed out again
    }
    EXPECT_EQ(first, second);
    auto lease = co_await c.lease();
    const long long third = (co_await lease.execute("CLIENT", "ID")).as_integer();
    EXPECT_NE(third, second);
    // A fresh lease is not inside the abandoned MULTI: SET runs at once.
    {
      const auto result = co_await lease.execute("SET", "y", 2);
      EXPECT_EQ(result.as_string(), "OK");
    }
  }());
}

TEST_F(ClientTest, BatchRunsInOneRoundTrip) {
  run([&]() -> awaitable<void> {
    client c(co_await asio::this_coro::executor, client_config::from_url(server_url()));
    co_await c.connect();
    rapyer::request batch;
    for (int i = 0; i < 100; ++i) batch.push("INCR", "batched");
    const auto replies = co_await c.execute(batch);
    EXPECT_EQ(replies.size(), 100u);
    if (replies.size() != 100) co_return;
    for (int i = 0; i < 100; ++i) EXPECT_EQ(replies[i].as_integer(), i + 1);
  }());
}

TEST_F(ClientTest, PoolOfZeroIsAConfigError) {
  auto config = client_config::from_url(server_url());
  config.pool_size = 0;
  EXPECT_THROW(client(ctx_.get_executor(), config), rapyer::config_error);
}

}  // namespace

#include "rapyer/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

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

client_config lease_config(std::size_t max_leases, std::chrono::milliseconds wait_timeout) {
  auto config = client_config::from_url(server_url());
  config.max_leases = max_leases;
  config.lease_wait_timeout = wait_timeout;
  return config;
}

awaitable<long long> client_id(rapyer::connection_lease& lease) {
  co_return (co_await lease.execute("CLIENT", "ID")).as_integer();
}

// The ids of the server's clients, from CLIENT LIST.
awaitable<std::set<long long>> server_client_ids(client& c) {
  const std::string list = (co_await c.execute("CLIENT", "LIST")).as_string();
  std::set<long long> ids;
  for (std::size_t at = list.find("id="); at != std::string::npos; at = list.find("\nid=", at + 1)) {
    ids.insert(std::stoll(list.substr(list.find('=', at) + 1)));
  }
  co_return ids;
}

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
  EXPECT_THROW(client(ctx_.get_executor(), lease_config(0, 1s)), rapyer::config_error);
}

TEST_F(ClientTest, LeaseExhaustionThrowsPoolExhaustedAfterTheWaitTimeout) {
  std::vector<std::string> warnings;
  run([&]() -> awaitable<void> {
    auto config = lease_config(2, 200ms);
    config.connection.logger = [&](rapyer::log_level level, std::string_view message) {
      if (level == rapyer::log_level::warning) warnings.emplace_back(message);
    };
    client c(co_await asio::this_coro::executor, config);
    co_await c.connect();
    auto first = co_await c.lease();
    auto second = co_await c.lease();
    EXPECT_EQ(c.leases_in_use(), 2u);
    const auto started = std::chrono::steady_clock::now();
    std::string message;
    try {
      (void)co_await c.lease();
    } catch (const rapyer::pool_exhausted& e) {
      message = e.what();
    }
    const auto waited = std::chrono::steady_clock::now() - started;
    const std::string expected =
        "lease: all 2 leased connections of 127.0.0.1:" + std::to_string(rapyer::test::server_port()) +
        " in use for 200 ms (max_leases)";
    EXPECT_EQ(message, expected);
    EXPECT_GE(waited, 200ms);
    EXPECT_LT(waited, 10s);
    EXPECT_EQ(warnings, std::vector<std::string>{expected});
    EXPECT_EQ(c.leases_in_use(), 2u);
    // The leases held keep working.
    EXPECT_EQ((co_await first.execute("PING")).as_string(), "PONG");
    EXPECT_EQ((co_await second.execute("PING")).as_string(), "PONG");
  }());
}

TEST_F(ClientTest, WaiterGetsTheConnectionGivenBack) {
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    client c(executor, lease_config(1, 10s));
    co_await c.connect();
    std::optional<rapyer::connection_lease> held = co_await c.lease();
    const long long held_id = co_await client_id(*held);
    std::optional<long long> waiter_id;
    asio::co_spawn(
        executor,
        [&]() -> awaitable<void> {
          auto lease = co_await c.lease();
          waiter_id = co_await client_id(lease);
        },
        [](std::exception_ptr e) { EXPECT_FALSE(e); });
    co_await sleep_for(50ms);
    EXPECT_FALSE(waiter_id.has_value());
    held.reset();
    // Handed straight to the waiter: never idle, still one in use.
    EXPECT_EQ(c.idle_leases(), 0u);
    EXPECT_EQ(c.leases_in_use(), 1u);
    while (!waiter_id) co_await sleep_for(1ms);
    EXPECT_EQ(*waiter_id, held_id);
    EXPECT_EQ(c.leases_in_use(), 0u);
    EXPECT_EQ(c.idle_leases(), 1u);
  }());
}

TEST_F(ClientTest, WaitersAreServedInTheOrderTheyCame) {
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    client c(executor, lease_config(1, 10s));
    co_await c.connect();
    std::optional<rapyer::connection_lease> held = co_await c.lease();
    std::vector<int> served;
    int done = 0;
    for (int i = 0; i < 5; ++i) {
      asio::co_spawn(
          executor,
          [&, i]() -> awaitable<void> {
            auto lease = co_await c.lease();
            served.push_back(i);
            co_await lease.execute("PING");  // holds it across a round trip
          },
          [&](std::exception_ptr e) {
            EXPECT_FALSE(e);
            ++done;
          });
      co_await sleep_for(5ms);  // queued one after the other
    }
    EXPECT_TRUE(served.empty());
    held.reset();
    while (done < 5) co_await sleep_for(1ms);
    EXPECT_EQ(served, (std::vector<int>{0, 1, 2, 3, 4}));
  }());
}

TEST_F(ClientTest, LeaseClosedInsteadOfReusedFreesItsPlace) {
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    client c(executor, lease_config(1, 10s));
    co_await c.connect();
    std::optional<rapyer::connection_lease> dirty = co_await c.lease();
    const long long dirty_id = co_await client_id(*dirty);
    co_await dirty->execute("MULTI");
    std::optional<long long> waiter_id;
    std::optional<std::string> waiter_set;
    asio::co_spawn(
        executor,
        [&]() -> awaitable<void> {
          auto lease = co_await c.lease();
          waiter_id = co_await client_id(lease);
          waiter_set = (co_await lease.execute("SET", "k", "v")).as_string();
        },
        [](std::exception_ptr e) { EXPECT_FALSE(e); });
    co_await sleep_for(50ms);
    EXPECT_FALSE(waiter_id.has_value());
    dirty.reset();
    while (!waiter_set) co_await sleep_for(1ms);
    EXPECT_NE(*waiter_id, dirty_id);
    EXPECT_EQ(*waiter_set, "OK");  // a fresh connection, not inside the abandoned MULTI
    EXPECT_EQ(c.leases_in_use(), 0u);
    EXPECT_EQ(c.idle_leases(), 1u);
  }());
}

TEST_F(ClientTest, FailedConnectFreesItsPlace) {
  run([&]() -> awaitable<void> {
    auto config = client_config::from_url("redis://127.0.0.1:1?max_leases=1&lease_wait_timeout=10s");
    client c(co_await asio::this_coro::executor, config);
    for (int i = 0; i < 3; ++i) {
      EXPECT_THROW((void)co_await c.lease(), rapyer::connection_error);
      EXPECT_EQ(c.leases_in_use(), 0u);
    }
  }());
}

TEST_F(ClientTest, IdleLeasesAreClosedAfterTheIdleTimeout) {
  run([&]() -> awaitable<void> {
    auto config = client_config::from_url(server_url());
    config.lease_idle_timeout = 100ms;
    client c(co_await asio::this_coro::executor, config);
    co_await c.connect();
    std::set<long long> leased;
    {
      std::vector<rapyer::connection_lease> leases;
      for (int i = 0; i < 3; ++i) {
        leases.push_back(co_await c.lease());
        leased.insert(co_await client_id(leases.back()));
      }
      const auto before = co_await server_client_ids(c);
      for (long long id : leased) EXPECT_TRUE(before.contains(id)) << id;
    }
    EXPECT_EQ(c.idle_leases(), 3u);
    co_await sleep_for(300ms);  // nobody calls lease() meanwhile
    EXPECT_EQ(c.idle_leases(), 0u);
    EXPECT_EQ(c.leases_in_use(), 0u);
    // The server drops a closed connection when it reads the end of its stream.
    std::set<long long> still_listed = leased;
    for (int attempt = 0; attempt < 500 && !still_listed.empty(); ++attempt) {
      const auto ids = co_await server_client_ids(c);
      std::erase_if(still_listed, [&](long long id) { return !ids.contains(id); });
      if (!still_listed.empty()) co_await sleep_for(10ms);
    }
    EXPECT_TRUE(still_listed.empty());
    // A lease after the trim opens a new connection.
    auto lease = co_await c.lease();
    EXPECT_FALSE(leased.contains(co_await client_id(lease)));
  }());
}

TEST_F(ClientTest, CloseWakesWaitersWithConnectionError) {
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    client c(executor, lease_config(1, 10s));
    co_await c.connect();
    auto held = co_await c.lease();
    std::optional<std::string> waiter_error;
    asio::co_spawn(
        executor,
        [&]() -> awaitable<void> {
          try {
            (void)co_await c.lease();
          } catch (const rapyer::connection_error& e) {
            waiter_error = e.what();
          }
        },
        asio::detached);
    co_await sleep_for(50ms);
    const auto started = std::chrono::steady_clock::now();
    c.close();
    while (!waiter_error) co_await sleep_for(1ms);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);  // well before the 10 s wait
    const std::string expected =
        "lease: the client of 127.0.0.1:" + std::to_string(rapyer::test::server_port()) + " is closed";
    EXPECT_EQ(*waiter_error, expected);
    EXPECT_THROW((void)co_await c.lease(), rapyer::connection_error);
  }());
}

TEST_F(ClientTest, UrlOptionsAreApplied) {
  run([&]() -> awaitable<void> {
    client c(co_await asio::this_coro::executor,
             server_url() + "?client_name=url-options-test&pool_size=3&max_leases=1&lease_wait_timeout=50ms");
    co_await c.connect();
    EXPECT_EQ(c.connections().size(), 3u);
    auto lease = co_await c.lease();
    EXPECT_EQ((co_await lease.execute("CLIENT", "GETNAME")).as_string(), "url-options-test");
    const std::string list = (co_await c.execute("CLIENT", "LIST")).as_string();
    std::size_t named = 0;
    for (auto at = list.find(" name=url-options-test "); at != std::string::npos;
         at = list.find(" name=url-options-test ", at + 1)) {
      ++named;
    }
    EXPECT_EQ(named, 4u);  // three pooled, one leased
    try {
      (void)co_await c.lease();
      ADD_FAILURE() << "a second lease with max_leases=1";
    } catch (const rapyer::pool_exhausted& e) {
      EXPECT_EQ(std::string(e.what()),
                "lease: all 1 leased connections of 127.0.0.1:" + std::to_string(rapyer::test::server_port()) +
                    " in use for 50 ms (max_leases)");
    }
  }());
}

}  // namespace

// rapyer::client on a Redis Cluster of its own (3 primaries, 1 replica each): discovery, routing,
// split batches, refusals before sending, redirections during resharding, failover.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rapyer/detail/cluster/key_slot.hpp"
#include "test_support.hpp"

namespace rapyer::test {
namespace {

using rapyer::testing::embedded_cluster;

class client_cluster : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { nodes = new embedded_cluster(); }
  static void TearDownTestSuite() {
    delete nodes;
    nodes = nullptr;
  }
  void SetUp() override {
    nodes->wait_until_ok();
    for (const std::size_t primary : nodes->primaries()) nodes->command(primary, {"FLUSHALL"});
  }

  template <class T>
  T run(awaitable<T> task) {
    return rapyer::test::run(ctx_, std::move(task));
  }
  std::shared_ptr<client> connect(const std::string& url) {
    auto redis = std::make_shared<client>(ctx_.get_executor(), url);
    run(redis->connect());
    return redis;
  }
  // The key's value read from the node that owns its slot, bypassing the client.
  static std::string stored(const std::string& key) {
    return nodes->command(nodes->primary_of_slot(detail::cluster::key_slot(key)), {"GET", key});
  }

  static embedded_cluster* nodes;
  boost::asio::io_context ctx_;
};

embedded_cluster* client_cluster::nodes = nullptr;

TEST_F(client_cluster, FindsTheClusterFromAnyOneNodeAndRoutesEachKeyToItsPrimary) {
  for (const std::size_t entry : {std::size_t{0}, nodes->size() - 1}) {  // a primary, then a replica
    auto redis = connect(nodes->node_url(entry));
    EXPECT_TRUE(redis->is_cluster());
    EXPECT_EQ(run(redis->primaries()).size(), 3U);
    for (int i = 0; i < 200; ++i) {
      const std::string key = "key:" + std::to_string(i);
      run(redis->execute("SET", key, std::to_string(i * 7 + static_cast<int>(entry))));
      EXPECT_EQ(stored(key), std::to_string(i * 7 + static_cast<int>(entry))) << key;
      EXPECT_EQ(run(redis->execute("GET", key)).as_string(), std::to_string(i * 7 + static_cast<int>(entry)));
    }
    redis->close();
  }
}

TEST_F(client_cluster, AStandaloneServerIsNoCluster) {
  const rapyer::testing::embedded_server standalone;
  auto redis = connect(standalone.url());
  EXPECT_FALSE(redis->is_cluster());
  EXPECT_EQ(run(redis->primaries()).size(), 1U);
  redis->close();
}

TEST_F(client_cluster, ABatchOverSeveralNodesIsSplitAndItsRepliesComeBackInOrder) {
  auto redis = connect(nodes->url());
  request req;
  std::set<std::size_t> owners;
  for (int i = 0; i < 60; ++i) {
    const std::string key = "batch:" + std::to_string(i);
    owners.insert(nodes->primary_of_slot(detail::cluster::key_slot(key)));
    req.push("SET", key, i).push("INCRBY", key, 1000).push("GET", key);
  }
  ASSERT_EQ(owners.size(), 3U);
  const auto replies = run(redis->execute(std::move(req)));
  ASSERT_EQ(replies.size(), 180U);
  for (int i = 0; i < 60; ++i) {
    EXPECT_EQ(replies[static_cast<std::size_t>(i) * 3].as_string(), "OK");
    EXPECT_EQ(replies[static_cast<std::size_t>(i) * 3 + 1].as_integer(), i + 1000);
    EXPECT_EQ(replies[static_cast<std::size_t>(i) * 3 + 2].as_string(), std::to_string(i + 1000));
  }
  redis->close();
}

TEST_F(client_cluster, CrossSlotCommandsAndTransactionsAreRefusedBeforeAnythingIsSent) {
  auto redis = connect(nodes->url());
  const std::string a = "cross:a";
  std::string b = "cross:b";
  for (int i = 0; detail::cluster::key_slot(a) == detail::cluster::key_slot(b); ++i) b += std::to_string(i);
  const auto before = redis->stats().commands;
  try {
    run(redis->execute("MGET", a, b));
    FAIL() << "MGET across slots was sent";
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find(a), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(b), std::string::npos) << e.what();
  }
  request transaction;
  transaction.push("MULTI").push("SET", a, 1).push("SET", b, 2).push("EXEC");
  try {
    run(redis->execute(std::move(transaction)));
    FAIL() << "a cross-slot MULTI was sent";
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find(b), std::string::npos) << e.what();
  }
  EXPECT_EQ(redis->stats().commands, before);
  EXPECT_EQ(stored(a), "(nil)");
  EXPECT_EQ(stored(b), "(nil)");

  request same_slot;
  same_slot.push("MULTI").push("SET", "{t}a", 1).push("INCR", "{t}b").push("EXEC");
  const auto replies = run(redis->execute(std::move(same_slot)));
  ASSERT_TRUE(replies.back().is_array());
  EXPECT_EQ(replies.back().as_array().at(1).as_integer(), 1);
  redis->close();
}

TEST_F(client_cluster, ThousandsOfConcurrentIncrementsCoalesceAndCountExactly) {
  auto redis = connect(nodes->url());
  constexpr int coroutines = 1000;
  int done = 0;
  for (int c = 0; c < coroutines; ++c) {
    boost::asio::co_spawn(ctx_, redis->execute("INCR", "counter:" + std::to_string(c % 10)),
                          [&](std::exception_ptr e, reply) {
                            EXPECT_FALSE(e);
                            ++done;
                          });
  }
  while (done < coroutines && ctx_.run_one() > 0) {
  }
  ASSERT_EQ(done, coroutines);
  for (int k = 0; k < 10; ++k) EXPECT_EQ(stored("counter:" + std::to_string(k)), "100");
  redis->close();
}

TEST_F(client_cluster, FollowsSlotsMovedWhileItRunsWithoutAnErrorReachingTheCaller) {
  auto redis = connect(nodes->url());
  const auto primaries = nodes->primaries();
  for (int i = 0; i < 300; ++i) run(redis->execute("SET", "moving:" + std::to_string(i), 0));
  std::atomic<bool> migrated{false};
  std::thread reshard([&] {
    nodes->migrate_slots(primaries[0], primaries[1], 500);
    migrated = true;
  });
  int increments = 0;
  std::vector<int> expected(300, 0);
  while (!migrated || increments < 3000) {
    request req;
    for (int i = 0; i < 10; ++i) {
      const int k = (increments + i * 31) % 300;
      req.push("INCR", "moving:" + std::to_string(k));
      ++expected[static_cast<std::size_t>(k)];
    }
    const auto replies = run(redis->execute(std::move(req)));
    for (const auto& r : replies) ASSERT_TRUE(r.is_integer()) << r.to_debug_string();
    increments += 10;
  }
  reshard.join();
  for (int k = 0; k < 300; ++k) {
    EXPECT_EQ(stored("moving:" + std::to_string(k)), std::to_string(expected[static_cast<std::size_t>(k)]));
  }
  redis->close();
}

TEST_F(client_cluster, FollowsAFailoverOfAPrimary) {
  auto redis = connect(nodes->url());
  const std::size_t old_primary = nodes->primaries().front();
  const auto replica = nodes->replica_of(old_primary);
  ASSERT_TRUE(replica.has_value());
  std::string key = "failover:0";
  for (int i = 1; nodes->primary_of_slot(detail::cluster::key_slot(key)) != old_primary; ++i) {
    key = "failover:" + std::to_string(i);
  }
  EXPECT_EQ(run(redis->execute("INCR", key)).as_integer(), 1);
  nodes->failover(*replica);
  EXPECT_EQ(run(redis->execute("INCR", key)).as_integer(), 2);
  EXPECT_EQ(stored(key), "2");
  redis->close();
}

TEST_F(client_cluster, ReadsGoToReplicasWhenAsked) {
  auto redis = connect(nodes->url() + "?read_from_replicas=true&wait_replicas=1");
  const auto get_calls = [](std::size_t node) {
    const std::string stats = nodes->command(node, {"INFO", "commandstats"});
    const auto at = stats.find("cmdstat_get:calls=");
    return at == std::string::npos ? 0L : std::stol(stats.substr(at + 18));
  };
  std::map<std::size_t, long> before;
  for (std::size_t node = 0; node < nodes->size(); ++node) before[node] = get_calls(node);
  for (int i = 0; i < 60; ++i) {
    const std::string key = "replicated:" + std::to_string(i);
    run(redis->execute("SET", key, i));  // acknowledged by the replica (wait_replicas=1)
    EXPECT_EQ(run(redis->execute("GET", key)).as_string(), std::to_string(i));
  }
  long on_primaries = 0;
  long on_replicas = 0;
  const auto primaries = nodes->primaries();
  for (std::size_t node = 0; node < nodes->size(); ++node) {
    const long calls = get_calls(node) - before[node];
    const bool primary = std::find(primaries.begin(), primaries.end(), node) != primaries.end();
    (primary ? on_primaries : on_replicas) += calls;
  }
  EXPECT_EQ(on_replicas, 60);
  EXPECT_EQ(on_primaries, 0);
  // Writes still go to the primaries.
  EXPECT_EQ(stored("replicated:7"), "7");
  redis->close();
}

TEST_F(client_cluster, ALeaseForAKeyIsOnItsNode) {
  auto redis = connect(nodes->url());
  for (int i = 0; i < 10; ++i) {
    const std::string key = "lease:" + std::to_string(i);
    const auto replies = run([](std::shared_ptr<client> on, std::string k, int value) -> awaitable<std::vector<reply>> {
      auto lease = co_await on->lease(k);
      request transaction;  // named: GCC 12 mishandles temporaries inside co_await expressions
      transaction.push("WATCH", k).push("MULTI").push("SET", k, value).push("EXEC");
      co_return co_await lease.execute(std::move(transaction));
    }(redis, key, i));
    EXPECT_TRUE(replies.back().is_array()) << replies.back().to_debug_string();
    EXPECT_EQ(stored(key), std::to_string(i));
  }
  redis->close();
}

}  // namespace
}  // namespace rapyer::test

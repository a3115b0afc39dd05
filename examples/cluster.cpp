// The same model code on a Redis Cluster: the client finds the cluster from any node's URL (or a
// seed list), routes every command to the primary owning its keys' hash slot, splits bulk
// operations per node and refuses what cannot stay in one slot before sending anything.
// Runs against REDIS_CLUSTER_URL when set, else against a private cluster of 3 primaries with one
// replica each, started for the run (rapyer::testing::embedded_cluster).
#include <rapyer/testing/embedded_cluster.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "example_main.hpp"

struct Player : rapyer::AtomicRedisModel<Player> {
  rapyer::RedisStr name;
  rapyer::RedisInt score;
  rapyer::RedisList<std::string> badges;
  static rapyer::model_config redis_config() {
    rapyer::model_config config;
    config.indexes = {"score"};  // index shards live in per-bucket slots: indexed writes stay atomic
    return config;
  }
};
BOOST_DESCRIBE_STRUCT(Player, (), (name, score, badges))

rapyer::awaitable<void> cluster_tour(const std::string& url) {
  rapyer::client& redis = rapyer::default_client();
  check(redis.is_cluster(), "a cluster was found from the URL");

  // Bulk operations go as one MULTI/EXEC per hash slot, one round trip per node, in parallel.
  std::vector<Player> players(60);
  for (std::size_t i = 0; i < players.size(); ++i) {
    players[i].name = "player" + std::to_string(i);
    players[i].score = static_cast<long long>(i);
  }
  co_await Player::ainsert(players);
  std::vector<std::string> keys;
  keys.reserve(players.size());
  for (const auto& p : players) keys.push_back(p.key());
  const auto loaded = co_await Player::afind(keys);
  check(loaded.size() == players.size(), "afind(keys) across slots");

  // The keys spread over every primary; commands meant for a node go through primaries().
  std::map<std::string, long long> keys_per_node;
  auto primaries = co_await redis.primaries();
  for (auto& node : primaries) {
    rapyer::request dbsize;
    dbsize.push("DBSIZE");
    const rapyer::reply count = co_await node.execute_one(std::move(dbsize));
    keys_per_node[node.endpoint()] = count.as_integer();
  }
  for (const auto& [endpoint, count] : keys_per_node) std::cout << endpoint << " holds " << count << " keys\n";
  check(keys_per_node.size() >= 3, "three primaries");

  // Field operations and indexed queries are routed like single models: one slot each.
  co_await players[7].score.aincrease(100);
  co_await players[7].badges.aappend("champion");
  const auto top = co_await Player::afind(rapyer::where(&Player::score) >= 100);
  const bool found = std::any_of(top.begin(), top.end(), [&](const Player& p) { return p.key() == players[7].key(); });
  check(found, "indexed query across buckets");
  std::cout << "players with 100 points or more: " << top.size() << "\n";

  // One model's keys share one slot, so its transactions work; models in different slots cannot
  // share a MULTI/EXEC, and the client says so before sending anything.
  co_await rapyer::atransaction<Player>(players[1].key(), [](Player& fresh) -> rapyer::awaitable<void> {
    fresh.score = fresh.score.value() * 10;
    co_return;
  });
  // An indexed class keeps each model in the slot of its index bucket, the key's first {…} tag.
  const auto bucket_of = [](const Player& p) { return p.key().substr(0, p.key().find('}')); };
  const auto elsewhere = std::find_if(players.begin(), players.end(),
                                      [&](const Player& p) { return bucket_of(p) != bucket_of(players[1]); });
  bool refused = false;
  try {
    co_await rapyer::atransaction<Player, Player>(players[1].key(), elsewhere->key(),
                                                  [](Player&, Player&) -> rapyer::awaitable<void> { co_return; });
  } catch (const rapyer::usage_error& e) {
    refused = true;
    std::cout << "refused: " << e.what() << '\n';
  }
  check(refused, "a transaction over two slots is refused");

  // A connection of its own on the node of a key, for blocking commands.
  const std::string jobs = "jobs:{queue}";
  co_await redis.execute("RPUSH", jobs, "resize-image");
  {
    auto lease = co_await redis.lease(jobs);
    rapyer::request pop;
    pop.push("BLPOP", jobs, 1);
    const rapyer::reply popped = co_await lease.execute_one(std::move(pop));
    check(popped.as_array().at(1).as_string() == "resize-image", "BLPOP on the key's node");
  }

  co_await Player::adelete_many(keys);  // leaves a given cluster as it was

  // Durability: with wait_replicas=1 each write also waits for a replica's acknowledgement (WAIT),
  // in the same round trip; too few acknowledgements (a cluster without replicas) is a
  // replication_error.
  const std::string durable_url =
      url + (url.find('?') == std::string::npos ? "?" : "&") + "wait_replicas=1&wait_timeout=2000";
  rapyer::client durable(redis.get_executor(), durable_url);
  co_await durable.connect();
  co_await durable.execute("SET", "acknowledged:{note}", "kept on a replica");
  co_await durable.execute("DEL", "acknowledged:{note}");
  durable.close();
  std::cout << "write acknowledged by a replica\n";
}

int main() {
  return report_failure("cluster", [] {
    std::unique_ptr<rapyer::testing::embedded_cluster> cluster;  // only when REDIS_CLUSTER_URL is unset
    std::string url;
    if (const char* given = std::getenv("REDIS_CLUSTER_URL"); given != nullptr && *given != '\0') {
      url = given;
    } else {
      cluster = std::make_unique<rapyer::testing::embedded_cluster>();
      url = cluster->url();
    }
    run_with_default_client(url, [&] { return cluster_tour(url); });
  });
}

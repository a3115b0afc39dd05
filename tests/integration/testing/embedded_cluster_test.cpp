// Clusters of their own: start, slots, automatic and manual failover, restart, resharding under
// load. Never the shared server.
#include "rapyer/testing/embedded_cluster.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using rapyer::awaitable;
using rapyer::test::sleep_for;
using rapyer::testing::embedded_cluster;
using rapyer::testing::embedded_cluster_options;

constexpr std::size_t slot_count = 16384;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Redis Cluster's key hash (CRC16-XMODEM), to build keys for chosen slots.
std::uint16_t crc16(std::string_view data) {
  std::uint16_t crc = 0;
  for (const unsigned char c : data) {
    crc = static_cast<std::uint16_t>(crc ^ (c << 8));
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<std::uint16_t>((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
  }
  return crc;
}

// A hash tag whose keys ({tag}...) all fall into `slot`.
std::string hash_tag_for(std::size_t slot) {
  for (int n = 0;; ++n) {
    std::string tag = "t" + std::to_string(n);
    if (crc16(tag) % slot_count == slot) return "{" + tag + "}";
  }
}

std::size_t slot_of(const embedded_cluster& cluster, const std::string& key) {
  return std::stoul(cluster.command(cluster.primaries().front(), {"CLUSTER", "KEYSLOT", key}));
}

bool accepts_connections(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

// This process's children (the shared test server among them), from /proc.
std::size_t child_processes() {
  std::size_t count = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream children(task.path() / "children");
    for (std::string pid; children >> pid;) ++count;
  }
  return count;
}

std::string role_of(const embedded_cluster& cluster, std::size_t node) {
  const std::string role = cluster.command(node, {"ROLE"});
  return role.substr(0, role.find('\n'));
}

// Keys in slots served by `primary`, written there and replicated to its replica.
std::map<std::string, std::string> write_keys_to(embedded_cluster& cluster, std::size_t primary, int count) {
  std::map<std::string, std::string> written;
  for (int i = 0; written.size() < static_cast<std::size_t>(count); ++i) {
    const std::string key = "key:" + std::to_string(i);
    if (cluster.primary_of_slot(static_cast<std::uint16_t>(slot_of(cluster, key))) != primary) continue;
    const std::string value = "value " + std::to_string(i);
    EXPECT_EQ(cluster.command(primary, {"SET", key, value}), "OK");
    written[key] = value;
  }
  // Replication is asynchronous (and WAIT would only count this connection's writes): poll the
  // replica, which holds exactly its primary's keys.
  const std::size_t replica = cluster.replica_of(primary).value();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (cluster.command(replica, {"DBSIZE"}) != std::to_string(written.size()) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(cluster.command(replica, {"DBSIZE"}), std::to_string(written.size())) << "replica " << replica;
  return written;
}

// A minimal cluster client for the resharding test, one connection per node: MOVED updates the
// slot's owner, ASK sends ASKING and the command to the importing node once, TRYAGAIN retries.
class redirecting_client {
 public:
  explicit redirecting_client(const embedded_cluster& cluster) : cluster_(cluster) {}

  awaitable<void> connect() {
    auto executor = co_await asio::this_coro::executor;
    for (std::size_t node = 0; node < cluster_.size(); ++node) {
      connections_.push_back(
          std::make_unique<rapyer::connection>(executor, rapyer::connection_config::from_url(cluster_.node_url(node))));
      co_await connections_.back()->connect();
    }
  }

  void set_owner(std::size_t slot, std::size_t node) { owners_[slot] = node; }

  awaitable<rapyer::reply> execute(std::size_t slot, const std::vector<std::string>& argv) {
    std::size_t node = owners_.at(slot);
    bool asking = false;
    for (int attempt = 0; attempt < 100; ++attempt) {
      rapyer::request req;
      if (asking) req.push("ASKING");
      req.push(argv.front(), std::vector<std::string>(argv.begin() + 1, argv.end()));
      auto replies = co_await connections_.at(node)->execute(std::move(req));
      rapyer::reply reply = std::move(replies.back());
      asking = false;
      if (!reply.is_error()) co_return reply;
      const std::string& message = reply.error_message();
      if (message.rfind("MOVED ", 0) == 0) {
        ++moved;
        node = owners_[slot] = node_of_redirect(message);
      } else if (message.rfind("ASK ", 0) == 0) {
        ++asked;
        node = node_of_redirect(message);
        asking = true;
      } else if (message.rfind("TRYAGAIN", 0) == 0) {
        ++retried;
        co_await sleep_for(5ms);
        node = owners_[slot];
      } else {
        reply.throw_if_error(argv.front());
      }
    }
    throw rapyer::error(argv.front() + ": still redirected after 100 attempts");
  }

  int moved = 0;
  int asked = 0;
  int retried = 0;

 private:
  // "MOVED <slot> 127.0.0.1:<port>" or "ASK <slot> 127.0.0.1:<port>"
  std::size_t node_of_redirect(const std::string& message) const {
    const auto port = static_cast<std::uint16_t>(std::stoul(message.substr(message.rfind(':') + 1)));
    for (std::size_t node = 0; node < cluster_.size(); ++node) {
      if (cluster_.port(node) == port) return node;
    }
    throw rapyer::error("redirected to an unknown node: " + message);
  }

  const embedded_cluster& cluster_;
  std::vector<std::unique_ptr<rapyer::connection>> connections_;
  std::map<std::size_t, std::size_t> owners_;
};

TEST(EmbeddedClusterTest, StartsThreePrimariesWithOneReplicaEachCoveringAllSlots) {
  const auto started = std::chrono::steady_clock::now();
  embedded_cluster cluster;
  std::cout << "3+3 cluster ready in " << seconds_since(started) << " s\n";

  ASSERT_EQ(cluster.size(), 6u);
  const auto primaries = cluster.primaries();
  ASSERT_EQ(primaries.size(), 3u);
  std::vector<std::size_t> replicas;
  for (const std::size_t primary : primaries) {
    const auto replica = cluster.replica_of(primary);
    ASSERT_TRUE(replica.has_value()) << "primary " << primary;
    EXPECT_EQ(std::count(primaries.begin(), primaries.end(), *replica), 0);
    EXPECT_EQ(role_of(cluster, *replica), "slave");
    replicas.push_back(*replica);
  }
  std::sort(replicas.begin(), replicas.end());
  EXPECT_EQ(std::unique(replicas.begin(), replicas.end()), replicas.end()) << "a replica serves two primaries";

  const auto counts = cluster.slot_counts();
  EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), std::size_t{0}), slot_count);
  for (std::size_t node = 0; node < cluster.size(); ++node) {
    const bool primary = std::count(primaries.begin(), primaries.end(), node) > 0;
    EXPECT_EQ(counts[node] > 0, primary) << "node " << node;
    const std::string info = cluster.command(node, {"CLUSTER", "INFO"});
    EXPECT_NE(info.find("cluster_state:ok"), std::string::npos) << info;
    EXPECT_NE(info.find("cluster_slots_ok:16384"), std::string::npos) << info;
    EXPECT_NE(info.find("cluster_known_nodes:6"), std::string::npos) << info;
    EXPECT_EQ(cluster.node_url(node), "redis://127.0.0.1:" + std::to_string(cluster.port(node)));
    EXPECT_NE(cluster.port(node), 6379);
  }
  EXPECT_THROW(cluster.port(6), rapyer::usage_error);
  EXPECT_THROW(cluster.command(0, {}), rapyer::usage_error);
  EXPECT_THROW(cluster.migrate_slots(primaries[0], primaries[0], 1), rapyer::usage_error);
  EXPECT_THROW(cluster.migrate_slots(primaries[0], primaries[1], slot_count), rapyer::usage_error);
  const std::string url = cluster.url();
  EXPECT_EQ(url.rfind("redis://127.0.0.1:", 0), 0u) << url;
  EXPECT_EQ(std::count(url.begin(), url.end(), ','), 5) << url;

  // Each key lives on the node of its slot; any other primary redirects with MOVED.
  for (int i = 0; i < 50; ++i) {
    const std::string key = "user:" + std::to_string(i);
    const std::size_t slot = slot_of(cluster, key);
    EXPECT_EQ(slot, crc16(key) % slot_count);
    const std::size_t owner = cluster.primary_of_slot(static_cast<std::uint16_t>(slot));
    EXPECT_EQ(cluster.command(owner, {"SET", key, "v" + std::to_string(i)}), "OK");
    EXPECT_EQ(cluster.command(owner, {"GET", key}), "v" + std::to_string(i));
    const std::size_t other =
        primaries[(std::find(primaries.begin(), primaries.end(), owner) - primaries.begin() + 1) % 3];
    try {
      cluster.command(other, {"GET", key});
      ADD_FAILURE() << "node " << other << " served " << key << " of slot " << slot;
    } catch (const rapyer::server_error& e) {
      EXPECT_NE(std::string(e.what()).find("node " + std::to_string(other) +
                                           " (127.0.0.1:" + std::to_string(cluster.port(other)) + ")"),
                std::string::npos)
          << e.what();
      EXPECT_EQ(e.server_message(),
                "MOVED " + std::to_string(slot) + " 127.0.0.1:" + std::to_string(cluster.port(owner)));
    }
  }
}

TEST(EmbeddedClusterTest, DestructorLeavesNoProcessBehind) {
  const std::size_t children_before = child_processes();
  std::vector<int> pids;
  std::vector<std::uint16_t> ports;
  std::chrono::steady_clock::time_point stopping;
  {
    embedded_cluster_options options;
    options.replicas_per_primary = 0;
    embedded_cluster cluster(options);
    ASSERT_EQ(cluster.size(), 3u);
    EXPECT_EQ(cluster.primaries().size(), 3u);
    for (std::size_t node = 0; node < cluster.size(); ++node) {
      pids.push_back(cluster.pid(node));
      ports.push_back(cluster.port(node));
      EXPECT_TRUE(accepts_connections(cluster.port(node)));
      EXPECT_TRUE(accepts_connections(static_cast<std::uint16_t>(cluster.port(node) + 10000)));
    }
    stopping = std::chrono::steady_clock::now();
  }
  std::cout << "3 nodes stopped in " << seconds_since(stopping) << " s\n";
  EXPECT_EQ(child_processes(), children_before);
  for (const int pid : pids) {
    errno = 0;
    EXPECT_EQ(::kill(pid, 0), -1) << "pid " << pid << " still exists";
    EXPECT_EQ(errno, ESRCH);
  }
  for (const std::uint16_t port : ports) {
    EXPECT_FALSE(accepts_connections(port)) << port;
    EXPECT_FALSE(accepts_connections(static_cast<std::uint16_t>(port + 10000))) << port + 10000;
  }
}

TEST(EmbeddedClusterTest, RefusesWhatCannotWorkAndStopsWhatItStarted) {
  const std::size_t children_before = child_processes();
  embedded_cluster_options too_few;
  too_few.primaries = 2;
  EXPECT_THROW({ embedded_cluster cluster(too_few); }, rapyer::usage_error);
  embedded_cluster_options no_server;
  no_server.executable = "rapyer-no-such-redis-server";
  EXPECT_THROW({ embedded_cluster cluster(no_server); }, rapyer::connection_error);
  // The nodes start, redis-cli does not: they are stopped again.
  embedded_cluster_options no_cli;
  no_cli.cli = "rapyer-no-such-redis-cli";
  EXPECT_THROW({ embedded_cluster cluster(no_cli); }, rapyer::connection_error);
  EXPECT_EQ(child_processes(), children_before);
}

TEST(EmbeddedClusterTest, KilledPrimaryIsReplacedByItsReplicaAndRejoinsAsReplica) {
  embedded_cluster cluster;
  const std::size_t primary = cluster.primaries().front();
  const std::size_t replica = cluster.replica_of(primary).value();
  const std::size_t primary_slots = cluster.slot_counts()[primary];
  const auto written = write_keys_to(cluster, primary, 20);
  EXPECT_THROW(cluster.wait_for_failover_of(primary), rapyer::usage_error) << "it is running";

  cluster.kill(primary);
  EXPECT_FALSE(cluster.running(primary));
  EXPECT_EQ(cluster.pid(primary), -1);
  const auto killed = std::chrono::steady_clock::now();
  cluster.wait_for_failover_of(primary);
  std::cout << "failover after a kill took " << seconds_since(killed) << " s\n";

  auto primaries = cluster.primaries();
  EXPECT_EQ(primaries.size(), 3u);
  EXPECT_EQ(std::count(primaries.begin(), primaries.end(), replica), 1);
  EXPECT_EQ(cluster.slot_counts()[replica], primary_slots);
  EXPECT_EQ(cluster.slot_counts()[primary], 0u);
  EXPECT_FALSE(cluster.replica_of(replica).has_value());
  for (std::size_t node = 0; node < cluster.size(); ++node) {
    if (node == primary) continue;
    EXPECT_NE(cluster.command(node, {"CLUSTER", "INFO"}).find("cluster_state:ok"), std::string::npos);
  }
  for (const auto& [key, value] : written) {
    EXPECT_EQ(cluster.primary_of_slot(static_cast<std::uint16_t>(slot_of(cluster, key))), replica);
    EXPECT_EQ(cluster.command(replica, {"GET", key}), value);
  }

  const auto restarted = std::chrono::steady_clock::now();
  cluster.restart(primary);
  std::cout << "rejoin after a restart took " << seconds_since(restarted) << " s\n";
  EXPECT_TRUE(cluster.running(primary));
  primaries = cluster.primaries();
  EXPECT_EQ(std::count(primaries.begin(), primaries.end(), primary), 0);
  EXPECT_EQ(role_of(cluster, primary), "slave");
  EXPECT_EQ(cluster.replica_of(replica), primary);
  // In sync again: its data is its new primary's.
  EXPECT_EQ(cluster.command(primary, {"DBSIZE"}), std::to_string(written.size()));
}

TEST(EmbeddedClusterTest, ManualFailoverSwapsRoles) {
  embedded_cluster cluster;
  const std::size_t primary = cluster.primaries().front();
  const std::size_t replica = cluster.replica_of(primary).value();
  const std::size_t primary_slots = cluster.slot_counts()[primary];
  const auto written = write_keys_to(cluster, primary, 10);

  const auto started = std::chrono::steady_clock::now();
  cluster.failover(replica);
  std::cout << "manual failover took " << seconds_since(started) << " s\n";

  const auto primaries = cluster.primaries();
  EXPECT_EQ(std::count(primaries.begin(), primaries.end(), replica), 1);
  EXPECT_EQ(std::count(primaries.begin(), primaries.end(), primary), 0);
  EXPECT_EQ(cluster.replica_of(replica), primary);
  EXPECT_FALSE(cluster.replica_of(primary).has_value());
  EXPECT_EQ(cluster.slot_counts()[replica], primary_slots);
  for (const auto& [key, value] : written) EXPECT_EQ(cluster.command(replica, {"GET", key}), value);
  EXPECT_THROW(cluster.failover(replica), rapyer::server_error) << "a primary cannot fail over";
}

// Clients keep writing and reading the moving keys while another thread reshards: every write
// lands, every read sees its own write, and afterwards the slots and keys are on the new owner.
TEST(EmbeddedClusterTest, MigrateSlotsMovesSlotsWithTheirKeysWhileClientsWork) {
  constexpr std::size_t moved_slots = 40;
  constexpr int workers = 8;
  embedded_cluster cluster;
  // redis-cli gives each primary one range, so slot 0's owner serves 0..moved_slots-1.
  const std::size_t from = cluster.primary_of_slot(0);
  ASSERT_EQ(cluster.primary_of_slot(moved_slots - 1), from);
  const auto primaries = cluster.primaries();
  const std::size_t to = *std::find_if(primaries.begin(), primaries.end(), [&](std::size_t p) { return p != from; });
  const auto counts_before = cluster.slot_counts();

  // Five keys per slot; slot 0 has 250 more, which take several MIGRATE batches.
  std::vector<std::string> tags;
  std::map<std::string, std::string> latest;  // key → the value last written
  for (std::size_t slot = 0; slot < moved_slots; ++slot) {
    tags.push_back(hash_tag_for(slot));
    for (int i = 0; i < (slot == 0 ? 255 : 5); ++i) {
      const std::string key = tags.back() + ":" + std::to_string(i);
      latest[key] = "initial";
      ASSERT_EQ(cluster.command(from, {"SET", key, "initial"}), "OK");
    }
  }
  ASSERT_EQ(slot_of(cluster, tags[7] + ":0"), 7u);

  asio::io_context ctx;
  redirecting_client client(cluster);
  std::atomic<bool> migrated = false;
  std::exception_ptr migration_failure;
  std::thread migrator;
  double migration_seconds = 0;
  int operations = 0;
  int stopped = 0;
  std::vector<std::string> failures;
  rapyer::test::run(ctx, [&]() -> awaitable<void> {
    co_await client.connect();
    for (std::size_t slot = 0; slot < moved_slots; ++slot) client.set_owner(slot, from);
    auto executor = co_await asio::this_coro::executor;
    for (int w = 0; w < workers; ++w) {
      asio::co_spawn(
          executor,
          [&, w]() -> awaitable<void> {
            for (int round = 0; !migrated; ++round) {
              for (std::size_t slot = w; slot < moved_slots; slot += workers) {
                const std::string first = tags[slot] + ":0";
                // Slot 0's keys move in batches in lexicographic order: ":4" leaves after ":0".
                const std::string second = tags[slot] + ":4";
                const std::string value = std::to_string(w) + "/" + std::to_string(round);
                // Named vectors: GCC 12 rejects braced lists of literals inside co_await.
                const std::vector<std::string> set = {"SET", first, value};
                const std::vector<std::string> get = {"GET", first};
                const std::vector<std::string> mget = {"MGET", first, second};
                co_await client.execute(slot, set);
                latest[first] = value;
                const auto read = co_await client.execute(slot, get);
                if (read.as_string() != value)
                  failures.push_back(first + " read " + read.as_string() + ", not " + value);
                // Two keys of one slot: TRYAGAIN while the slot is split between the nodes.
                const auto both = co_await client.execute(slot, mget);
                if (both.as_array().at(0).as_string() != value || both.as_array().at(1).as_string() != latest[second]) {
                  failures.push_back("MGET " + first + " " + second + ": " + both.to_debug_string());
                }
                operations += 3;
              }
            }
          },
          [&](std::exception_ptr e) {
            if (e) {
              try {
                std::rethrow_exception(e);
              } catch (const std::exception& error) {
                failures.push_back(error.what());
              }
            }
            ++stopped;
          });
    }
    while (operations < 300) co_await sleep_for(1ms);
    migrator = std::thread([&] {
      const auto started = std::chrono::steady_clock::now();
      try {
        cluster.migrate_slots(from, to, moved_slots);
      } catch (...) {
        migration_failure = std::current_exception();
      }
      migration_seconds = seconds_since(started);
      migrated = true;
    });
    while (stopped < workers) co_await sleep_for(1ms);
  }());
  migrator.join();
  if (migration_failure) std::rethrow_exception(migration_failure);
  std::cout << "migrated " << moved_slots << " slots with " << latest.size() << " keys in " << migration_seconds
            << " s under " << operations << " client operations (" << client.moved << " MOVED, " << client.asked
            << " ASK, " << client.retried << " TRYAGAIN)\n";

  EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();
  EXPECT_GT(operations, 300);
  EXPECT_GT(client.moved, 0);
  const auto counts_after = cluster.slot_counts();
  EXPECT_EQ(counts_after[from], counts_before[from] - moved_slots);
  EXPECT_EQ(counts_after[to], counts_before[to] + moved_slots);
  EXPECT_EQ(std::accumulate(counts_after.begin(), counts_after.end(), std::size_t{0}), slot_count);
  for (std::size_t slot = 0; slot < moved_slots; ++slot) {
    EXPECT_EQ(cluster.primary_of_slot(static_cast<std::uint16_t>(slot)), to);
  }
  for (const auto& [key, value] : latest) {
    EXPECT_EQ(cluster.command(to, {"GET", key}), value) << key;
    EXPECT_THROW(cluster.command(from, {"GET", key}), rapyer::server_error) << key;
  }
  EXPECT_EQ(cluster.command(from, {"DBSIZE"}), "0");
}

}  // namespace

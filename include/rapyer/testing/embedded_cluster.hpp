// A private Redis Cluster of embedded_server nodes on loopback ports, persistence off: for tests of
// redirections (MOVED, ASK, TRYAGAIN), failover and resharding. Every query about its state asks
// the running nodes, so it reflects what the cluster did on its own (an automatic failover).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rapyer/testing/embedded_server.hpp"

namespace rapyer::testing {

struct embedded_cluster_options {
  /// At least 3: redis-cli --cluster create refuses fewer.
  std::size_t primaries = 3;
  std::size_t replicas_per_primary = 1;
  /// The server binary and redis-cli (looked up in PATH unless paths); redis-cli also joins Valkey
  /// nodes.
  std::string executable = default_server_executable();
  std::string cli = "redis-cli";
  /// cluster-node-timeout: how long a node is unreachable before its failover starts.
  std::chrono::milliseconds node_timeout{1000};
  /// Extra `--name value` arguments for every node.
  std::vector<std::string> extra_arguments;
  /// How long each wait (start, failover, rejoin, resharding, wait_until_ok) may take.
  std::chrono::milliseconds start_timeout{30000};
};

/// Nodes are numbered 0..size()-1 for the cluster's lifetime; a node keeps its port and its
/// cluster identity (nodes.conf) across kill() and restart(). Each call opens its own connections,
/// so calls may run on several threads at once (e.g. migrate_slots while clients run), except
/// kill() and restart(), which must not overlap other calls.
class embedded_cluster {
 public:
  /// Starts the nodes, joins them with `redis-cli --cluster create` and returns once every node
  /// reports cluster_state:ok, all agree on the slots and roles, and every replica is in sync.
  explicit embedded_cluster(embedded_cluster_options options = {});
  /// Stops every node and removes their directories.
  ~embedded_cluster();
  embedded_cluster(const embedded_cluster&) = delete;
  embedded_cluster& operator=(const embedded_cluster&) = delete;

  /// Number of nodes, primaries and replicas.
  std::size_t size() const noexcept { return nodes_.size(); }
  std::uint16_t port(std::size_t node) const;
  /// The node's process id; -1 while it is killed.
  int pid(std::size_t node) const;
  bool running(std::size_t node) const;
  /// The seed list of all nodes: redis://127.0.0.1:p1,127.0.0.1:p2,...
  std::string url() const;
  /// redis://127.0.0.1:<port of node>
  std::string node_url(std::size_t node) const;

  /// The running nodes that are primaries now, in ascending order.
  std::vector<std::size_t> primaries() const;
  /// The node serving `slot` now, as a running node sees it.
  std::size_t primary_of_slot(std::uint16_t slot) const;
  /// A healthy replica of `primary` (the lowest-numbered one), if it has any.
  std::optional<std::size_t> replica_of(std::size_t primary) const;
  /// How many slots each node serves now (0 for replicas), indexed by node.
  std::vector<std::size_t> slot_counts() const;

  /// SIGKILL, as a crash would.
  void kill(std::size_t node);
  /// Starts a killed node again on its port with its nodes.conf; returns once it has rejoined
  /// (wait_until_ok). A primary that lost its slots meanwhile rejoins as a replica.
  void restart(std::size_t node);
  /// CLUSTER FAILOVER on `replica`; returns once it is a primary and the cluster is ok.
  void failover(std::size_t replica);
  /// After kill(dead_primary): waits until no node assigns slots to it any more (a replica took
  /// them over) and the cluster is ok.
  void wait_for_failover_of(std::size_t dead_primary);
  /// Moves `count` of the slots `from` serves (its lowest) with their keys to `to`, one slot at a
  /// time, the way redis-cli reshards: IMPORTING/MIGRATING, MIGRATE in batches, SETSLOT NODE on
  /// every primary. Clients may keep using the cluster meanwhile (they see ASK, MOVED, TRYAGAIN).
  void migrate_slots(std::size_t from, std::size_t to, std::size_t count);
  /// Until every running node reports cluster_state:ok with all slots assigned, all agree on the
  /// slots and roles, no running node is flagged as failing, and every replica is in sync.
  void wait_until_ok();

  /// One command to one node, for tests. The reply as text: strings as they are, integers in
  /// decimal, nil as "(nil)", arrays as their elements one per line. An error reply throws
  /// server_error; an unreachable node throws connection_error.
  std::string command(std::size_t node, const std::vector<std::string>& argv) const;

 private:
  struct node_view;
  void check_node(std::size_t node) const;
  std::size_t node_of_id(const std::string& id) const;
  std::vector<node_view> cluster_nodes(std::size_t asked) const;
  std::size_t any_running_node() const;
  /// The cluster as every running node sees it, when all are ok and agree; nullopt otherwise,
  /// with the reason in why_not.
  std::optional<std::vector<node_view>> agreed_view(std::string& why_not) const;
  const node_view& view_of(const std::vector<node_view>& views, std::size_t node) const;
  /// Polls done(why_not) until it returns true; throws timeout_error with the last why_not after
  /// options_.start_timeout.
  template <class Predicate>
  void wait_until(const std::string& what, Predicate done) const;
  void create_cluster() const;

  embedded_cluster_options options_;
  std::vector<std::unique_ptr<embedded_server>> nodes_;
  /// Each node's cluster node id (CLUSTER MYID), which nodes.conf keeps across restarts.
  std::vector<std::string> ids_;
};

}  // namespace rapyer::testing

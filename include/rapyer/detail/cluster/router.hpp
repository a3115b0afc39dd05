// Redis Cluster under rapyer::client: a slot map, one node_pool per node, and the routing of each
// request to the primaries owning its keys' slots, following MOVED / ASK / TRYAGAIN / CLUSTERDOWN
// within bounds. The decisions are sans-IO (key_slot, slot_map, redirection, command_keys,
// batch_split); this is the I/O on top.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/config.hpp"
#include "rapyer/detail/cluster/batch_split.hpp"
#include "rapyer/detail/cluster/command_keys.hpp"
#include "rapyer/detail/cluster/slot_map.hpp"
#include "rapyer/detail/node_pool.hpp"

namespace rapyer::detail::cluster {

class router : public std::enable_shared_from_this<router> {
 public:
  router(boost::asio::any_io_executor executor, client_config config, std::shared_ptr<node_pool> seed);

  /// Asks `seed` (connected) whether it is a cluster node; if so, a router over the whole
  /// cluster with every primary connected, else nullptr.
  static awaitable<std::shared_ptr<router>> discover(boost::asio::any_io_executor executor, client_config config,
                                                     std::shared_ptr<node_pool> seed);

  /// Replies in the caller's order; see client::execute.
  static awaitable<std::vector<reply>> execute(std::shared_ptr<router> self, request req);
  /// The pool of the primary owning `key`'s slot (connected).
  static awaitable<std::shared_ptr<node_pool>> pool_of_key(std::shared_ptr<router> self, std::string key);
  /// Every primary's pool (connected), e.g. to SCAN each.
  static awaitable<std::vector<std::shared_ptr<node_pool>>> primary_pools(std::shared_ptr<router> self);

  /// Reads the slot map again from a reachable node; concurrent calls share one refresh.
  static awaitable<void> refresh(std::shared_ptr<router> self);

  void close();
  connection_stats stats() const noexcept;
  const std::shared_ptr<node_pool>& seed() const noexcept { return seed_; }
  const slot_map& slots() const noexcept { return map_; }

 private:
  using argv_list = std::vector<std::vector<std::string_view>>;
  struct deadline_state;

  // Where dispatch sends: by the slot map, or all to one node (after ASKING, for an ASK).
  struct route {
    std::optional<node_address> node;
    bool asking = false;
    bool to_replica = false;  // read-only request with read_from_replicas: a replica of the slot
  };
  // What dispatch sent where, and what came back: what settle() works on.
  struct sent_batch {
    std::vector<std::size_t> indices;  // of the request's commands sent, in order
    argv_list subset;                  // those commands
    std::vector<batch_unit> units;
    std::vector<batch_part> parts;                 // subset positions per node
    std::vector<node_address> nodes;               // by batch_part::node
    std::vector<std::vector<reply>> part_replies;  // empty for a part never sent
    std::vector<std::size_t> unsent;               // subset positions of parts whose node was down
    std::string down_error;
  };
  // Sends commands[indices] (whole units) to their nodes, one request per node in parallel, and
  // stores each reply at out[index]; then sends again exactly the commands that were redirected
  // or never sent, within the call's budget.
  static awaitable<void> dispatch(std::shared_ptr<router> self, const argv_list& commands,
                                  std::vector<std::size_t> indices, std::vector<reply>& out, deadline_state& budget,
                                  route to);
  // Stores the replies at out[indices], then sends again exactly the commands that were
  // redirected or never sent, within the call's budget.
  static awaitable<void> settle(std::shared_ptr<router> self, const argv_list& commands, sent_batch batch,
                                std::vector<reply>& out, deadline_state& budget);
  // The connected pool that takes the whole request as it is: its commands' keys lie in one slot
  // (or it has none) and that node's pool exists; nullptr otherwise. Sets `node`.
  std::shared_ptr<node_pool> direct_pool(std::string_view payload, node_address& node);
  static awaitable<std::shared_ptr<node_pool>> pool_of(std::shared_ptr<router> self, const node_address& node);
  // The primary of `slot` (a replica of it, in turn, for `to_replica`); one primary for keyless
  // commands (nullopt).
  node_address node_of(std::optional<std::uint16_t> slot, bool to_replica = false);
  // Whether every command of the request only reads (and none is MULTI): it may go to a replica.
  bool reads_only(const request& req) const;
  void schedule_refresh() noexcept;
  void start_periodic_refresh() noexcept;

  boost::asio::any_io_executor executor_;
  client_config config_;  // connection fields are per node; host and port are each pool's own
  std::shared_ptr<node_pool> seed_;
  slot_map map_;
  std::shared_ptr<const command_table> commands_;  // shared with every node_pool
  std::map<node_address, std::shared_ptr<node_pool>> pools_;
  boost::asio::steady_timer refresh_timer_;                  // periodic refresh
  std::shared_ptr<boost::asio::steady_timer> refresh_done_;  // set while a refresh runs; cancelled when it ends
  std::size_t next_replica_ = 0;                             // rotates replica reads over a shard's replicas
  bool closed_ = false;
};

}  // namespace rapyer::detail::cluster

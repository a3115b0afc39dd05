// A small pool of pipelined connections behind one copyable handle, plus exclusive leases of a
// connection for commands that need one to themselves (WATCH/MULTI/EXEC, blocking commands).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/config.hpp"
#include "rapyer/connection.hpp"
#include "rapyer/detail/command_interface.hpp"
#include "rapyer/subscription.hpp"

namespace rapyer {

namespace detail {
struct client_state;
class node_pool;
}  // namespace detail

class client;

/// One connection reserved for its holder until the lease is destroyed. A lease whose holder left
/// a WATCH or MULTI open, or that still awaits a reply (a blocking command that timed out), is
/// closed instead of being reused, so the next holder always starts clean; either way its place
/// under max_leases is free again.
class connection_lease : public detail::command_interface<connection_lease> {
 public:
  connection_lease(connection_lease&& other) noexcept;
  connection_lease& operator=(connection_lease&& other) noexcept;
  ~connection_lease();

  using command_interface::execute;
  awaitable<std::vector<reply>> execute(request req);
  awaitable<reply> execute_one(request req);

  connection& get() noexcept { return *connection_; }

 private:
  friend class detail::node_pool;
  connection_lease(const std::shared_ptr<detail::node_pool>& owner, std::unique_ptr<connection> conn);
  void track(const request& req, bool succeeded);
  void give_back() noexcept;

  std::weak_ptr<detail::node_pool> owner_;
  std::unique_ptr<connection> connection_;
  bool in_transaction_ = false;  // WATCH or MULTI sent, not yet ended by EXEC/DISCARD/UNWATCH
};

/// One primary server behind a client: the server itself when standalone, each primary of a
/// cluster (client::primaries()). For commands meant for a node rather than for keys: SCAN,
/// DBSIZE, FLUSHDB, INFO.
class server_node : public detail::command_interface<server_node> {
 public:
  using command_interface::execute;
  awaitable<std::vector<reply>> execute(request req);
  awaitable<reply> execute_one(request req);
  /// "host:port", for messages.
  std::string endpoint() const;

 private:
  friend class client;
  explicit server_node(std::shared_ptr<detail::node_pool> pool) : pool_(std::move(pool)) {}
  std::shared_ptr<detail::node_pool> pool_;
};

/// Copies share the same connections. Like connection, use it from coroutines on its executor.
///
/// Connected to a Redis Cluster node (or given a seed list, `redis://h1:p1,h2:p2`), it finds the
/// whole cluster by itself and routes every command to the primary owning its keys' hash slot;
/// see the README's "Redis Cluster" section.
class client : public detail::command_interface<client> {
 public:
  using executor_type = boost::asio::any_io_executor;

  client(executor_type executor, client_config config);
  client(executor_type executor, std::string_view url) : client(std::move(executor), client_config::from_url(url)) {}

  /// Opens every pooled connection; on a cluster node, reads the slot map and the command table
  /// and connects to every primary. Throws as connection::connect does.
  awaitable<void> connect();

  using command_interface::execute;
  /// Runs on the least loaded pooled connection, in one round trip. A request with a blocking
  /// command (BLPOP, XREAD … BLOCK, WAIT, …) runs on a lease instead, so that it holds up no one.
  /// On a cluster, each command goes to the primary of its keys' slot: a request touching
  /// several nodes is split, sent to them in parallel and its replies come back in order; a
  /// MULTI…EXEC block or a command whose keys span slots is refused with usage_error before
  /// anything is sent; a command without keys goes with the command before it, or to one primary.
  awaitable<std::vector<reply>> execute(request req);
  awaitable<reply> execute_one(request req);

  /// An exclusive, connected connection (reused from earlier leases when one is clean). At most
  /// max_leases leased connections exist; when all are in use this waits, first come first
  /// served, for one to be given back or closed, and throws pool_exhausted after
  /// lease_wait_timeout. Throws as connection::connect does when a new connection is needed, and
  /// connection_error once the client is closed.
  awaitable<connection_lease> lease();
  /// A lease on the node that owns `key` (the server itself when standalone): for WATCH/MULTI or a
  /// blocking command on that key.
  awaitable<connection_lease> lease(std::string key);

  /// Every primary (one when standalone), connected.
  awaitable<std::vector<server_node>> primaries();
  /// Whether connect() found a cluster.
  bool is_cluster() const noexcept;

  /// A subscription on a dedicated connection of its own, connected and confirmed: messages
  /// published once this returns are received. Throws as connection::connect does, and
  /// connection_error once the client is closed.
  awaitable<subscription> subscribe(std::vector<std::string> channels, subscription_options options = {});
  awaitable<subscription> psubscribe(std::vector<std::string> patterns, subscription_options options = {});
  /// `co_await redis.subscribe("a", "b")`, with the default options.
  template <class... Channels>
  requires detail::pubsub_names<Channels...> awaitable<subscription> subscribe(const Channels&... channels) {
    return subscribe(detail::name_list(channels...));
  }
  template <class... Patterns>
  requires detail::pubsub_names<Patterns...> awaitable<subscription> psubscribe(const Patterns&... patterns) {
    return psubscribe(detail::name_list(patterns...));
  }

  /// Closes every connection of the pool and every idle leased one; lease() calls waiting for a
  /// connection fail with connection_error. Leases in use are closed when given back.
  void close();

  const client_config& config() const noexcept;
  executor_type get_executor() const noexcept;
  /// The pooled connections (of the node first connected, on a cluster), e.g. to look at their load.
  const std::vector<std::unique_ptr<connection>>& connections() const noexcept;
  /// The counters of the pooled connections and the idle leased ones (of every node), added up.
  connection_stats stats() const noexcept;
  /// Leased connections held by lease holders (connecting ones included), of lease().
  std::size_t leases_in_use() const noexcept;
  /// Leased connections given back clean and kept for reuse, until lease_idle_timeout.
  std::size_t idle_leases() const noexcept;

 private:
  static awaitable<std::vector<server_node>> primaries_of(std::shared_ptr<detail::client_state> state);
  static awaitable<connection_lease> lease_for_key(std::shared_ptr<detail::client_state> state, std::string key);
  std::shared_ptr<detail::client_state> state_;
};

}  // namespace rapyer

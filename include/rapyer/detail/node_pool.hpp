// The connections of one server: pipelined connections shared by all requests, plus leased ones
// for commands that need a connection to themselves. rapyer::client holds one for a standalone
// server (or a sentinel-managed primary) and one per node of a cluster.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <vector>

#include "rapyer/config.hpp"
#include "rapyer/connection.hpp"

namespace rapyer {

class connection_lease;

namespace detail {

namespace cluster {
class command_table;
}

struct lease_waiter;

struct idle_lease {
  std::unique_ptr<connection> conn;
  std::chrono::steady_clock::time_point since;
};

/// The first reply of `replies`; an error reply throws server_error naming `command`.
awaitable<reply> first_reply(awaitable<std::vector<reply>> replies, std::string command);

class node_pool : public std::enable_shared_from_this<node_pool> {
 public:
  /// config.connection addresses this node; nothing connects before connect() or a lease.
  node_pool(boost::asio::any_io_executor executor, client_config config);

  /// Opens every pooled connection. Throws as connection::connect does.
  awaitable<void> connect();
  /// The least loaded connected pooled connection (any, when none is connected: it then fails
  /// at once with its connection_error).
  connection& least_loaded();
  /// On the least loaded connection, or on a lease when the request has a blocking command.
  awaitable<std::vector<reply>> execute(request req);
  awaitable<reply> execute_one(request req);
  /// See client::lease.
  static awaitable<connection_lease> lease(std::shared_ptr<node_pool> self);

  /// The server's command table, which tells writes (client_config::wait_replicas) apart.
  void set_command_table(std::shared_ptr<const cluster::command_table> commands) noexcept {
    commands_ = std::move(commands);
  }
  /// With wait_replicas, a request with a write gets `WAIT n timeout` appended; true if it did.
  bool append_replica_wait(request& req) const;
  /// Removes the WAIT reply appended by append_replica_wait; throws replication_error when fewer
  /// replicas than wait_replicas acknowledged.
  void check_replica_wait(std::vector<reply>& replies) const;

  // A leased connection comes back (nullptr: the lease failed to connect). A reusable one goes
  // to the first waiter or becomes idle; otherwise it is closed and its place passes to the first
  // waiter or is freed.
  void release(std::unique_ptr<connection> conn, bool reusable) noexcept;
  void close();
  /// Sentinel: the primary moved there; pooled and idle connections reconnect to it.
  void follow_primary(const host_port& primary);

  const client_config& config() const noexcept { return config_; }
  const std::vector<std::unique_ptr<connection>>& connections() const noexcept { return pool_; }
  /// The pooled and idle leased connections' counters, added up.
  connection_stats stats() const noexcept;
  std::size_t leases_in_use() const noexcept { return leases_in_use_; }
  std::size_t idle_leases() const noexcept { return idle_.size(); }
  bool closed() const noexcept { return closed_; }
  /// Nothing in flight on a pooled connection and no lease held.
  bool idle() const noexcept;

 private:
  friend class waiter_registration;
  // A clean idle connection, counted as in use; dead idle ones are dropped on the way.
  std::unique_ptr<connection> take_idle();
  // Closes idle connections unused for lease_idle_timeout; runs while any are idle.
  void schedule_trim() noexcept;
  void trim_idle() noexcept;
  [[noreturn]] void exhausted();
  // A new connection for a lease whose place is already counted; a failed connect frees it.
  static awaitable<connection_lease> open_lease(std::shared_ptr<node_pool> self);
  static awaitable<std::vector<reply>> execute_on_lease(std::shared_ptr<node_pool> self, request req);
  static awaitable<reply> execute_one_on_lease(std::shared_ptr<node_pool> self, request req);
  static awaitable<std::vector<reply>> execute_waiting_for_replicas(std::shared_ptr<node_pool> self, request req);

  boost::asio::any_io_executor executor_;
  client_config config_;
  std::shared_ptr<const cluster::command_table> commands_;  // set when wait_replicas or on a cluster
  std::vector<std::unique_ptr<connection>> pool_;
  std::size_t next_ = 0;                  // where the search for the least loaded connection starts, rotating ties
  std::vector<idle_lease> idle_;          // oldest first
  std::size_t leases_in_use_ = 0;         // leased connections outside `idle_`, connecting ones too
  std::deque<lease_waiter*> waiters_;     // first come, first served
  boost::asio::steady_timer trim_timer_;  // set while `idle_` is not empty
  bool trim_scheduled_ = false;
  bool closed_ = false;
};

}  // namespace detail
}  // namespace rapyer

// One Redis connection (TCP or Unix socket) with automatic pipelining: any number of coroutines
// may await commands at once; requests that arrive while a write is in flight are coalesced into
// the next single write, and every reply reaches exactly its own caller.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "rapyer/config.hpp"
#include "rapyer/detail/command_interface.hpp"

namespace rapyer {

namespace detail {
class connection_impl;

/// A connection in push mode carries pub/sub traffic: every reply it reads is a push.
struct push_handlers {
  /// Each reply read: messages, subscribe confirmations, pongs.
  std::function<void(reply&&)> on_push;
  /// After each (re)connect and handshake: subscribe again here.
  std::function<void()> on_connected;
  /// The connection was lost (it reconnects by itself when auto_reconnect is on).
  std::function<void(std::string_view reason)> on_lost;
};
}  // namespace detail

/// What a connection has done since it was made; every figure only grows, but in_flight.
struct connection_stats {
  std::uint64_t commands = 0;  // commands written
  std::uint64_t bytes_written = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t replies = 0;        // replies read, pushes included
  std::uint64_t reconnects = 0;     // connections re-established after a loss
  std::uint64_t timeouts = 0;       // requests failed with timeout_error
  std::uint64_t cancellations = 0;  // requests whose caller cancelled them
  std::uint64_t health_check_failures = 0;
  std::uint64_t in_flight = 0;  // requests awaiting replies now

  connection_stats& operator+=(const connection_stats& other) noexcept;
};

/// Not thread-safe: use a connection from coroutines running on its executor (a single-threaded
/// io_context, or a strand).
class connection : public detail::command_interface<connection> {
 public:
  using executor_type = boost::asio::any_io_executor;

  connection(executor_type executor, connection_config config);
  /// A push-mode connection (pub/sub): see detail::push_handlers.
  connection(executor_type executor, connection_config config, detail::push_handlers handlers);
  /// Closes the connection; requests still awaiting replies fail with connection_error.
  ~connection();
  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;

  /// Connects and runs AUTH / SELECT / CLIENT SETNAME. Throws connection_error,
  /// authentication_error or timeout_error.
  awaitable<void> connect();

  using command_interface::execute;
  /// Sends every command of the request in one write; returns one reply per command, error
  /// replies included (they do not throw).
  ///
  /// Each request has a deadline: command_timeout, plus the block time of blocking commands
  /// (BLPOP … 5 waits 5 s + command_timeout; a block time of 0 waits forever). It honours Asio's
  /// per-operation cancellation (e.g. `co_await (conn.execute(...) || timer.async_wait(...))`):
  /// the caller resumes at once with boost::system::system_error(operation_aborted) and the reply
  /// is read and discarded; a cancelled blocking command is first unblocked with CLIENT UNBLOCK
  /// from a second connection, so it never takes an element after its caller gave up (if the
  /// server had already answered, the answer is delivered instead).
  /// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and MONITOR are refused with usage_error: their pushes
  /// would mix with other callers' replies (use client::subscribe).
  awaitable<std::vector<reply>> execute(request req);
  /// Sends a one-command request; an error reply throws server_error.
  awaitable<reply> execute_one(request req);

  /// Closes the socket and stops reconnecting. Pending requests fail with connection_error.
  void close();

  bool is_connected() const noexcept;
  /// Requests sent or staged whose replies have not all arrived: the connection's load.
  std::size_t load() const noexcept;
  /// How many times the connection was re-established after a loss.
  std::size_t reconnect_count() const noexcept;
  connection_stats stats() const noexcept;
  /// Push mode: writes the request without awaiting replies (they arrive as pushes). Dropped
  /// while disconnected: on_connected is the place to send it again.
  void send(const request& req);
  const connection_config& config() const noexcept;
  /// The TCP address of the current (or last) socket: config().host/port, or the node the
  /// sentinels named; empty before the first connect through sentinels and after a failed one.
  const host_port& node_address() const noexcept;
  /// Sentinel: the master's primary moved to `primary` (a +switch-master event). A connection to
  /// another node drops its socket, as if lost, and reconnects through the sentinels; requests
  /// awaiting replies on it fail with connection_error. Does nothing for other connections.
  void follow_primary(const host_port& primary);
  executor_type get_executor() const noexcept;

 private:
  std::shared_ptr<detail::connection_impl> impl_;
};

}  // namespace rapyer

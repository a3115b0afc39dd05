// One Redis connection (TCP or Unix socket) with automatic pipelining: any number of coroutines
// may await commands at once; requests that arrive while a write is in flight are coalesced into
// the next single write, and every reply reaches exactly its own caller.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <memory>
#include <vector>

#include "rapyer/config.hpp"
#include "rapyer/detail/command_interface.hpp"

namespace rapyer {

namespace detail {
class connection_impl;
}

/// Not thread-safe: use a connection from coroutines running on its executor (a single-threaded
/// io_context, or a strand).
class connection : public detail::command_interface<connection> {
 public:
  using executor_type = boost::asio::any_io_executor;

  connection(executor_type executor, connection_config config);
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
  const connection_config& config() const noexcept;
  executor_type get_executor() const noexcept;

 private:
  std::shared_ptr<detail::connection_impl> impl_;
};

}  // namespace rapyer

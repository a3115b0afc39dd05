// Per-call time limits for any awaitable operation of rapyer (Asio 1.26 has no cancel_after).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "rapyer/error.hpp"

namespace rapyer {

/// Runs `operation`; if it has not finished after `limit`, cancels it and throws timeout_error.
/// A cancelled command's reply is discarded when it arrives; a cancelled blocking command is
/// unblocked first, so it takes nothing from the server after the caller gave up:
/// `co_await rapyer::with_timeout(lease.execute("BLPOP", "jobs", 0), 100ms)`.
///
/// Unlike `operation || timer.async_wait(...)`, which drops the result of an operation that
/// finished while being cancelled, an operation that completed before the cancellation took
/// effect returns its result here: a popped element is never lost.
template <class T>
boost::asio::awaitable<T> with_timeout(boost::asio::awaitable<T> operation, std::chrono::steady_clock::duration limit) {
  namespace asio = boost::asio;
  struct shared_state {
    asio::cancellation_signal signal;
    bool expired = false;
  };
  const auto executor = co_await asio::this_coro::executor;
  auto state = std::make_shared<shared_state>();
  asio::steady_timer timer(executor, limit);
  timer.async_wait([state](boost::system::error_code ec) {
    if (ec) return;
    state->expired = true;
    state->signal.emit(asio::cancellation_type::terminal);
  });
  try {
    if constexpr (std::is_void_v<T>) {
      co_await asio::co_spawn(executor, std::move(operation),
                              asio::bind_cancellation_slot(state->signal.slot(), asio::use_awaitable));
      timer.cancel();
    } else {
      T result = co_await asio::co_spawn(executor, std::move(operation),
                                         asio::bind_cancellation_slot(state->signal.slot(), asio::use_awaitable));
      timer.cancel();
      co_return result;
    }
  } catch (const boost::system::system_error& e) {
    if (!state->expired || e.code() != asio::error::operation_aborted) throw;
  }
  throw timeout_error("operation timed out after " +
                      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(limit).count()) + " ms");
}

}  // namespace rapyer

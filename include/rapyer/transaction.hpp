// Optimistic transactions: WATCH the model's keys, load it, run the user's function on the fresh
// copy, and save it in MULTI/EXEC on the same leased connection; when another client changed a
// watched key meanwhile, EXEC aborts and the whole attempt is retried (with jittered backoff), up to
// max_attempts, then transaction_conflict.
//   co_await rapyer::atransaction<User>(key, [](User& fresh) -> rapyer::awaitable<void> { ... });
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <random>
#include <span>
#include <string>

#include "rapyer/client.hpp"
#include "rapyer/detail/lua_scripts.hpp"
#include "rapyer/error.hpp"

namespace rapyer {

struct transaction_options {
  std::size_t max_attempts = 1000;
  /// Upper bound of the random pause between attempts.
  std::chrono::milliseconds max_backoff{10};
};

/// Runs fn(fresh) on the model at `key` and saves it atomically; returns the saved model.
template <class Model, class Fn>
awaitable<Model> atransaction(std::string key, Fn fn, transaction_options options = {}) {
  auto lease = co_await Model::class_client().lease();
  thread_local std::mt19937_64 jitter{std::random_device{}()};
  boost::asio::steady_timer pause(Model::class_client().get_executor());
  for (std::size_t attempt = 0; attempt < options.max_attempts; ++attempt) {
    request read;
    read.push("WATCH", Model::keys_of(key));
    Model::append_read(read, key);
    const auto replies = co_await lease.execute(read);
    replies.front().throw_if_error("WATCH");
    Model fresh = Model::decode(key, std::span<const reply>(replies).subspan(1));
    co_await fn(fresh);  // an exception leaves the lease in WATCH: it is closed, never reused
    request commit;
    commit.push("SCRIPT", "LOAD", detail::scripts::save.source());  // no NOSCRIPT inside EXEC
    commit.push("MULTI");
    fresh.append_save(commit);
    commit.push("EXEC");
    const auto results = co_await lease.execute(commit);
    const reply& exec = results.back();
    if (!exec.is_nil()) {
      exec.throw_if_error("EXEC");
      exec.as_array().front().throw_if_error("save " + key);
      co_return fresh;
    }
    const auto bound = std::max<long long>(options.max_backoff.count(), 1);
    pause.expires_after(std::chrono::microseconds(std::uniform_int_distribution<long long>(0, bound * 1000)(jitter)));
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
  throw transaction_conflict("transaction on " + key + " met a concurrent change on all " +
                             std::to_string(options.max_attempts) + " attempts");
}

}  // namespace rapyer

// Optimistic transactions: WATCH the models' keys, load them, run the user's function on the
// fresh copies, and save them all in one MULTI/EXEC on the same leased connection; when another
// client changed a watched key meanwhile, EXEC aborts and the whole attempt is retried (with
// jittered backoff), up to max_attempts, then transaction_conflict.
//   co_await rapyer::atransaction<User>(key, [](User& fresh) -> rapyer::awaitable<void> { ... });
//   co_await rapyer::atransaction<Account, Account>(from, to,
//       [](Account& a, Account& b) -> rapyer::awaitable<void> { ... });   // both saved, or neither
#pragma once

#include <algorithm>
#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <iterator>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "rapyer/client.hpp"
#include "rapyer/detail/atomic_blocks.hpp"
#include "rapyer/detail/model_base.hpp"
#include "rapyer/detail/random.hpp"
#include "rapyer/detail/script.hpp"
#include "rapyer/error.hpp"

namespace rapyer {

struct transaction_options {
  std::size_t max_attempts = 1000;
  /// Upper bound of the random pause between attempts.
  std::chrono::milliseconds max_backoff{10};
};

namespace detail {

template <class Model>
using key_string = std::string;

template <class Indices, class... Models>
struct transaction_runner;

// A class template, so that the index pack comes with the types: passing an index_sequence
// temporary into a co_await expression is what GCC 12 miscompiles.
template <std::size_t... I, class... Models>
struct transaction_runner<std::index_sequence<I...>, Models...> {
  template <class Fn>
  static awaitable<std::tuple<Models...>> run(std::array<std::string, sizeof...(Models)> keys, Fn& fn,
                                              transaction_options options);
};

template <std::size_t... I, class... Models>
template <class Fn>
awaitable<std::tuple<Models...>> transaction_runner<std::index_sequence<I...>, Models...>::run(
    std::array<std::string, sizeof...(Models)> keys, Fn& fn, transaction_options options) {
  using first = std::tuple_element_t<0, std::tuple<Models...>>;
  client& redis = first::class_client();
  if (((&Models::class_client() != &redis) || ...)) {
    throw usage_error("atransaction: every model must use the same client");
  }
  std::vector<std::string> watched;
  (std::ranges::copy(Models::keys_of(keys[I]), std::back_inserter(watched)), ...);
  if (redis.is_cluster()) require_one_slot(watched, "atransaction");
  auto lease = co_await redis.lease(keys[0]);
  boost::asio::steady_timer pause(redis.get_executor());
  for (std::size_t attempt = 0; attempt < options.max_attempts; ++attempt) {
    request read;
    read.push("WATCH", watched);
    (Models::append_read(read, keys[I]), ...);
    const auto replies = co_await lease.execute(read);
    replies.front().throw_if_error("WATCH");
    // Each model's replies follow the WATCH reply, in order.
    const std::array<std::size_t, sizeof...(Models)> sizes{Models::read_size()...};
    std::array<std::size_t, sizeof...(Models)> offsets{};
    for (std::size_t i = 0, at = 1; i < sizes.size(); at += sizes[i], ++i) offsets[i] = at;
    const std::span<const reply> all(replies);
    std::tuple<Models...> fresh(Models::decode(keys[I], all.subspan(offsets[I], sizes[I]))...);
    co_await fn(std::get<I>(fresh)...);  // an exception leaves the lease in WATCH: it is closed, never reused
    request commit;
    commit.push("MULTI");
    (std::get<I>(fresh).append_save(commit), ...);
    commit.push("EXEC");
    // Every command of the block calls the save script, so a NOSCRIPT result means none ran; EXEC
    // ended the WATCH, so the attempt starts over, once the script is loaded, instead of a rerun.
    const auto results = co_await execute_calling_scripts(lease, commit, noscript_blocks::load_only);
    const reply& exec = results.back();
    if (exec.is_array() && has_noscript(exec.as_array())) continue;
    if (!exec.is_nil()) {
      exec.throw_if_error("EXEC");
      const auto saved = [&](const reply& result, const auto& model, const std::string& key) {
        if (result.is_error()) throw_if_version_conflict(result.error_message());
        result.throw_if_error("save " + key);
        model.mark_saved();
      };
      (saved(exec.as_array()[I], std::get<I>(fresh), keys[I]), ...);
      co_return fresh;
    }
    const auto bound = std::max<long long>(options.max_backoff.count(), 1);
    pause.expires_after(detail::random_between(std::chrono::microseconds(0), std::chrono::microseconds(bound * 1000)));
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
  std::string names;
  for (const auto& key : keys) names += (names.empty() ? "" : ", ") + key;
  throw transaction_conflict("transaction on " + names + " met a concurrent change on all " +
                             std::to_string(options.max_attempts) + " attempts");
}

template <class... Models>
using transaction_of = transaction_runner<std::index_sequence_for<Models...>, Models...>;

}  // namespace detail

/// Runs fn(fresh) on the model at `key` and saves it atomically; returns the saved model.
template <class Model, class Fn>
awaitable<Model> atransaction(std::string key, Fn fn, transaction_options options = {}) {
  std::array<std::string, 1> keys{std::move(key)};
  auto saved = co_await detail::transaction_of<Model>::run(std::move(keys), fn, options);
  co_return std::get<0>(std::move(saved));
}

/// Runs fn(first, second, rest...) on the models at the given keys (one key per model type, in
/// order) and saves them all in one MULTI/EXEC: all of them or none. Returns the saved models.
/// In Redis Cluster the models must share a hash slot.
template <class First, class Second, class... Rest, class Fn>
awaitable<std::tuple<First, Second, Rest...>> atransaction(std::string first, std::string second,
                                                           detail::key_string<Rest>... rest, Fn fn,
                                                           transaction_options options = {}) {
  std::array<std::string, 2 + sizeof...(Rest)> keys{std::move(first), std::move(second), std::move(rest)...};
  co_return co_await detail::transaction_of<First, Second, Rest...>::run(std::move(keys), fn, options);
}

}  // namespace rapyer

// apipeline(): field operations, saves, deletes and TTL changes of the given models are queued
// locally while the body runs, then sent as ONE MULTI/EXEC round trip (nothing if the body throws).
// Arithmetic stays server-relative (HINCRBY, never "write my local value"); local copies take the
// server's results after EXEC. While the body runs, operations from any coroutine on these model
// objects are queued: keep other coroutines off them, or give them copies.
#pragma once

#include <functional>
#include <vector>

#include "rapyer/detail/model_base.hpp"

namespace rapyer {

struct pipeline_options {
  /// Error replies of queued commands are skipped instead of thrown as pipeline_error (the other
  /// commands ran anyway: EXEC does not roll back), like the original's ignore_redis_error.
  bool ignore_errors = false;
  /// A pipeline opened on models already in one joins it (the original's use_existing_pipe);
  /// false makes that a usage_error.
  bool join_existing = true;
};

namespace detail {
awaitable<void> run_model_pipeline(std::vector<const model_base*> models, std::function<awaitable<void>()> body,
                                   pipeline_options options);
}  // namespace detail

/// The pipeline over several models: `co_await rapyer::apipeline([&]() -> awaitable<void> {...}, user, team)`.
template <class Body, class... Models>
requires(sizeof...(Models) > 0) awaitable<void> apipeline(Body body, const Models&... models) {
  const std::vector<const detail::model_base*> all = {static_cast<const detail::model_base*>(&models)...};
  co_await detail::run_model_pipeline(
      all, [&]() -> awaitable<void> { co_await body(); }, pipeline_options{});
}

}  // namespace rapyer

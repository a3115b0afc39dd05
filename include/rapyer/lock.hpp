// Distributed locks on a model: `<model key>/<action>:lock`, same hash slot as the model.
// Taken with SET NX PX and a random 128-bit token, retried with jittered exponential backoff until
// the acquire timeout; extended in the background (compare-and-extend) while the body runs; released
// by compare-and-delete, so a holder whose lock expired never deletes the next holder's lock.
//
// C++ cannot co_await in a destructor, so the lock wraps a body: release always happens, also when
// the body throws:
//   co_await user.alock([&](User& fresh) -> rapyer::awaitable<void> { ...; co_return; });
//   co_await user.alock([&](User& fresh, const rapyer::distributed_lock& lock) -> ... { lock.check(); });
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "rapyer/client.hpp"
#include "rapyer/error.hpp"

namespace rapyer {

struct lock_options {
  /// Part of the lock key: locks of different actions on one model are independent.
  std::string action = "default";
  /// Expiry of the lock key; a crashed holder blocks others at most this long.
  std::chrono::milliseconds ttl{10000};
  /// How long to keep trying before lock_timeout.
  std::chrono::milliseconds acquire_timeout{10000};
  /// Extend the lock every ttl/3 while the body runs.
  bool extend = true;
  /// Save the fresh model when the body returns normally.
  bool save_at_end = false;
};

class distributed_lock {
 public:
  distributed_lock(client& redis, std::string key, lock_options options);
  ~distributed_lock();
  distributed_lock(const distributed_lock&) = delete;
  distributed_lock& operator=(const distributed_lock&) = delete;

  /// Throws lock_timeout after options.acquire_timeout.
  awaitable<void> acquire();
  /// Compare-and-delete; throws lock_lost when the lock was no longer ours.
  awaitable<void> release();

  /// False once an extension found the lock gone or taken by another holder.
  bool held() const noexcept;
  /// Throws lock_lost when !held().
  void check() const;
  const std::string& key() const noexcept;

  struct state;  // shared with the background extension, which may outlive this object briefly

 private:
  std::shared_ptr<state> state_;
};

/// Locks the model at `key`, loads it fresh, runs body(fresh) or body(fresh, lock), saves when
/// options.save_at_end, and releases, whatever happens. A lock_lost at release is thrown after a
/// normal body end; after a body exception, that exception is rethrown.
template <class Model, class Body>
awaitable<void> alock_from_key(std::string key, Body body, lock_options options = {}) {
  distributed_lock lock(Model::class_client(), key + "/" + options.action + ":lock", options);
  co_await lock.acquire();
  std::exception_ptr failure;
  try {
    Model fresh = co_await Model::get(key);
    if constexpr (std::is_invocable_v<Body, Model&, const distributed_lock&>) {
      co_await body(fresh, lock);
    } else {
      co_await body(fresh);
    }
    if (options.save_at_end) {
      lock.check();
      co_await fresh.save();
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (!failure) {
    co_await lock.release();
    co_return;
  }
  try {
    co_await lock.release();
  } catch (const error&) {
    // The body's exception is the one to report.
  }
  std::rethrow_exception(failure);
}

}  // namespace rapyer

#include "rapyer/lock.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "rapyer/detail/random.hpp"
#include "rapyer/detail/scripts.hpp"

namespace rapyer {

namespace asio = boost::asio;

struct distributed_lock::state {
  state(client& r, std::string k, lock_options o)
      : redis(r), key(std::move(k)), options(std::move(o)), timer(r.get_executor()) {}
  client& redis;
  std::string key;
  lock_options options;
  std::string token;
  asio::steady_timer timer;  // paces the extensions
  bool acquired = false;
  bool lost = false;
  bool released = false;
};

namespace {

/// The integer reply of one call of a lock script.
awaitable<long long> call(client& redis, request req) {
  auto replies = co_await detail::execute_calling_scripts(redis, req);
  replies.front().throw_if_error("EVALSHA");
  co_return replies.front().as_integer();
}

awaitable<void> extend_while_held(std::shared_ptr<distributed_lock::state> s) {
  while (!s->released) {
    s->timer.expires_after(s->options.ttl / 3);
    co_await s->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (s->released) co_return;
    try {
      request extend;
      detail::scripts::push_lock_extend(extend, s->key, s->token, s->options.ttl.count());
      if (co_await call(s->redis, std::move(extend)) == 0) {
        s->lost = true;
        co_return;
      }
    } catch (const error&) {
      // A failed extension (connection trouble) is retried at the next tick; the TTL still runs.
    }
  }
}

}  // namespace

distributed_lock::distributed_lock(client& redis, std::string key, lock_options options)
    : state_(std::make_shared<state>(redis, std::move(key), std::move(options))) {}

distributed_lock::~distributed_lock() {
  state_->released = true;
  state_->timer.cancel();
}

awaitable<void> distributed_lock::acquire() {
  auto s = state_;
  s->token = detail::random_hex(16);  // 128 bits
  const auto deadline = std::chrono::steady_clock::now() + s->options.acquire_timeout;
  std::chrono::milliseconds backoff{2};
  asio::steady_timer wait(s->redis.get_executor());
  for (;;) {
    const reply taken = co_await s->redis.execute("SET", s->key, s->token, "NX", "PX", s->options.ttl.count());
    if (!taken.is_nil()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw lock_timeout("lock " + s->key + " not acquired within " +
                         std::to_string(s->options.acquire_timeout.count()) + " ms");
    }
    // Full jitter, so that waiters do not retry in lockstep.
    const auto pause = detail::random_between(std::chrono::milliseconds(1), backoff);
    wait.expires_after(pause);
    co_await wait.async_wait(asio::use_awaitable);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
  }
  s->acquired = true;
  if (s->options.extend) asio::co_spawn(s->redis.get_executor(), extend_while_held(s), asio::detached);
}

awaitable<void> distributed_lock::release() {
  auto s = state_;
  s->released = true;
  s->timer.cancel();
  if (!s->acquired) co_return;
  s->acquired = false;
  request release;
  detail::scripts::push_lock_release(release, s->key, s->token);
  if (co_await call(s->redis, std::move(release)) == 0) {
    throw lock_lost("lock " + s->key + " was no longer held at release (expired or taken by another holder)");
  }
  if (s->lost) throw lock_lost("lock " + s->key + " was lost while held (extension failed)");
}

bool distributed_lock::held() const noexcept { return state_->acquired && !state_->lost; }

void distributed_lock::check() const {
  if (!held()) throw lock_lost("lock " + state_->key + " is no longer held");
}

const std::string& distributed_lock::key() const noexcept { return state_->key; }

}  // namespace rapyer

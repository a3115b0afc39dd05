#include "rapyer/lock.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <thread>

#include "rapyer/rapyer.hpp"
#include "test_models.hpp"
#include "test_support.hpp"

namespace {

using rapyer::test::sleep_for;

namespace asio = boost::asio;
using namespace std::chrono_literals;
using rapyer::awaitable;

struct Counter : rapyer::AtomicRedisModel<Counter> {
  int value = 0;  // a plain field: read-modify-write is only safe under the lock
};
BOOST_DESCRIBE_STRUCT(Counter, (), (value))

class LockTest : public rapyer::test::model_test {};

/// 4 processes x 50 coroutines each doing load, +1, save on the Counter at `key`.
void increments_from_processes(const std::string& key, bool locked) {
  const auto nothing = [](int) -> awaitable<void> { co_return; };
  const auto increment = [&](int, int) -> awaitable<void> {
    if (locked) {
      rapyer::lock_options options;
      options.acquire_timeout = 60s;
      options.save_at_end = true;
      co_await rapyer::alock_from_key<Counter>(
          key,
          [](Counter& fresh) -> awaitable<void> {
            fresh.value += 1;
            co_return;
          },
          options);
    } else {
      Counter fresh = co_await Counter::get(key);
      fresh.value += 1;
      co_await fresh.save();
    }
  };
  EXPECT_TRUE(rapyer::test::run_in_processes(4, 50, nothing, increment));
}

TEST_F(LockTest, LockMakesReadModifyWriteExactAcrossProcesses) {
  Counter counter;
  run(counter.save());
  increments_from_processes(counter.key(), true);
  EXPECT_EQ(run(Counter::get(counter.key())).value, 200);
  EXPECT_EQ(raw("EXISTS", counter.key() + "/default:lock").as_integer(), 0);
}

TEST_F(LockTest, WithoutTheLockUpdatesAreLost) {
  Counter counter;
  run(counter.save());
  increments_from_processes(counter.key(), false);
  EXPECT_LT(run(Counter::get(counter.key())).value, 200);
}

TEST_F(LockTest, KilledHolderBlocksUntilTheTtlNotLonger) {
  Counter counter;
  run(counter.save());
  const std::string lock_key = counter.key() + "/default:lock";
  const pid_t holder = ::fork();
  if (holder == 0) {
    asio::io_context ctx;
    auto redis = std::make_shared<rapyer::client>(ctx.get_executor(), rapyer::test::server_url());
    asio::co_spawn(
        ctx,
        [&]() -> awaitable<void> {
          co_await redis->connect();
          rapyer::lock_options options;
          options.ttl = 1000ms;
          rapyer::distributed_lock lock(*redis, lock_key, options);
          co_await lock.acquire();
          co_await sleep_for(60s);  // killed long before
        },
        asio::detached);
    ctx.run();
    ::_exit(0);
  }
  while (raw("EXISTS", lock_key).as_integer() == 0) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(500ms);  // the holder has extended the lock at least once
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  const auto killed_at = std::chrono::steady_clock::now();
  rapyer::lock_options options;
  options.acquire_timeout = 5s;
  rapyer::distributed_lock next(rapyer::default_client(), lock_key, options);
  run(next.acquire());
  const auto waited = std::chrono::steady_clock::now() - killed_at;
  EXPECT_GE(waited, 300ms) << "acquired before the dead holder's TTL ran out";
  EXPECT_LT(waited, 1500ms) << "waited longer than the TTL";
  run(next.release());
}

TEST_F(LockTest, ExtensionKeepsALongCriticalSectionExclusive) {
  Counter counter;
  run(counter.save());
  rapyer::lock_options options;
  options.ttl = 300ms;
  bool contender_timed_out = false;
  bool contender_done = false;
  bool held_throughout = true;
  run([&]() -> awaitable<void> {
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> awaitable<void> {
          co_await sleep_for(50ms);
          rapyer::lock_options contender = options;
          contender.acquire_timeout = 600ms;  // gives up at 650 ms, 2 TTLs after the holder took it
          try {
            co_await counter.alock([](Counter&) -> awaitable<void> { co_return; }, contender);
          } catch (const rapyer::lock_timeout&) {
            contender_timed_out = true;
          }
          contender_done = true;
        },
        asio::detached);
    co_await counter.alock(
        [&](Counter&, const rapyer::distributed_lock& lock) -> awaitable<void> {
          for (int i = 0; i < 9; ++i) {  // 900 ms = 3 x TTL
            co_await sleep_for(100ms);
            held_throughout = held_throughout && lock.held();
          }
        },
        options);
    while (!contender_done) co_await sleep_for(10ms);
  }());
  EXPECT_TRUE(contender_timed_out);
  EXPECT_TRUE(held_throughout);
}

TEST_F(LockTest, ReleaseAfterExpiryDoesNotDeleteTheNextHoldersLock) {
  Counter counter;
  run(counter.save());
  const std::string lock_key = counter.key() + "/default:lock";
  rapyer::lock_options options;
  options.ttl = 200ms;
  options.extend = false;
  rapyer::distributed_lock first(rapyer::default_client(), lock_key, options);
  run(first.acquire());
  std::this_thread::sleep_for(300ms);
  rapyer::distributed_lock second(rapyer::default_client(), lock_key, rapyer::lock_options{});
  run(second.acquire());
  EXPECT_THROW(run(first.release()), rapyer::lock_lost);
  EXPECT_EQ(raw("EXISTS", lock_key).as_integer(), 1);
  run(second.release());
  EXPECT_EQ(raw("EXISTS", lock_key).as_integer(), 0);
}

TEST_F(LockTest, BodyExceptionReleasesTheLockAndPropagates) {
  Counter counter;
  run(counter.save());
  EXPECT_THROW(run(counter.alock([](Counter&) -> awaitable<void> {
                 throw std::runtime_error("body failed");
                 co_return;
               })),
               std::runtime_error);
  EXPECT_EQ(raw("EXISTS", counter.key() + "/default:lock").as_integer(), 0);
  rapyer::lock_options options;
  options.action = "other";
  options.save_at_end = true;
  run(counter.alock(
      [](Counter& fresh) -> awaitable<void> {
        fresh.value = 7;
        co_return;
      },
      options));
  EXPECT_EQ(run(Counter::get(counter.key())).value, 7);
}

}  // namespace

// Several threads, each running its own io_context with its own client (rapyer::init_thread), on
// the same models at once: exact counts, and no data race in rapyer's shared state (class
// settings, the model registry, scripts). CI also runs this test under ThreadSanitizer.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rapyer/rapyer.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using rapyer::awaitable;

struct Tally : rapyer::AtomicRedisModel<Tally> {
  rapyer::RedisInt hits;
  rapyer::RedisList<std::string> visitors;
};
BOOST_DESCRIBE_STRUCT(Tally, (), (hits, visitors))

/// Changed only by load-modify-save under its lock (a save rewrites every field).
struct Turnstile : rapyer::AtomicRedisModel<Turnstile> {
  int passed = 0;
};
BOOST_DESCRIBE_STRUCT(Turnstile, (), (passed))

struct Note : rapyer::AtomicRedisModel<Note> {
  std::string text;
  rapyer::RedisDict<std::string, int> votes;
};
BOOST_DESCRIBE_STRUCT(Note, (), (text, votes))

class ThreadsTest : public rapyer::test::redis_test {};

TEST_F(ThreadsTest, ThreadPerIoContextWithThreadDefaultClients) {
  constexpr int threads = 4;
  constexpr int coroutines = 25;
  constexpr int rounds = 8;
  Tally tally;
  Turnstile turnstile;
  run(rapyer::init(rapyer::test::server_url()));
  run(tally.save());
  run(turnstile.save());
  rapyer::teardown();
  const std::string key = tally.key();

  std::vector<int> failures(threads, 0);
  std::vector<const rapyer::client*> clients(threads, nullptr);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      boost::asio::io_context ctx;
      int done = 0;
      const auto finished = [&](std::exception_ptr e) {
        if (e) ++failures[static_cast<std::size_t>(t)];
        if (++done == coroutines) rapyer::teardown_thread();
      };
      boost::asio::co_spawn(
          ctx,
          [&]() -> awaitable<void> {
            co_await rapyer::init_thread(rapyer::test::server_url());
            clients[static_cast<std::size_t>(t)] = &rapyer::default_client();
            for (int c = 0; c < coroutines; ++c) {
              boost::asio::co_spawn(
                  ctx,
                  [&, c]() -> awaitable<void> {
                    Tally mine = co_await Tally::get(key);
                    for (int r = 0; r < rounds; ++r) {
                      const std::string who = std::to_string(t) + ":" + std::to_string(c) + ":" + std::to_string(r);
                      co_await mine.hits.aincrease(1);
                      co_await mine.visitors.aappend(who);
                      Note note;
                      note.text = who;
                      co_await note.save();
                      co_await note.votes.aset_item(who, r);
                      const auto any = co_await rapyer::aget(note.key());
                      if (dynamic_cast<Note*>(any.get()) == nullptr) throw std::runtime_error("aget lost the class");
                    }
                    rapyer::lock_options options;
                    options.acquire_timeout = 60s;
                    options.save_at_end = true;
                    co_await rapyer::alock_from_key<Turnstile>(
                        turnstile.key(),
                        [](Turnstile& fresh) -> awaitable<void> {
                          fresh.passed += 1;
                          co_return;
                        },
                        options);
                  },
                  finished);
            }
          },
          [&](std::exception_ptr e) {
            if (e) ++failures[static_cast<std::size_t>(t)];
          });
      ctx.run();
    });
  }
  for (auto& worker : workers) worker.join();

  for (int t = 0; t < threads; ++t) EXPECT_EQ(failures[static_cast<std::size_t>(t)], 0) << "thread " << t;
  EXPECT_EQ(std::set<const rapyer::client*>(clients.begin(), clients.end()).size(), static_cast<std::size_t>(threads))
      << "each thread used its own client";
  run(rapyer::init(rapyer::test::server_url()));
  const Tally stored = run(Tally::get(key));
  constexpr int total = threads * coroutines * rounds;
  EXPECT_EQ(stored.hits, total);
  EXPECT_EQ(stored.visitors.size(), static_cast<std::size_t>(total));
  EXPECT_EQ(std::set<std::string>(stored.visitors.begin(), stored.visitors.end()).size(),
            static_cast<std::size_t>(total));
  EXPECT_EQ(run(Turnstile::get(turnstile.key())).passed, threads * coroutines);
  EXPECT_EQ(run(Note::afind_keys()).size(), static_cast<std::size_t>(total));
  rapyer::teardown();
}

TEST_F(ThreadsTest, ThreadDefaultTakesPrecedenceAndFallsBack) {
  run(rapyer::init(rapyer::test::server_url()));
  rapyer::client* process_default = &rapyer::default_client();
  std::thread([&] {
    boost::asio::io_context ctx;
    EXPECT_EQ(&rapyer::default_client(), process_default);
    rapyer::test::run(ctx, rapyer::init_thread(rapyer::test::server_url()));
    EXPECT_NE(&rapyer::default_client(), process_default);
    rapyer::teardown_thread();
    EXPECT_EQ(&rapyer::default_client(), process_default);
  }).join();
  EXPECT_EQ(&rapyer::default_client(), process_default);
  rapyer::teardown();
  EXPECT_THROW((void)rapyer::default_client(), rapyer::usage_error);
}

}  // namespace

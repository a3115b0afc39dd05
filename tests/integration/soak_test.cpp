// Soak: 200 coroutines doing mixed model operations through a proxy that cuts every connection
// every 1.5 s. Afterwards every acknowledged write is in Redis exactly once, no write appears
// twice, no model is half-saved, no reply went to the wrong request, and RSS stayed bounded.
// RAPYER_SOAK_SECONDS sets the duration (default 10, at most 120).
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "fault_proxy.hpp"
#include "rapyer/rapyer.hpp"
#include "test_support.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using rapyer::awaitable;
using rapyer::test::fault_proxy;
using rapyer::test::sleep_for;
using clock_type = std::chrono::steady_clock;

struct Ledger : rapyer::AtomicRedisModel<Ledger> {
  rapyer::RedisInt counter;
  rapyer::RedisList<std::string> entries;
  rapyer::RedisDict<std::string, std::string> marks;
  static rapyer::model_config redis_config() {
    rapyer::model_config c;
    c.indexes = {"counter"};  // every aincrease also updates the index, in one MULTI
    return c;
  }
};
BOOST_DESCRIBE_STRUCT(Ledger, (), (counter, entries, marks))

/// Every field carries the same generation, so a half-saved snapshot is visible.
struct Snapshot : rapyer::AtomicRedisModel<Snapshot> {
  rapyer::RedisInt generation;
  std::string text;
  rapyer::RedisList<int> copies;
  static rapyer::model_config redis_config() {
    rapyer::model_config c;
    c.indexes = {"generation", "text"};  // updated inside the save script
    return c;
  }
};
BOOST_DESCRIBE_STRUCT(Snapshot, (), (generation, text, copies))

Snapshot make_snapshot(int coroutine, int generation) {
  Snapshot s;
  s.set_id("c" + std::to_string(coroutine));
  s.generation = generation;
  s.text = "generation " + std::to_string(generation);
  s.copies = std::vector<int>(8, generation);
  return s;
}

bool consistent(const Snapshot& s) {
  const long long g = s.generation;
  if (s.text != "generation " + std::to_string(g) || s.copies.size() != 8) return false;
  for (int copy : s.copies) {
    if (copy != g) return false;
  }
  return true;
}

std::size_t resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  }
  return 0;
}

constexpr bool sanitized =
#if defined(__SANITIZE_ADDRESS__)
    true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    true;
#else
    false;
#endif
#else
    false;
#endif

int soak_seconds() {
  const char* text = std::getenv("RAPYER_SOAK_SECONDS");
  const int seconds = text != nullptr ? std::atoi(text) : 10;
  return std::clamp(seconds, 1, 120);
}

class SoakTest : public rapyer::test::redis_test {};

TEST_F(SoakTest, AcknowledgedWritesSurviveRepeatedConnectionCuts) {
  constexpr int coroutines = 200;
  constexpr std::size_t rss_bound_kib = 16 * 1024;
  const auto duration = std::chrono::seconds(soak_seconds());

  // The fate of write i of coroutine c, kept in memory allocated before the RSS baseline so that
  // the bound measures the library, not this bookkeeping. Past the capacity a coroutine does only
  // writes that accumulate nothing (increments and snapshot saves).
  enum write_state : std::uint8_t { unsent, acknowledged, in_doubt };  // in doubt: failed, may have landed
  constexpr std::size_t tracked_writes = 1 << 16;
  using tracking = std::vector<std::vector<std::uint8_t>>;
  tracking entries(coroutines, std::vector<std::uint8_t>(tracked_writes, unsent));
  tracking marks(coroutines, std::vector<std::uint8_t>(tracked_writes, unsent));
  long long increments_acknowledged = 0;
  long long increments_in_doubt = 0;
  std::vector<int> saved_generation(coroutines, 0);      // last acknowledged save
  std::vector<int> attempted_generation(coroutines, 0);  // last save sent
  long long operations_acknowledged = 0;
  long long operations_failed = 0;
  long long reads_checked = 0;
  int inconsistent_reads = 0;
  int unexpected_errors = 0;
  std::size_t cuts = 0;
  std::size_t rss_after_warmup = 0;
  std::size_t rss_at_end = 0;

  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    fault_proxy proxy(executor, rapyer::test::server_port());
    auto config = rapyer::client_config::from_url(proxy.url());
    config.connection.command_timeout = 2s;
    config.connection.reconnect_min_delay = 10ms;
    config.connection.reconnect_max_delay = 200ms;
    auto redis = std::make_shared<rapyer::client>(executor, config);
    co_await redis->connect();
    rapyer::init(redis);
    Ledger ledger;
    co_await ledger.save();
    // A fresh handle per write: the shared object's local mirror would grow with every append.
    const auto ledger_handle = [&] {
      Ledger handle;
      handle.set_id(ledger.id());
      return handle;
    };
    for (int c = 0; c < coroutines; ++c) co_await make_snapshot(c, 0).save();

    bool stop = false;
    int stopped = 0;
    for (int c = 0; c < coroutines; ++c) {
      asio::co_spawn(
          executor,
          [&, c]() -> awaitable<void> {
            auto& my_entries = entries[static_cast<std::size_t>(c)];
            auto& my_marks = marks[static_cast<std::size_t>(c)];
            for (std::size_t i = 0; !std::as_const(stop); ++i) {
              const std::string token = std::to_string(c) + ":" + std::to_string(i);
              int op = static_cast<int>((static_cast<std::size_t>(c) + i) % 5);
              if ((op == 1 || op == 2) && i >= tracked_writes) op = 0;
              bool failed = false;
              try {
                if (op == 0) {
                  co_await ledger_handle().counter.aincrease(1);
                  ++increments_acknowledged;
                } else if (op == 1) {
                  co_await ledger_handle().entries.aappend(token);
                  my_entries[i] = acknowledged;
                } else if (op == 2) {
                  co_await ledger_handle().marks.aset_item(token, "v" + token);
                  my_marks[i] = acknowledged;
                } else if (op == 3) {
                  const int generation = ++attempted_generation[static_cast<std::size_t>(c)];
                  co_await make_snapshot(c, generation).save();
                  saved_generation[static_cast<std::size_t>(c)] = generation;
                } else {
                  const std::string key = make_snapshot(c, 0).key();
                  const Snapshot read = co_await Snapshot::get(key);
                  ++reads_checked;
                  const long long g = read.generation;
                  if (read.key() != key || !consistent(read) || g < saved_generation[static_cast<std::size_t>(c)] ||
                      g > attempted_generation[static_cast<std::size_t>(c)]) {
                    ++inconsistent_reads;
                  }
                }
                ++operations_acknowledged;
              } catch (const rapyer::connection_error&) {
                failed = true;
              } catch (const rapyer::timeout_error&) {
                failed = true;
              }
              if (failed) {
                ++operations_failed;
                if (op == 0) ++increments_in_doubt;
                if (op == 1) my_entries[i] = in_doubt;
                if (op == 2) my_marks[i] = in_doubt;
                co_await sleep_for(5ms);  // fails fast while reconnecting: do not spin
              }
            }
          },
          [&](std::exception_ptr e) {
            if (e) {
              ++unexpected_errors;
              try {
                std::rethrow_exception(e);
              } catch (const std::exception& error) {
                ADD_FAILURE() << "unexpected error: " << error.what();
              }
            }
            ++stopped;
          });
    }
    const auto start = clock_type::now();
    auto next_cut = start + 1500ms;
    while (clock_type::now() - start < duration) {
      co_await sleep_for(50ms);
      if (rss_after_warmup == 0 && clock_type::now() - start >= duration / 4) rss_after_warmup = resident_kib();
      if (clock_type::now() >= next_cut) {
        proxy.cut_all();
        next_cut += 1500ms;
      }
    }
    stop = true;
    while (stopped < coroutines) co_await sleep_for(5ms);
    rss_at_end = resident_kib();
    cuts = proxy.connections_cut();
    rapyer::teardown();

    // Check what Redis holds over a direct connection.
    auto direct_config = rapyer::client_config::from_url(rapyer::test::server_url());
    direct_config.connection.command_timeout = 120s;  // a long soak leaves millions of entries to read
    auto direct = std::make_shared<rapyer::client>(executor, direct_config);
    co_await direct->connect();
    rapyer::init(direct);
    const Ledger stored = co_await Ledger::get(ledger.key());
    EXPECT_GE(stored.counter, increments_acknowledged);
    EXPECT_LE(stored.counter, increments_acknowledged + increments_in_doubt);
    // The indexes agree with the data, whatever the cuts interrupted.
    // The index shard of the model's bucket (key_layout.hpp).
    const auto index_score = [&](const rapyer::detail::key_layout& layout, const std::string& path,
                                 const std::string& id) -> awaitable<std::string> {
      const rapyer::reply score = co_await direct->execute("ZSCORE", layout.index_key(layout.bucket_of(id), path), id);
      co_return score.is_nil() ? std::string("(none)") : score.as_string();
    };
    const std::string counter_score = co_await index_score(Ledger::class_layout(), "counter", stored.id());
    EXPECT_EQ(counter_score, std::to_string(stored.counter.value()));
    // Which write a stored token is: "c:i".
    const auto write_of = [](const std::string& token) {
      const auto colon = token.find(':');
      return std::pair<std::size_t, std::size_t>(std::stoul(token.substr(0, colon)),
                                                 std::stoul(token.substr(colon + 1)));
    };
    tracking occurrences(coroutines, std::vector<std::uint8_t>(tracked_writes, 0));
    for (const auto& token : stored.entries) {
      const auto [c, i] = write_of(token);
      if (c >= entries.size() || i >= tracked_writes) {
        ADD_FAILURE() << "not a token of this test: " << token;
        continue;
      }
      EXPECT_NE(entries[c][i], unsent) << "never sent: " << token;
      EXPECT_EQ(++occurrences[c][i], 1) << "entry " << token << " stored more than once";
    }
    std::size_t marks_sent = 0;
    for (std::size_t c = 0; c < entries.size(); ++c) {
      for (std::size_t i = 0; i < tracked_writes; ++i) {
        if (entries[c][i] == acknowledged) {
          EXPECT_EQ(occurrences[c][i], 1) << "acknowledged entry " << c << ":" << i;
        }
        if (marks[c][i] == acknowledged) {
          const std::string token = std::to_string(c) + ":" + std::to_string(i);
          EXPECT_TRUE(stored.marks.contains(token) && stored.marks.at(token) == "v" + token) << "mark " << token;
        }
        if (marks[c][i] != unsent) ++marks_sent;
      }
    }
    for (const auto& [token, value] : stored.marks) {
      const auto [c, i] = write_of(token);
      EXPECT_TRUE(c < marks.size() && i < tracked_writes && marks[c][i] != unsent) << "never sent: " << token;
    }
    EXPECT_LE(stored.marks.size(), marks_sent);
    for (int c = 0; c < coroutines; ++c) {
      const Snapshot snapshot = co_await Snapshot::get(make_snapshot(c, 0).key());
      EXPECT_TRUE(consistent(snapshot)) << "snapshot " << c << " is half-saved";
      EXPECT_GE(snapshot.generation, saved_generation[static_cast<std::size_t>(c)]);
      EXPECT_LE(snapshot.generation, attempted_generation[static_cast<std::size_t>(c)]);
      const std::string generation_score = co_await index_score(Snapshot::class_layout(), "generation", snapshot.id());
      EXPECT_EQ(generation_score, std::to_string(snapshot.generation.value()));
      const auto by_text = co_await Snapshot::afind(rapyer::where(&Snapshot::text) == snapshot.text);
      EXPECT_TRUE(
          std::any_of(by_text.begin(), by_text.end(), [&](const Snapshot& s) { return s.id() == snapshot.id(); }))
          << "snapshot " << c << " not found by its text";
    }
    long long text_entries = 0;
    long long text_members = 0;
    const auto& layout = Snapshot::class_layout();
    for (std::size_t b = 0; b < layout.buckets(); ++b) {
      text_entries += (co_await direct->execute("ZCARD", layout.index_key(b, "text"))).as_integer();
      text_members += (co_await direct->execute("HLEN", layout.index_key(b, "text") + ":members")).as_integer();
    }
    EXPECT_EQ(text_entries, coroutines);  // no stale member left by an interrupted save
    EXPECT_EQ(text_members, coroutines);
    rapyer::teardown();
  }());

  std::printf(
      "soak: %lld s, %d coroutines, %lld operations acknowledged, %lld failed during cuts, "
      "%zu connections cut, %lld reads checked, RSS %zu KiB after warm-up -> %zu KiB at end\n",
      static_cast<long long>(duration.count()), coroutines, operations_acknowledged, operations_failed, cuts,
      reads_checked, rss_after_warmup, rss_at_end);
  EXPECT_EQ(inconsistent_reads, 0);
  EXPECT_EQ(unexpected_errors, 0);
  EXPECT_GE(cuts, static_cast<std::size_t>(duration / 1500ms));
  EXPECT_GT(operations_acknowledged, 1000);
  EXPECT_GT(operations_failed, 0) << "the cuts hit no request";
  // The sanitizers' allocator quarantine keeps freed memory resident: the bound is for normal builds.
  if (!sanitized) {
    EXPECT_LT(rss_at_end, rss_after_warmup + rss_bound_kib);
  }
}

}  // namespace

// Models on a 3+3 Redis Cluster of their own while it changes under them: 4 processes × 50
// coroutines of get / aincrease / aappend on 400 models spread over every primary, while 2,000
// slots are resharded and a replica takes over (no error may reach a caller, every count exact),
// and while a primary is SIGKILLed (failed writes are reported; with wait_replicas=1 every
// acknowledged write survives the failover).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rapyer/detail/cluster/key_slot.hpp"
#include "test_support.hpp"

namespace rapyer::test {
namespace {

struct Tally : rapyer::AtomicRedisModel<Tally> {
  rapyer::RedisInt count;
  rapyer::RedisList<std::string> marks;
};
BOOST_DESCRIBE_STRUCT(Tally, (), (count, marks))

constexpr int processes = 4;
constexpr int coroutines = 50;
constexpr int models = 400;
constexpr int models_per_coroutine = 4;  // each model is worked on by two coroutines of two processes

// What one coroutine did, written to its own file when it ends (children cannot return data).
struct outcome {
  std::map<int, long long> increments;  // model → acknowledged aincrease calls
  std::map<int, long long> appends;     // model → acknowledged aappend calls
  std::map<int, long long> failed;      // model → writes that failed (they may have been applied)
  long long errors = 0;
};

class cluster_models : public ::testing::Test {
 protected:
  void SetUp() override {
    rapyer::testing::embedded_cluster_options options;
    options.replicas_per_primary = 1;
    nodes_ = std::make_unique<rapyer::testing::embedded_cluster>(options);
    directory_ =
        std::filesystem::temp_directory_path() / ("rapyer-cluster-models-" + std::to_string(::getpid()) + "-" +
                                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(directory_);
    run([](std::string url, std::vector<std::string>& keys) -> awaitable<void> {
      auto redis = std::make_shared<client>(co_await boost::asio::this_coro::executor, url);
      co_await redis->connect();
      rapyer::init(redis);
      std::vector<Tally> all(models);
      co_await Tally::ainsert(std::span<const Tally>(all));
      for (const auto& t : all) keys.push_back(t.key());
      rapyer::teardown();
    }(nodes_->url(), keys_));
    std::set<std::size_t> owners;
    for (const auto& key : keys_) owners.insert(nodes_->primary_of_slot(detail::cluster::key_slot(key)));
    ASSERT_EQ(owners.size(), 3U) << "the models must spread over every primary";
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  template <class T>
  T run(awaitable<T> task) {
    return rapyer::test::run(ctx_, std::move(task));
  }

  // Runs the workers until `disrupt` (in the parent, while they work) returns; each coroutine repeats
  // get + aincrease + aappend on its models. Returns the workers' outcomes, summed.
  outcome work_while(const std::string& url, bool tolerate_errors, const std::function<void()>& disrupt) {
    const auto stop_flag = directory_ / "stop";
    // In the parent once the children run: a thread alive at fork() could leave a child's
    // allocator locked forever (seen under ASan).
    const auto disruption = [&] {
      disrupt();
      std::ofstream(stop_flag).put('1');
    };
    const auto keys = keys_;
    const auto dir = directory_;
    const auto worker = [keys, dir, stop_flag, tolerate_errors](int p, int c) -> awaitable<void> {
      outcome mine;
      const std::string tag = std::to_string(p) + ":" + std::to_string(c);
      for (int round = 0; !std::filesystem::exists(stop_flag) || round < 5; ++round) {
        for (int k = 0; k < models_per_coroutine; ++k) {
          // Processes 0 and 2 share their models, as do 1 and 3.
          const int m = (p % 2) * coroutines + c + k * (models / models_per_coroutine);
          try {
            auto fresh = co_await Tally::get(keys[static_cast<std::size_t>(m)]);
            try {
              co_await fresh.count.aincrease(1);
              ++mine.increments[m];
            } catch (const rapyer::error&) {
              if (!tolerate_errors) throw;
              ++mine.failed[m];
              ++mine.errors;
            }
            try {
              co_await fresh.marks.aappend(tag);
              ++mine.appends[m];
            } catch (const rapyer::error&) {
              if (!tolerate_errors) throw;
              ++mine.failed[m];
              ++mine.errors;
            }
          } catch (const rapyer::error&) {
            if (!tolerate_errors) throw;
            ++mine.errors;  // the get failed: nothing written
          }
        }
      }
      std::ofstream out(dir / ("outcome-" + tag));
      out << mine.errors << '\n';
      for (const auto& [m, n] : mine.increments) out << "i " << m << ' ' << n << '\n';
      for (const auto& [m, n] : mine.appends) out << "a " << m << ' ' << n << '\n';
      for (const auto& [m, n] : mine.failed) out << "f " << m << ' ' << n << '\n';
    };
    const bool children_succeeded = run_in_processes(
        url, processes, coroutines, [](int) -> awaitable<void> { co_return; }, worker, disruption);
    EXPECT_TRUE(children_succeeded);
    outcome total;
    for (int p = 0; p < processes; ++p) {
      for (int c = 0; c < coroutines; ++c) {
        std::ifstream in(directory_ / ("outcome-" + std::to_string(p) + ":" + std::to_string(c)));
        EXPECT_TRUE(in.good()) << "no outcome from " << p << ":" << c;
        long long errors = 0;
        in >> errors;
        total.errors += errors;
        std::string kind;
        int m = 0;
        long long n = 0;
        while (in >> kind >> m >> n) {
          (kind == "i" ? total.increments : kind == "a" ? total.appends : total.failed)[m] += n;
        }
      }
    }
    return total;
  }

  // Each model's stored count and list length, read after the cluster settled.
  std::vector<std::pair<long long, long long>> stored() {
    nodes_->wait_until_ok();
    return run(
        [](std::string url, std::vector<std::string> keys) -> awaitable<std::vector<std::pair<long long, long long>>> {
          auto redis = std::make_shared<client>(co_await boost::asio::this_coro::executor, url);
          co_await redis->connect();
          rapyer::init(redis);
          std::vector<std::pair<long long, long long>> values;
          for (auto& t : co_await Tally::afind(keys)) {
            values.emplace_back(t.count.value(), static_cast<long long>(t.marks.value().size()));
          }
          rapyer::teardown();
          co_return values;
        }(nodes_->url(), keys_));
  }

  std::unique_ptr<rapyer::testing::embedded_cluster> nodes_;
  std::filesystem::path directory_;
  std::vector<std::string> keys_;
  boost::asio::io_context ctx_;
};

TEST_F(cluster_models, ReshardingAndAFailoverLoseNothingAndNoErrorReachesACaller) {
  const auto primaries = nodes_->primaries();
  const auto done = work_while(nodes_->url(), false, [&] {
    nodes_->migrate_slots(primaries[0], primaries[1], 2000);
    const auto replica = nodes_->replica_of(primaries[2]);
    ASSERT_TRUE(replica.has_value());
    nodes_->failover(*replica);
  });
  EXPECT_EQ(done.errors, 0);
  const auto values = stored();
  ASSERT_EQ(values.size(), static_cast<std::size_t>(models));
  long long total = 0;
  for (int m = 0; m < models; ++m) {
    EXPECT_EQ(values[static_cast<std::size_t>(m)].first, done.increments.at(m)) << "model " << m;
    EXPECT_EQ(values[static_cast<std::size_t>(m)].second, done.appends.at(m)) << "model " << m;
    total += done.increments.at(m);
  }
  std::printf("%lld increments and as many appends across resharding and a failover\n", total);
}

TEST_F(cluster_models, AKilledPrimaryLosesNoAcknowledgedWriteWithWaitReplicas) {
  const std::size_t victim = nodes_->primaries().front();
  const auto done = work_while(nodes_->url() + "?wait_replicas=1&wait_timeout=500", true, [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    nodes_->kill(victim);
    nodes_->wait_for_failover_of(victim);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  });
  const auto values = stored();
  ASSERT_EQ(values.size(), static_cast<std::size_t>(models));
  long long acknowledged = 0;
  for (int m = 0; m < models; ++m) {
    const long long failed = done.failed.count(m) ? done.failed.at(m) : 0;
    const long long increments = done.increments.count(m) ? done.increments.at(m) : 0;
    const long long appends = done.appends.count(m) ? done.appends.at(m) : 0;
    // Every acknowledged write is there; a failed one may or may not have been applied.
    EXPECT_GE(values[static_cast<std::size_t>(m)].first, increments) << "model " << m;
    EXPECT_LE(values[static_cast<std::size_t>(m)].first, increments + failed) << "model " << m;
    EXPECT_GE(values[static_cast<std::size_t>(m)].second, appends) << "model " << m;
    EXPECT_LE(values[static_cast<std::size_t>(m)].second, appends + failed) << "model " << m;
    acknowledged += increments + appends;
  }
  EXPECT_GT(done.errors, 0) << "the kill should have caught writes in flight";
  std::printf("%lld acknowledged writes kept, %lld operations failed and were reported\n", acknowledged, done.errors);
}

}  // namespace
}  // namespace rapyer::test

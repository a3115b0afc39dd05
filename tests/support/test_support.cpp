#include "test_support.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace rapyer::test {
namespace {

std::unique_ptr<rapyer::testing::embedded_server> shared_server;
std::unique_ptr<rapyer::testing::embedded_cluster> shared_cluster;
std::string shared_url;

// RAPYER_TEST_DEPLOYMENT=cluster runs the executable's tests against a 3+3 cluster instead.
class redis_environment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (on_cluster()) {
      shared_cluster = std::make_unique<rapyer::testing::embedded_cluster>();
      shared_url = shared_cluster->url();
    } else {
      shared_server = std::make_unique<rapyer::testing::embedded_server>();
      shared_url = shared_server->url();
    }
  }
  void TearDown() override {
    shared_server.reset();
    shared_cluster.reset();
  }
};

}  // namespace

const std::string& server_url() { return shared_url; }
std::uint16_t server_port() { return shared_server ? shared_server->port() : shared_cluster->port(0); }

bool on_cluster() {
  const char* deployment = std::getenv("RAPYER_TEST_DEPLOYMENT");
  return deployment != nullptr && std::string_view(deployment) == "cluster";
}

rapyer::testing::embedded_cluster& cluster() {
  if (!shared_cluster) throw std::logic_error("cluster(): the tests run on a standalone server");
  return *shared_cluster;
}

awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, duration);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

bool run_in_processes(int processes, int coroutines, std::function<awaitable<void>(int)> setup,
                      std::function<awaitable<void>(int, int)> work) {
  return run_in_processes(server_url(), processes, coroutines, std::move(setup), std::move(work));
}

bool run_in_processes(const std::string& url, int processes, int coroutines, std::function<awaitable<void>(int)> setup,
                      std::function<awaitable<void>(int, int)> work, const std::function<void()>& meanwhile) {
  std::vector<pid_t> children;
  for (int p = 0; p < processes; ++p) {
    const pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid > 0) {
      children.push_back(pid);
      continue;
    }
    int failures = 0;
    {
      boost::asio::io_context ctx;
      auto redis = std::make_shared<client>(ctx.get_executor(), url);
      int done = 0;
      const auto report = [&](std::exception_ptr e) {
        if (!e) return;
        ++failures;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& error) {
          std::fprintf(stderr, "process %d: %s\n", p, error.what());
        }
      };
      boost::asio::co_spawn(
          ctx,
          [&]() -> awaitable<void> {
            co_await redis->connect();
            rapyer::init(redis);
            co_await setup(p);
            for (int c = 0; c < coroutines; ++c) {
              boost::asio::co_spawn(ctx, work(p, c), [&](std::exception_ptr e) {
                report(e);
                if (++done == coroutines) rapyer::teardown();
              });
            }
          },
          report);
      ctx.run();
    }
    ::_exit(failures == 0 ? 0 : 1);
  }
  if (meanwhile) meanwhile();
  bool all_succeeded = true;
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    all_succeeded = all_succeeded && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  return all_succeeded;
}

void redis_test::SetUp() {
  run([]() -> awaitable<void> {
    client redis(co_await boost::asio::this_coro::executor, server_url());
    co_await redis.connect();
    for (auto& node : co_await redis.primaries()) co_await node.execute("FLUSHALL");
    redis.close();
  }());
}

void model_test::SetUp() {
  redis_test::SetUp();
  auto redis = std::make_shared<client>(ctx_.get_executor(), server_url());
  run(redis->connect());
  rapyer::init(redis);
}

void model_test::TearDown() { rapyer::teardown(); }

reply model_test::raw(request req) { return run(default_client().execute_one(std::move(req))); }

std::vector<reply> model_test::raw_on_every_primary(request req) {
  return run([](request command) -> awaitable<std::vector<reply>> {
    std::vector<reply> replies;
    for (auto& node : co_await default_client().primaries()) replies.push_back(co_await node.execute_one(command));
    co_return replies;
  }(std::move(req)));
}

reply model_test::raw_on_node_of(const std::string& key, request req) {
  return run([](std::string owner, request command) -> awaitable<reply> {
    auto lease = co_await default_client().lease(std::move(owner));
    co_return co_await lease.execute_one(std::move(command));
  }(key, std::move(req)));
}

}  // namespace rapyer::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new rapyer::test::redis_environment);  // owned by GoogleTest
  return RUN_ALL_TESTS();
}

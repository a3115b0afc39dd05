#include "test_support.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <memory>
#include <vector>

namespace rapyer::test {
namespace {

std::unique_ptr<rapyer::testing::embedded_server> shared_server;
std::string shared_url;

class redis_environment : public ::testing::Environment {
 public:
  void SetUp() override {
    shared_server = std::make_unique<rapyer::testing::embedded_server>();
    shared_url = shared_server->url();
  }
  void TearDown() override { shared_server.reset(); }
};

}  // namespace

const std::string& server_url() { return shared_url; }
std::uint16_t server_port() { return shared_server->port(); }

awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, duration);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

bool run_in_processes(int processes, int coroutines, std::function<awaitable<void>(int)> setup,
                      std::function<awaitable<void>(int, int)> work) {
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
      auto redis = std::make_shared<client>(ctx.get_executor(), server_url());
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
    connection conn(co_await boost::asio::this_coro::executor, connection_config::from_url(server_url()));
    co_await conn.connect();
    co_await conn.execute("FLUSHALL");
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

}  // namespace rapyer::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new rapyer::test::redis_environment);  // owned by GoogleTest
  return RUN_ALL_TESTS();
}

// Shared by the integration tests: one private redis-server per test executable (a GoogleTest
// environment), and a way to run a coroutine to completion from a test body.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>

#include "rapyer/rapyer.hpp"
#include "rapyer/testing/embedded_cluster.hpp"
#include "rapyer/testing/embedded_server.hpp"

namespace rapyer::test {

/// The URL of the executable's shared private server (started before the first test).
const std::string& server_url();
/// Port of that server (of the cluster's first node), for tests that build their own configs.
std::uint16_t server_port();
/// Whether the executable runs against a cluster (RAPYER_TEST_DEPLOYMENT=cluster), see
/// tests/CMakeLists.txt.
bool on_cluster();
/// The shared cluster; throws std::logic_error on a standalone server.
rapyer::testing::embedded_cluster& cluster();
/// Skips a test that needs a standalone server, saying why.
#define RAPYER_STANDALONE_ONLY(why) \
  if (::rapyer::test::on_cluster()) GTEST_SKIP() << "standalone only: " << why

/// Runs `task` on `ctx` until it finishes (other work on ctx may remain) and returns its result,
/// rethrowing its exception.
template <class T>
T run(boost::asio::io_context& ctx, awaitable<T> task) {
  std::exception_ptr failure;
  std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> result;
  bool done = false;
  auto on_done = [&](std::exception_ptr e, auto... value) {
    failure = e;
    if constexpr (sizeof...(value) == 1) {
      if (!e) result.emplace(std::move(value)...);
    }
    done = true;
  };
  boost::asio::co_spawn(ctx, std::move(task), on_done);
  ctx.restart();
  while (!done && ctx.run_one() > 0) {
  }
  if (!done) throw std::logic_error("io_context ran out of work before the task finished");
  if (failure) std::rethrow_exception(failure);
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

/// Waits on the calling coroutine's executor.
awaitable<void> sleep_for(std::chrono::milliseconds duration);

/// Forks `processes` children; each connects a default client (rapyer::init) to the shared server,
/// runs `setup(process)`, then `coroutines` concurrent `work(process, coroutine)` and exits non-zero
/// if any of them threw. Returns true when every child succeeded.
bool run_in_processes(int processes, int coroutines, std::function<awaitable<void>(int)> setup,
                      std::function<awaitable<void>(int, int)> work);
/// The same against the deployment at `url`; `meanwhile` runs in the parent once every child is
/// forked (so no thread of the parent exists at fork time), before the children are waited for.
bool run_in_processes(const std::string& url, int processes, int coroutines, std::function<awaitable<void>(int)> setup,
                      std::function<awaitable<void>(int, int)> work, const std::function<void()>& meanwhile = {});

/// Base fixture: an io_context, and an empty database before every test.
class redis_test : public ::testing::Test {
 protected:
  void SetUp() override;

  template <class T>
  T run(awaitable<T> task) {
    return rapyer::test::run(ctx_, std::move(task));
  }

  boost::asio::io_context ctx_;
};

/// A redis_test whose default client (rapyer::init) talks to the shared server.
class model_test : public redis_test {
 protected:
  void SetUp() override;
  void TearDown() override;
  /// A raw command on the default client, for checking Redis's state.
  reply raw(request req);
  /// A raw command on every primary (one on a standalone server), e.g. SCRIPT FLUSH; the replies.
  std::vector<reply> raw_on_every_primary(request req);
  /// A raw keyless command on the node that owns `key` (SCRIPT EXISTS, OBJECT …).
  reply raw_on_node_of(const std::string& key, request req);
  template <class... Args>
  reply raw(std::string_view command, const Args&... args) {
    request req;
    req.push(command, args...);
    return raw(std::move(req));
  }
};

}  // namespace rapyer::test

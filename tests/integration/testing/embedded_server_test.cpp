// Servers of their own: restarts, passwords, Unix sockets, the executable from the environment,
// the JSON-capable server. Never the shared one.
#include "rapyer/testing/embedded_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "json_server.hpp"
#include "rapyer/testing/embedded_cluster.hpp"
#include "test_support.hpp"

namespace {

using rapyer::test::sleep_for;

namespace asio = boost::asio;
using namespace std::chrono_literals;
using rapyer::awaitable;
using rapyer::connection;
using rapyer::connection_config;
using rapyer::testing::embedded_server;
using rapyer::testing::embedded_server_options;

class OwnServerTest : public ::testing::Test {
 protected:
  template <class T>
  T run(awaitable<T> task) {
    return rapyer::test::run(ctx_, std::move(task));
  }
  asio::io_context ctx_;
};

TEST_F(OwnServerTest, WrongPasswordIsAnAuthenticationErrorWithoutTheSecret) {
  embedded_server_options options;
  options.extra_arguments = {"--requirepass", "right-secret"};
  embedded_server server(options);
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    const std::string base = "redis://127.0.0.1:" + std::to_string(server.port());
    connection wrong(executor,
                     connection_config::from_url("redis://:wrong-secret@127.0.0.1:" + std::to_string(server.port())));
    try {
      co_await wrong.connect();
      ADD_FAILURE() << "connected with a wrong password";
    } catch (const rapyer::authentication_error& e) {
      EXPECT_EQ(std::string(e.what()).find("wrong-secret"), std::string::npos) << e.what();
    }
    connection none(executor, connection_config::from_url(base));
    EXPECT_THROW(co_await none.connect(), rapyer::authentication_error);
    connection right(executor,
                     connection_config::from_url("redis://:right-secret@127.0.0.1:" + std::to_string(server.port())));
    co_await right.connect();
    {
      const auto result = co_await right.execute("PING");
      EXPECT_EQ(result.as_string(), "PONG");
    }
  }());
}

TEST_F(OwnServerTest, AclUserAuthenticatesWithNameAndPassword) {
  embedded_server server;
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    connection admin(executor, connection_config::from_url(server.url()));
    co_await admin.connect();
    co_await admin.execute("ACL", "SETUSER", "alice", "on", ">alice-pw", "~*", "+@all");
    connection alice(executor,
                     connection_config::from_url("redis://alice:alice-pw@127.0.0.1:" + std::to_string(server.port())));
    co_await alice.connect();
    {
      const auto result = co_await alice.execute("ACL", "WHOAMI");
      EXPECT_EQ(result.as_string(), "alice");
    }
    connection mallory(executor,
                       connection_config::from_url("redis://alice:nope@127.0.0.1:" + std::to_string(server.port())));
    EXPECT_THROW(co_await mallory.connect(), rapyer::authentication_error);
  }());
}

TEST_F(OwnServerTest, ConnectsOverAUnixSocket) {
  embedded_server_options options;
  options.unix_socket = true;
  embedded_server server(options);
  run([&]() -> awaitable<void> {
    connection conn(co_await asio::this_coro::executor,
                    connection_config::from_url("unix://" + server.unix_socket_path() + "?db=1"));
    co_await conn.connect();
    co_await conn.execute("SET", "over", "unix");
    {
      const auto result = co_await conn.execute("GET", "over");
      EXPECT_EQ(result.as_string(), "unix");
    }
    const auto info = (co_await conn.execute("CLIENT", "INFO")).as_string();
    EXPECT_NE(info.find("db=1"), std::string::npos) << info;
  }());
}

// RAPYER_TEST_SERVER is the executable of every server whose options name none: standalone,
// sentinel and cluster nodes alike.
TEST_F(OwnServerTest, ServerExecutableComesFromTheEnvironment) {
  constexpr const char* variable = "RAPYER_TEST_SERVER";
  const char* outer = std::getenv(variable);
  const std::optional<std::string> restored = outer != nullptr ? std::optional<std::string>(outer) : std::nullopt;
  ::setenv(variable, "rapyer-no-such-server", 1);
  const embedded_server_options options;
  const rapyer::testing::embedded_cluster_options cluster_options;
  if (restored) {
    ::setenv(variable, restored->c_str(), 1);
  } else {
    ::unsetenv(variable);
  }
  EXPECT_EQ(options.executable, "rapyer-no-such-server");
  EXPECT_EQ(cluster_options.executable, "rapyer-no-such-server");
  try {
    embedded_server server(options);
    ADD_FAILURE() << "started a server that does not exist";
  } catch (const rapyer::connection_error& e) {
    EXPECT_NE(std::string(e.what()).find("rapyer-no-such-server"), std::string::npos) << e.what();
  }
}

// The server the JSON-layout tests get starts with its module and runs JSON.SET / JSON.GET.
TEST_F(OwnServerTest, JsonServerAnswersJsonSetAndGet) {
  const auto options = rapyer::test::json_server_options();
  if (!options) GTEST_SKIP() << rapyer::test::json_server_missing;
  embedded_server server(*options);
  const auto document = nlohmann::json::parse(R"({"name":"Ada","scores":[1,2.5]})");
  // Built outside the coroutine: GCC 12 rejects these initializer lists inside it.
  const auto everything = nlohmann::json::array({document});
  const auto names = nlohmann::json::array({"Ada"});
  run([&]() -> awaitable<void> {
    connection conn(co_await asio::this_coro::executor, connection_config::from_url(server.url()));
    co_await conn.connect();
    EXPECT_EQ((co_await conn.execute("JSON.SET", "doc", "$", document.dump())).as_string(), "OK");
    // A `$` path answers an array of the matches; servers may format the text differently.
    EXPECT_EQ(nlohmann::json::parse((co_await conn.execute("JSON.GET", "doc", "$")).as_string()), everything);
    EXPECT_EQ(nlohmann::json::parse((co_await conn.execute("JSON.GET", "doc", "$.name")).as_string()), names);
  }());
}

// The server dies under load: every in-flight request ends with an error within the timeout
// (none hangs, none gets another request's reply), and requests succeed again after a restart.
TEST_F(OwnServerTest, ServerKilledMidLoadThenRestarted) {
  embedded_server server;
  constexpr int workers = 200;
  int succeeded = 0;
  int wrong_replies = 0;
  int failed = 0;
  int other_errors = 0;
  int stopped = 0;
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    auto config = connection_config::from_url(server.url());
    config.command_timeout = 1s;
    connection conn(executor, config);
    co_await conn.connect();
    bool stop = false;
    for (int w = 0; w < workers; ++w) {
      asio::co_spawn(
          executor,
          [&, w]() -> awaitable<void> {
            for (int i = 0; !std::as_const(stop); ++i) {
              const std::string payload = std::to_string(w) + ":" + std::to_string(i);
              bool disconnected = false;
              try {
                if ((co_await conn.execute("ECHO", payload)).as_string() == payload) {
                  ++succeeded;
                } else {
                  ++wrong_replies;
                }
              } catch (const rapyer::connection_error&) {
                ++failed;
                disconnected = true;
              } catch (const rapyer::timeout_error&) {
                ++failed;
              }
              if (disconnected) co_await sleep_for(5ms);  // fails fast while down: do not spin
            }
          },
          [&](std::exception_ptr e) {
            if (e) ++other_errors;
            ++stopped;
          });
    }
    while (succeeded < 20000) co_await sleep_for(1ms);
    server.kill();
    const auto killed_at = std::chrono::steady_clock::now();
    const int failed_before = failed;
    while (failed == failed_before) co_await sleep_for(1ms);
    EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 1500ms) << "in-flight requests did not fail in time";
    co_await sleep_for(300ms);
    const int succeeded_while_down = succeeded;
    co_await sleep_for(200ms);
    EXPECT_EQ(succeeded, succeeded_while_down);
    server.start();
    const auto restarted_at = std::chrono::steady_clock::now();
    while (succeeded < succeeded_while_down + 10000 && std::chrono::steady_clock::now() - restarted_at < 10s) {
      co_await sleep_for(5ms);
    }
    EXPECT_GE(succeeded, succeeded_while_down + 10000) << "requests did not succeed after the restart";
    EXPECT_GE(conn.reconnect_count(), 1u);
    stop = true;
    while (stopped < workers) co_await sleep_for(1ms);
  }());
  EXPECT_EQ(wrong_replies, 0);
  EXPECT_EQ(other_errors, 0);
  EXPECT_GT(failed, 0);
}

}  // namespace

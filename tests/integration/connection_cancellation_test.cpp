// Blocking commands, Asio cancellation and per-call timeouts on a connection.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "rapyer/connection.hpp"
#include "rapyer/timeout.hpp"
#include "test_models.hpp"
#include "test_support.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using rapyer::awaitable;
using rapyer::connection;
using rapyer::connection_config;
using rapyer::test::server_url;
using steady = std::chrono::steady_clock;

class ConnectionCancellationTest : public rapyer::test::redis_test {};

awaitable<std::unique_ptr<connection>> connected(connection_config config = connection_config::from_url(server_url())) {
  auto conn = std::make_unique<connection>(co_await asio::this_coro::executor, std::move(config));
  co_await conn->connect();
  co_return conn;
}

long long ms_since(steady::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start).count();
}

TEST_F(ConnectionCancellationTest, BlockingCommandOutlastsTheCommandTimeout) {
  run([]() -> awaitable<void> {
    auto conn = co_await connected();
    EXPECT_EQ(conn->config().command_timeout, 5000ms);
    const auto start = steady::now();
    const auto result = co_await conn->execute("BLPOP", "empty-jobs", 6);
    EXPECT_TRUE(result.is_nil());
    EXPECT_GE(ms_since(start), 5900);
    EXPECT_LT(ms_since(start), 9000);
  }());
}

TEST_F(ConnectionCancellationTest, BlockingCommandTimesOutWhenTheServerOverrunsItsBlockTime) {
  run([]() -> awaitable<void> {
    auto config = connection_config::from_url(server_url());
    config.command_timeout = 300ms;
    auto conn = co_await connected(config);
    auto stalling = co_await connected();
    // DEBUG SLEEP stalls the server past BLPOP's own 0.2 s + the 0.3 s margin.
    asio::co_spawn(co_await asio::this_coro::executor, stalling->execute("DEBUG", "SLEEP", "1.5"), asio::detached);
    co_await rapyer::test::sleep_for(50ms);
    const auto start = steady::now();
    EXPECT_THROW((void)co_await conn->execute("BLPOP", "empty-jobs", "0.2"), rapyer::timeout_error);
    EXPECT_GE(ms_since(start), 450);
    EXPECT_LT(ms_since(start), 1400);
    EXPECT_EQ(conn->stats().timeouts, 1U);
    co_await rapyer::test::sleep_for(1600ms);
    EXPECT_EQ((co_await conn->execute("PING")).as_string(), "PONG");
  }());
}

TEST_F(ConnectionCancellationTest, CancelledBlockingCommandReturnsAtOnceAndTakesNothing) {
  run([]() -> awaitable<void> {
    auto conn = co_await connected();
    auto pusher = co_await connected();
    for (int round = 0; round < 20; ++round) {
      asio::steady_timer timer(co_await asio::this_coro::executor, 100ms);
      const auto start = steady::now();
      auto outcome = co_await (conn->execute("BLPOP", "jobs", 3) || timer.async_wait(asio::use_awaitable));
      EXPECT_EQ(outcome.index(), 1U);
      EXPECT_LT(ms_since(start), 1000);
      // Right after the cancel: an element pushed now must stay in the list.
      EXPECT_EQ((co_await pusher->execute("LPUSH", "jobs", "job-" + std::to_string(round))).as_integer(), 1);
      EXPECT_EQ((co_await pusher->execute("LLEN", "jobs")).as_integer(), 1);
      // The connection stays usable and in step.
      EXPECT_EQ((co_await conn->execute("LPOP", "jobs")).as_string(), "job-" + std::to_string(round));
    }
    EXPECT_EQ(conn->stats().cancellations, 20U);
    EXPECT_EQ(conn->reconnect_count(), 0U);
  }());
}

TEST_F(ConnectionCancellationTest, WithTimeoutNeverLosesAnElementAnsweredAroundTheCancel) {
  run([]() -> awaitable<void> {
    auto conn = co_await connected();
    auto pusher = co_await connected();
    int delivered = 0;
    int kept = 0;
    for (int round = 0; round < 60; ++round) {
      const std::string element = "x" + std::to_string(round);
      // The push races the timeout: the pop is answered before, during or after the cancel.
      asio::co_spawn(co_await asio::this_coro::executor, pusher->execute("RPUSH", "race", element), asio::detached);
      bool timed_out = false;
      try {
        const auto popped =
            co_await rapyer::with_timeout(conn->execute("BLPOP", "race", 1), std::chrono::microseconds(round * 50));
        EXPECT_EQ(popped.as_array()[1].as_string(), element);
        ++delivered;
      } catch (const rapyer::timeout_error&) {
        timed_out = true;
      }
      if (timed_out) {
        EXPECT_EQ((co_await pusher->execute("LPOP", "race")).as_string(), element);
        ++kept;
      }
      EXPECT_EQ((co_await pusher->execute("LLEN", "race")).as_integer(), 0);
    }
    EXPECT_EQ(delivered + kept, 60);
  }());
}

TEST_F(ConnectionCancellationTest, WithTimeoutCancelsAForeverBlockingCommand) {
  run([]() -> awaitable<void> {
    auto conn = co_await connected();
    auto pusher = co_await connected();
    const auto start = steady::now();
    EXPECT_THROW((void)co_await rapyer::with_timeout(conn->execute("BRPOP", "forever", 0), 100ms),
                 rapyer::timeout_error);
    EXPECT_LT(ms_since(start), 1000);
    co_await pusher->execute("RPUSH", "forever", "kept");
    EXPECT_EQ((co_await pusher->execute("LLEN", "forever")).as_integer(), 1);
    EXPECT_EQ((co_await rapyer::with_timeout(conn->execute("RPOP", "forever"), 1s)).as_string(), "kept");
  }());
}

TEST_F(ConnectionCancellationTest, WithoutClientRightsACancelledBlockingCommandClosesItsConnection) {
  run([]() -> awaitable<void> {
    auto admin = co_await connected();
    co_await admin->execute("ACL", "SETUSER", "no-client", "on", ">pw", "~*", "+@all", "-client");
    auto config = connection_config::from_url(server_url());
    config.username = "no-client";
    config.password = "pw";
    config.client_name.clear();  // CLIENT SETNAME is refused to this user too
    auto conn = co_await connected(config);
    const auto start = steady::now();
    EXPECT_THROW((void)co_await rapyer::with_timeout(conn->execute("BLPOP", "no-client-jobs", 0), 100ms),
                 rapyer::timeout_error);
    EXPECT_LT(ms_since(start), 1000);
    co_await admin->execute("RPUSH", "no-client-jobs", "kept");
    co_await rapyer::test::sleep_for(50ms);
    EXPECT_EQ((co_await admin->execute("LLEN", "no-client-jobs")).as_integer(), 1);
    // It reconnected and serves again.
    EXPECT_EQ((co_await conn->execute("LPOP", "no-client-jobs")).as_string(), "kept");
    EXPECT_EQ(conn->reconnect_count(), 1U);
    co_await admin->execute("ACL", "DELUSER", "no-client");
  }());
}

TEST_F(ConnectionCancellationTest, ThousandCoroutinesWithCancellationsEachGetTheirOwnReply) {
  run([]() -> awaitable<void> {
    auto conn = co_await connected();
    auto executor = co_await asio::this_coro::executor;
    constexpr int total = 1000;
    std::vector<asio::cancellation_signal> signals(total);
    int own_replies = 0;
    int aborted = 0;
    int wrong = 0;
    int finished = 0;
    for (int i = 0; i < total; ++i) {
      auto work = [&conn, i]() -> awaitable<std::string> {
        co_return (co_await conn->execute("ECHO", "reply-" + std::to_string(i))).as_string();
      };
      asio::co_spawn(executor, work(),
                     asio::bind_cancellation_slot(signals[i].slot(), [&, i](std::exception_ptr e, std::string value) {
                       ++finished;
                       if (e) {
                         try {
                           std::rethrow_exception(e);
                         } catch (const boost::system::system_error& error) {
                           if (error.code() == asio::error::operation_aborted) ++aborted;
                         } catch (...) {
                           ++wrong;
                         }
                       } else if (value == "reply-" + std::to_string(i)) {
                         ++own_replies;
                       } else {
                         ++wrong;
                       }
                     }));
      // Every third one is cancelled after a few more have been sent.
      if (i % 3 == 0) {
        asio::post(executor, [&signals, i] { signals[i].emit(asio::cancellation_type::terminal); });
      }
    }
    while (finished < total) co_await rapyer::test::sleep_for(5ms);
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(own_replies + aborted, total);
    EXPECT_GE(own_replies, total - (total + 2) / 3);
    EXPECT_GT(aborted, 0);
    // The discarded replies were consumed: the next caller gets its own.
    EXPECT_EQ((co_await conn->execute("ECHO", "after")).as_string(), "after");
    EXPECT_EQ(conn->load(), 0U);
  }());
}

class ModelCancellationTest : public rapyer::test::model_test {};

TEST_F(ModelCancellationTest, ModelOperationsHonourPerCallTimeouts) {
  run([this]() -> awaitable<void> {
    test_models::User user;
    user.name = "Ada";
    co_await user.save();
    auto stall =
        std::make_unique<connection>(co_await asio::this_coro::executor, connection_config::from_url(server_url()));
    co_await stall->connect();
    asio::co_spawn(co_await asio::this_coro::executor, stall->execute("DEBUG", "SLEEP", "1"), asio::detached);
    co_await rapyer::test::sleep_for(50ms);
    const auto start = steady::now();
    EXPECT_THROW(co_await rapyer::with_timeout(test_models::User::get(user.key()), 100ms), rapyer::timeout_error);
    EXPECT_THROW(co_await rapyer::with_timeout(user.age.aincrease(1), 100ms), rapyer::timeout_error);
    EXPECT_LT(ms_since(start), 800);
    co_await rapyer::test::sleep_for(1200ms);
    // The default client is still in step once the server answers again.
    const auto loaded = co_await test_models::User::get(user.key());
    EXPECT_EQ(loaded.name, "Ada");
    (void)raw("PING");
  }());
}

}  // namespace

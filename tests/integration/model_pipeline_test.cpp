#include "rapyer/model_pipeline.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include "rapyer/rapyer.hpp"
#include "test_models.hpp"
#include "test_support.hpp"

namespace {

namespace asio = boost::asio;
using namespace test_models;
using rapyer::awaitable;

class PipelineTest : public rapyer::test::model_test {};

TEST_F(PipelineTest, QueuesEverythingAndSendsOneMultiExec) {
  User user;
  user.age = 10;
  user.tags = std::vector<std::string>{"a"};
  run(user.save());
  raw("HINCRBY", user.key(), "age", 5);  // someone else: arithmetic must stay server-relative
  run(user.apipeline([&](User& u) -> awaitable<void> {
    co_await u.age.aincrease(1);
    co_await u.tags.aappend("b");
    co_await u.metadata.aset_item("k", "v");
    co_await u.roles.aadd("r");
    co_await u.name.aappend("x");
    // Nothing has reached Redis yet.
    const rapyer::reply age = co_await rapyer::default_client().execute("HGET", u.key(), "age");
    EXPECT_EQ(age.as_string(), "15");
    EXPECT_EQ(u.age, 10);
  }));
  EXPECT_EQ(user.age, 16);  // the server's result, applied after EXEC
  EXPECT_EQ(user.tags.value(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(user.name, "x");
  EXPECT_EQ(raw("HGET", user.key(), "age").as_string(), "16");
  EXPECT_EQ(raw("LLEN", user.key() + ":tags").as_integer(), 2);
  EXPECT_EQ(raw("HGET", user.key() + ":metadata", "k").as_string(), "v");
}

TEST_F(PipelineTest, ExceptionInTheBodySendsNothing) {
  User user;
  user.age = 1;
  run(user.save());
  EXPECT_THROW(run(user.apipeline([&](User& u) -> awaitable<void> {
                 co_await u.age.aincrease(100);
                 co_await u.tags.aappend("never");
                 co_await u.adelete();
                 throw std::runtime_error("abort");
               })),
               std::runtime_error);
  EXPECT_EQ(raw("HGET", user.key(), "age").as_string(), "1");
  EXPECT_EQ(raw("EXISTS", user.key() + ":tags").as_integer(), 0);
  EXPECT_EQ(user.age, 1);
}

TEST_F(PipelineTest, AConcurrentReaderNeverSeesHalfAPipeline) {
  User user;
  user.age = 0;
  user.score = 0;
  run(user.save());
  int torn = 0;
  int reads = 0;
  bool writing = true;
  bool reader_done = false;
  run([&]() -> awaitable<void> {
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> awaitable<void> {
          while (writing) {
            const User seen = co_await User::get(user.key());
            ++reads;
            if (static_cast<double>(seen.age.value()) != seen.score.value()) ++torn;
          }
          reader_done = true;
        },
        asio::detached);
    for (int i = 0; i < 300; ++i) {
      co_await user.apipeline([&](User& u) -> awaitable<void> {
        co_await u.age.aincrease(1);
        co_await u.score.aincrease(1.0);
      });
    }
    writing = false;
    while (!reader_done) {  // the reader uses this test's variables: let it finish first
      co_await rapyer::default_client().execute("PING");
    }
  }());
  EXPECT_EQ(torn, 0);
  EXPECT_GT(reads, 10);
  EXPECT_EQ(raw("HGET", user.key(), "age").as_string(), "300");
}

TEST_F(PipelineTest, ErrorRepliesNameTheirOperationOrAreIgnored) {
  User user;
  run(user.save());
  raw("HSET", user.key(), "age", "not a number");
  try {
    run(user.apipeline([&](User& u) -> awaitable<void> {
      co_await u.tags.aappend("ok");
      co_await u.age.aincrease(1);
    }));
    FAIL();
  } catch (const rapyer::pipeline_error& e) {
    ASSERT_EQ(e.failures().size(), 1u);
    EXPECT_EQ(e.failures()[0].index, 1u);
    EXPECT_NE(e.failures()[0].operation.find("HINCRBY"), std::string::npos);
    EXPECT_NE(e.failures()[0].operation.find("age"), std::string::npos);
  }
  EXPECT_EQ(raw("LLEN", user.key() + ":tags").as_integer(), 1);  // EXEC does not roll back
  rapyer::pipeline_options ignore;
  ignore.ignore_errors = true;
  run(user.apipeline(
      [&](User& u) -> awaitable<void> {
        co_await u.age.aincrease(1);
        co_await u.tags.aappend("again");
      },
      ignore));
  EXPECT_EQ(raw("LLEN", user.key() + ":tags").as_integer(), 2);
}

TEST_F(PipelineTest, NestedPipelinesJoinAndSeveralModelsShareOne) {
  User a;
  User b;
  run(a.save());
  run(b.save());
  const auto both = [&]() -> awaitable<void> {
    co_await a.age.aincrease(1);
    co_await a.apipeline([&](User& inner) -> awaitable<void> { co_await inner.age.aincrease(1); });
    // The inner pipeline joined: nothing sent yet.
    const rapyer::reply age = co_await rapyer::default_client().execute("HGET", a.key(), "age");
    EXPECT_EQ(age.as_string(), "0");
    co_await b.tags.aappend("t");
    co_await b.aset_ttl(std::chrono::seconds(100));
  };
  if (rapyer::test::on_cluster()) {
    // a and b lie in different hash slots: one MULTI cannot hold both; refused before sending.
    EXPECT_THROW(run(rapyer::apipeline(both, a, b)), rapyer::usage_error);
    EXPECT_EQ(raw("HGET", a.key(), "age").as_string(), "0");
    EXPECT_EQ(raw("LLEN", b.key() + ":tags").as_integer(), 0);
    return;
  }
  run(rapyer::apipeline(both, a, b));
  EXPECT_EQ(raw("HGET", a.key(), "age").as_string(), "2");
  EXPECT_EQ(raw("LLEN", b.key() + ":tags").as_integer(), 1);
  EXPECT_GT(raw("TTL", b.key()).as_integer(), 90);
  rapyer::pipeline_options separate;
  separate.join_existing = false;
  EXPECT_THROW(run(a.apipeline([&](User&) -> awaitable<void> {
                 co_await a.apipeline([](User&) -> awaitable<void> { co_return; }, separate);
               })),
               rapyer::usage_error);
}

}  // namespace

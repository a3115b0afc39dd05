// Field operations on a model that does not exist (never saved, deleted, expired) fail with
// key_not_found naming key and field, and write nothing: no key of the model appears.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "rapyer/rapyer.hpp"
#include "test_models.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace test_models;
using rapyer::awaitable;

class MissingModelTest : public rapyer::test::model_test {
 protected:
  /// How many keys of the model exist.
  long long existing_keys(const rapyer::detail::model_base& model) {
    long long count = 0;
    for (const auto& k : model.all_keys()) count += raw("EXISTS", k).as_integer();
    return count;
  }

  /// Runs `operation` and expects key_not_found naming the model's key and `field`.
  template <class Model>
  void expect_missing(const Model& model, const std::string& field, const std::function<awaitable<void>()>& operation) {
    try {
      run(operation());
      ADD_FAILURE() << field << ": the operation on a missing model succeeded";
    } catch (const rapyer::key_not_found& e) {
      EXPECT_EQ(e.key(), model.key() + " field " + field) << e.what();
    }
  }

  /// Every field operation, each expected to fail with key_not_found and to write nothing.
  void expect_every_operation_refused(Everything& e) {
    const auto refused = [&](const std::string& field, const std::function<awaitable<void>()>& operation) {
      expect_missing(e, field, operation);
      EXPECT_EQ(existing_keys(e), 0) << field << " left a key of a model that does not exist";
    };
    refused("p_int", [&]() -> awaitable<void> { co_await e.p_int.aincrease(1); });
    refused("p_int", [&]() -> awaitable<void> { co_await e.p_int.amultiply(2); });
    refused("p_int", [&]() -> awaitable<void> { co_await e.p_int.save(); });
    refused("p_int", [&]() -> awaitable<void> { co_await e.p_int.aload(); });
    refused("p_float", [&]() -> awaitable<void> { co_await e.p_float.aincrease(0.5); });
    refused("p_float", [&]() -> awaitable<void> { co_await e.p_float.adivide(2); });
    refused("p_str", [&]() -> awaitable<void> { co_await e.p_str.aappend("x"); });
    refused("p_str", [&]() -> awaitable<void> { co_await e.p_str.amultiply(2); });
    refused("p_bool", [&]() -> awaitable<void> { co_await e.p_bool.aset(true); });
    refused("p_bytes", [&]() -> awaitable<void> { co_await e.p_bytes.aappend("x"); });
    refused("p_time", [&]() -> awaitable<void> { co_await e.p_time.aadd(1s); });
    refused("p_stamp", [&]() -> awaitable<void> { co_await e.p_stamp.aadd(1s); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.aappend(1.5); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.aextend(1.0, 2.0); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.ainsert(0, 3.0); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.apop(); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.apop(1); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.aset_item(0, 1.0); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.aremove_range(0, 1); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.aremove(1.0); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.atrim(0, 1); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.apop_many(2); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.aget_item(0); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.aslice(0, 2); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.alen(); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.save(); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.aload(); });
    refused("p_doubles", [&]() -> awaitable<void> { co_await e.p_doubles.aclear(); });
    refused("p_counts", [&]() -> awaitable<void> { co_await e.p_counts.aset_item("a", 1); });
    refused("p_counts", [&]() -> awaitable<void> { co_await e.p_counts.adel_item("a"); });
    refused("p_counts", [&]() -> awaitable<void> { co_await e.p_counts.aupdate(std::pair<std::string, int>("b", 2)); });
    refused("p_counts", [&]() -> awaitable<void> { co_await e.p_counts.apop("a"); });
    refused("p_counts", [&]() -> awaitable<void> { co_await e.p_counts.apopitem(); });
    refused("p_counts", [&]() -> awaitable<void> { co_await e.p_counts.apop_many(2); });
    refused("p_counts", [&]() -> awaitable<void> { co_await e.p_counts.aget_item("a"); });
    refused("p_counts", [&]() -> awaitable<void> { co_await e.p_counts.akeys(); });
    refused("p_counts", [&]() -> awaitable<void> { co_await e.p_counts.alen(); });
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.aadd(1); });
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.aremove(1); });
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.apop(); });
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.acontains(1); });
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.aadd_many(1, 2); });
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.aremove_many(1, 2); });
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.apop_many(2); });
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.amembers(); });
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.asize(); });
    // Set algebra, here with the set itself as the other set of the model.
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.aunion(e.p_ids); });
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.aintersect(e.p_ids); });
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.adifference(e.p_ids); });
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.aunion_store(e.p_ids); });
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.aintersect_store(e.p_ids); });
    refused("p_ids", [&]() -> awaitable<void> { co_await e.p_ids.adifference_store(e.p_ids); });
    e.text = "changed";
    refused("text", [&]() -> awaitable<void> { co_await e.aupdate(e.text); });
  }
};

TEST_F(MissingModelTest, OperationsOnAModelNeverSavedWriteNothing) {
  Everything e;
  expect_every_operation_refused(e);
}

TEST_F(MissingModelTest, OperationsOnADeletedModelWriteNothing) {
  Everything e;
  e.p_doubles = std::vector<double>{1.0};
  run(e.save());
  EXPECT_TRUE(run(e.adelete()));
  expect_every_operation_refused(e);
}

TEST_F(MissingModelTest, OperationsOnAnExpiredModelWriteNothing) {
  Everything e;
  e.p_doubles = std::vector<double>{1.0};
  run(e.save());
  run(e.aset_ttl(1s));
  for (const auto& k : e.all_keys()) raw("PEXPIRE", k, 1);
  run(rapyer::test::sleep_for(20ms));
  expect_every_operation_refused(e);
}

TEST_F(MissingModelTest, AnExistingModelStillTakesEveryOperation) {
  Everything e;
  run(e.save());
  EXPECT_EQ(run(e.p_int.aincrease(5)), 5);
  EXPECT_EQ(run(e.p_doubles.aappend(1.5)), 1u);
  EXPECT_TRUE(run(e.p_ids.aadd(7)));
  EXPECT_TRUE(run(e.p_ids.acontains(7)));
  EXPECT_EQ(raw("HGET", e.key(), "p_int").as_string(), "5");
  EXPECT_EQ(raw("LRANGE", e.p_doubles.key(), 0, -1).as_array().size(), 1u);
}

TEST_F(MissingModelTest, ErrorsOfTheCommandItselfStillNameTheCommand) {
  Everything e;
  run(e.save());
  raw("HSET", e.key(), "p_int", "not a number");
  try {
    run(e.p_int.aincrease(1));
    ADD_FAILURE() << "HINCRBY of a non-integer succeeded";
  } catch (const rapyer::server_error& error) {
    EXPECT_EQ(error.command(), "HINCRBY");
    EXPECT_EQ(error.server_message().rfind("ERR hash value is not an integer", 0), 0u) << error.what();
  }
  EXPECT_EQ(raw("HGET", e.key(), "p_int").as_string(), "not a number");
}

TEST_F(MissingModelTest, APipelineOnAMissingModelReportsItsOperationsAndWritesNothing) {
  Everything e;
  try {
    run(e.apipeline([](Everything& m) -> awaitable<void> {
      co_await m.p_int.aincrease(1);
      co_await m.p_doubles.aappend(2.0);
    }));
    ADD_FAILURE() << "the pipeline on a missing model succeeded";
  } catch (const rapyer::pipeline_error& error) {
    ASSERT_EQ(error.failures().size(), 2u) << error.what();
    EXPECT_EQ(error.failures()[0].operation, "HINCRBY " + e.key() + " p_int");
    EXPECT_EQ(error.failures()[0].message, "NOMODEL " + e.key());
    EXPECT_EQ(error.failures()[1].operation, "RPUSH " + e.key() + " p_doubles");
  }
  EXPECT_EQ(existing_keys(e), 0);
}

TEST_F(MissingModelTest, OperationsWithATtlRefreshOnAMissingModelWriteNothing) {
  Session s;  // refresh_ttl: each operation goes with EXPIREs in one MULTI/EXEC
  s.token = "gone";
  expect_missing(s, "hits", [&]() -> awaitable<void> { co_await s.hits.aincrease(1); });
  expect_missing(s, "pages", [&]() -> awaitable<void> { co_await s.pages.aappend("p"); });
  EXPECT_EQ(existing_keys(s), 0);
}

// 4 processes x 25 coroutines increment and append while one of them deletes the model: every
// operation either lands on the whole model or fails with key_not_found, and once it is deleted no
// key of it is left behind.
TEST_F(MissingModelTest, ConcurrentOperationsAroundADeleteNeverLeaveHalfAModel) {
  User u;
  run(u.save());
  const std::string key = u.key();
  constexpr int processes = 4;
  constexpr int coroutines = 25;
  constexpr int rounds = 40;
  const bool ok = rapyer::test::run_in_processes(
      processes, coroutines, [](int) -> awaitable<void> { co_return; },
      [&](int p, int c) -> awaitable<void> {
        User mine = co_await User::get(key);
        for (int round = 0; round < rounds; ++round) {
          if (p == 0 && c == 0 && round == rounds / 4) co_await mine.adelete();
          try {
            co_await mine.age.aincrease(1);
            co_await mine.tags.aappend("t");
          } catch (const rapyer::key_not_found&) {
            // the model is gone: nothing was written
          }
        }
      });
  EXPECT_TRUE(ok) << "an operation failed with another error than key_not_found";
  for (const auto& k : u.all_keys()) EXPECT_EQ(raw("EXISTS", k).as_integer(), 0) << k << " outlived its model";
}

}  // namespace

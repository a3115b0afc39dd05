// The embedded scripts against a server that has none of them (SCRIPT FLUSH): every way an
// operation is sent (a plain call, apipeline(), atransaction(), aget_or_create()) loads them and
// applies each operation exactly once.
#include <string>
#include <vector>

#include "rapyer/detail/scripts.hpp"
#include "rapyer/rapyer.hpp"
#include "rapyer/transaction.hpp"
#include "test_models.hpp"
#include "test_support.hpp"

namespace {

using namespace test_models;
using rapyer::awaitable;

class ScriptReloadTest : public rapyer::test::model_test {
 protected:
  void flush_scripts() { raw_on_every_primary(rapyer::request().push("SCRIPT", "FLUSH")); }

  /// A user with known values, saved, then the scripts flushed.
  User saved_then_flushed() {
    User user;
    user.name = "a";
    user.age = 3;
    user.tags = std::vector<std::string>{"x", "z"};
    run(user.save());
    flush_scripts();
    return user;
  }

  std::vector<std::string> stored_list(const std::string& key) {
    const rapyer::reply stored = raw("LRANGE", key, 0, -1);
    std::vector<std::string> items;
    for (const auto& item : stored.as_array()) items.push_back(item.as_string());
    return items;
  }
};

TEST_F(ScriptReloadTest, TheEmbeddedShaIsTheNameTheServerGivesTheText) {
  for (const auto* script : rapyer::detail::scripts::all()) {
    for (const auto& loaded : raw_on_every_primary(rapyer::request().push("SCRIPT", "LOAD", script->source))) {
      EXPECT_EQ(loaded.as_string(), script->sha) << script->name;
    }
  }
}

TEST_F(ScriptReloadTest, APlainCallAppliesOnce) {
  User user = saved_then_flushed();
  EXPECT_EQ(run(user.age.amultiply(5)), 15);
  flush_scripts();
  run(user.tags.ainsert(1, "y"));
  flush_scripts();
  EXPECT_EQ(run(user.name.aappend("b")), "ab");
  EXPECT_EQ(raw("HGET", user.key(), "age").as_string(), "15");
  EXPECT_EQ(raw("HGET", user.key(), "name").as_string(), "ab");
  EXPECT_EQ(stored_list(user.key() + ":tags"), (std::vector<std::string>{"x", "y", "z"}));
}

TEST_F(ScriptReloadTest, APipelineAppliesEachOperationOnce) {
  User user = saved_then_flushed();
  run(user.apipeline([](User& u) -> awaitable<void> {
    co_await u.age.aincrease(1);      // plain: runs in the first EXEC, never again
    co_await u.name.aappend("b");     // script
    co_await u.tags.aappend("w");     // plain
    co_await u.tags.ainsert(0, "v");  // script
    co_await u.score.aincrease(0.5);  // plain
    co_await u.name.amultiply(2);     // script
  }));
  EXPECT_EQ(raw("HGET", user.key(), "age").as_string(), "4");
  EXPECT_EQ(raw("HGET", user.key(), "name").as_string(), "abab");
  EXPECT_EQ(raw("HGET", user.key(), "score").as_string(), "0.5");
  EXPECT_EQ(stored_list(user.key() + ":tags"), (std::vector<std::string>{"v", "x", "z", "w"}));
  EXPECT_EQ(user.age, 4);
  EXPECT_EQ(user.name, "abab");
}

TEST_F(ScriptReloadTest, APipelineKeepsItsOrderWhenItsScriptsWereMissing) {
  // age is 3: multiplied by a script, then increased by a plain command. Run out of order, the
  // increase would come first and give 8 instead of 7.
  User user = saved_then_flushed();
  run(user.apipeline([](User& u) -> awaitable<void> {
    co_await u.age.amultiply(2);
    co_await u.age.aincrease(1);
  }));
  EXPECT_EQ(raw("HGET", user.key(), "age").as_string(), "7");
  EXPECT_EQ(user.age, 7);
}

TEST_F(ScriptReloadTest, ATransactionAppliesOnce) {
  User user = saved_then_flushed();
  int calls = 0;
  const User result = run(rapyer::atransaction<User>(user.key(), [&](User& fresh) -> awaitable<void> {
    ++calls;
    fresh.age = fresh.age + 10;
    fresh.tags.value().push_back("t");
    co_return;
  }));
  EXPECT_EQ(result.age, 13);
  EXPECT_EQ(raw("HGET", user.key(), "age").as_string(), "13");
  EXPECT_EQ(stored_list(user.key() + ":tags"), (std::vector<std::string>{"x", "z", "t"}));
  EXPECT_EQ(calls, 2);  // the attempt whose EXEC met NOSCRIPT wrote nothing, and started over
}

TEST_F(ScriptReloadTest, AGetOrCreateRunsAgainWholeSoItsReadFollowsItsSave) {
  flush_scripts();
  User user;
  user.name = "first";
  user.tags = std::vector<std::string>{"x"};
  // MULTIs on the node of the user's keys.
  const auto multis = [this, key = user.key()] {
    const std::string stats = raw_on_node_of(key, rapyer::request().push("INFO", "commandstats")).as_string();
    const auto at = stats.find("cmdstat_multi:calls=");
    return at == std::string::npos ? 0L : std::stol(stats.substr(at + 20));
  };
  const long before = multis();
  const auto created = run(User::aget_or_create(user));
  EXPECT_TRUE(created.created);
  EXPECT_EQ(created.model.name, "first");
  EXPECT_EQ(created.model.tags.value(), std::vector<std::string>{"x"});
  EXPECT_EQ(multis() - before, 2);  // the block that met NOSCRIPT, then the whole block again
  flush_scripts();
  user.name = "second";
  const auto found = run(User::aget_or_create(user));
  EXPECT_FALSE(found.created);
  EXPECT_EQ(found.model.name, "first");
  EXPECT_EQ(raw("HGET", user.key(), "name").as_string(), "first");
  EXPECT_EQ(stored_list(user.key() + ":tags"), (std::vector<std::string>{"x"}));
}

TEST_F(ScriptReloadTest, BulkSavesAndDeletesApplyOnce) {
  std::vector<User> users(5);
  for (std::size_t i = 0; i < users.size(); ++i) users[i].age = static_cast<long long>(i);
  flush_scripts();
  run(User::ainsert(users));
  for (std::size_t i = 0; i < users.size(); ++i) {
    EXPECT_EQ(raw("HGET", users[i].key(), "age").as_string(), std::to_string(i));
  }
  flush_scripts();
  EXPECT_EQ(run(User::adelete_many({users[0].key(), users[1].key()})), 2U);
  EXPECT_EQ(raw("EXISTS", users[0].key()).as_integer(), 0);
  EXPECT_EQ(raw("EXISTS", users[2].key()).as_integer(), 1);
}

}  // namespace

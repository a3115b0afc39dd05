// Lookups by bare id, existence checks and aget_or_create against a real server (standalone, and
// a cluster under RAPYER_TEST_DEPLOYMENT=cluster), with the stored state read back raw.
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rapyer/rapyer.hpp"
#include "test_models.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace test_models;
using rapyer::awaitable;
using rapyer::reply;

/// Identified by a Key field, indexed (so its keys lie in buckets), with every collection kind, a
/// version and a TTL: everything a create writes.
struct Member : rapyer::AtomicRedisModel<Member> {
  rapyer::Key<std::string> handle;
  rapyer::RedisStr name;
  rapyer::RedisInt level;
  rapyer::RedisList<std::string> badges;
  rapyer::RedisDict<std::string, std::string> profile;
  rapyer::RedisSet<std::string> teams;
  rapyer::Version version;
  static rapyer::model_config redis_config() {
    rapyer::model_config config;
    config.prefix = "club:";
    config.ttl = std::chrono::seconds(600);
    config.indexes = {"level"};
    return config;
  }
};
BOOST_DESCRIBE_STRUCT(Member, (), (handle, name, level, badges, profile, teams, version))

Member member(const std::string& handle, const std::string& name, long long level) {
  Member m;
  m.handle = handle;
  m.name = name;
  m.level = level;
  m.badges = std::vector<std::string>{"first", "second", "first"};
  m.profile = std::map<std::string, std::string>{{"city", "Haifa"}, {"lang", "he"}};
  m.teams = std::set<std::string>{"red", "blue"};
  return m;
}

class LookupsTest : public rapyer::test::model_test {
 protected:
  /// The stored hash at `key`, field -> value.
  std::map<std::string, std::string> stored_hash(const std::string& key) {
    const reply flat = raw("HGETALL", key);
    std::map<std::string, std::string> out;
    const auto& items = flat.as_array();
    for (std::size_t i = 0; i + 1 < items.size(); i += 2) out[items[i].as_string()] = items[i + 1].as_string();
    return out;
  }
  std::vector<std::string> strings(const reply& r) {
    std::vector<std::string> out;
    for (const auto& item : r.as_array()) out.push_back(item.as_string());
    return out;
  }
  /// Everything stored for a Member: its hash, collections, index entry and TTL.
  std::string stored_member(const std::string& key) {
    std::ostringstream out;
    for (const auto& [field, value] : stored_hash(key)) out << field << '=' << value << ';';
    for (const auto& item : strings(raw("LRANGE", key + ":badges", 0, -1))) out << "badge " << item << ';';
    for (const auto& [field, value] : stored_hash(key + ":profile")) out << "profile " << field << '=' << value << ';';
    const auto teams = strings(raw("SMEMBERS", key + ":teams"));
    for (const auto& team : std::set<std::string>(teams.begin(), teams.end())) out << "team " << team << ';';
    const reply score = raw("ZSCORE", level_index_of(key), id_in(key));
    out << "indexed " << (score.is_nil() ? "no" : score.as_string()) << ';';
    return out.str();
  }
  static std::string id_in(const std::string& key) { return Member::class_layout().id_of(key).value(); }
  static std::string level_index_of(const std::string& key) {
    const auto& layout = Member::class_layout();
    return layout.index_key(layout.bucket_of(id_in(key)), "level");
  }
};

void expect_same(const Member& a, const Member& b) {
  EXPECT_EQ(a.handle.value(), b.handle.value());
  EXPECT_EQ(a.name.value(), b.name.value());
  EXPECT_EQ(a.level.value(), b.level.value());
  EXPECT_EQ(a.badges.value(), b.badges.value());
  EXPECT_EQ(a.profile.value(), b.profile.value());
  EXPECT_EQ(a.teams.value(), b.teams.value());
  EXPECT_EQ(a.version.value(), b.version.value());
}

// ---- bare ids ----

TEST_F(LookupsTest, AClassWithAKeyFieldIsLookedUpByIdOrByKey) {
  const Member alice = member("alice", "Alice", 3);
  const Member bob = member("bob", "Bob", 5);
  run(alice.save());
  run(bob.save());
  EXPECT_EQ(alice.key(), Member::key_for("alice"));
  EXPECT_NE(alice.key().find("{Member#"), std::string::npos);  // bucketed: the id alone is no key

  expect_same(run(Member::get("alice")), alice);
  expect_same(run(Member::get(alice.key())), alice);
  const auto both = run(Member::afind({"alice", bob.key()}));
  ASSERT_EQ(both.size(), 2U);
  expect_same(both[0], alice);
  expect_same(both[1], bob);
  const std::vector<std::string> ids = {"bob", "alice"};
  const auto by_ids = run(Member::afind(ids));
  ASSERT_EQ(by_ids.size(), 2U);
  EXPECT_EQ(by_ids[0].handle, "bob");
  EXPECT_EQ(by_ids[1].handle, "alice");

  // A missing id is reported by the key it names.
  try {
    run(Member::get("carol"));
    FAIL() << "carol does not exist";
  } catch (const rapyer::key_not_found& e) {
    EXPECT_EQ(e.key(), Member::key_for("carol"));
  }
  const std::vector<std::string> with_missing = {"carol", "alice"};
  EXPECT_THROW(run(Member::afind(with_missing)), rapyer::key_not_found);
  EXPECT_EQ(run(Member::afind(with_missing, rapyer::missing_keys::skip)).size(), 1U);
}

TEST_F(LookupsTest, FindOneByKeyOrIdIsEmptyForAMissingModel) {
  const Member stored = member("ada", "Ada", 3);
  run(stored.save());
  const auto by_id = run(Member::afind_one(std::string("ada")));
  ASSERT_TRUE(by_id.has_value());
  EXPECT_EQ(by_id->name, "Ada");
  EXPECT_EQ(by_id->key(), stored.key());
  const auto by_key = run(Member::afind_one(stored.key()));
  ASSERT_TRUE(by_key.has_value());
  EXPECT_EQ(by_key->level, 3);
  EXPECT_FALSE(run(Member::afind_one(std::string("nobody"))).has_value());
}

TEST_F(LookupsTest, FindOneWithoutArgumentIsSomeModelOfTheClassOrNone) {
  EXPECT_FALSE(run(Member::afind_one()).has_value());
  run(member("ada", "Ada", 3).save());
  const auto any = run(Member::afind_one());
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->handle.value(), "ada");
}

TEST_F(LookupsTest, DeletesTakeIdsAsWellAsKeys) {
  const Member ada = member("ada", "Ada", 3);
  const Member bob = member("bob", "Bob", 4);
  const Member eve = member("eve", "Eve", 5);
  run(ada.save());
  run(bob.save());
  run(eve.save());
  EXPECT_TRUE(run(Member::adelete_by_key("ada")));
  EXPECT_FALSE(run(Member::adelete_by_key("ada")));
  const std::vector<std::string> mixed = {"bob", eve.key(), "nobody"};
  EXPECT_EQ(run(Member::adelete_many(mixed)), 2u);
  for (const Member* m : {&ada, &bob, &eve}) {
    EXPECT_EQ(raw("EXISTS", m->key()).as_integer(), 0) << m->key();
    EXPECT_EQ(raw("EXISTS", m->badges.key()).as_integer(), 0) << m->key();
  }
}

TEST(KeyField, KeysCompareByValue) {
  const rapyer::Key<std::string> a("x");
  const rapyer::Key<std::string> b("x");
  const rapyer::Key<std::string> c("y");
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == c);
  EXPECT_TRUE(a == std::string("x"));
}

TEST_F(LookupsTest, AnIdThatLooksLikeAKeyOfTheClassIsGivenAsItsFullKey) {
  Session session;
  session.token = "app:Session:{x}";
  run(session.save());
  EXPECT_EQ(session.key(), "app:Session:{app:Session:{x}}");
  // Taken as the key of the session "x", which does not exist.
  EXPECT_THROW(run(Session::get("app:Session:{x}")), rapyer::key_not_found);
  EXPECT_EQ(run(Session::get(session.key())).token, std::string("app:Session:{x}"));
  // Ids with braces and colons that are no key of the class are ids.
  Session odd;
  odd.token = "tok:1.{x} ü";
  run(odd.save());
  EXPECT_EQ(run(Session::get("tok:1.{x} ü")).token, std::string("tok:1.{x} ü"));
}

TEST_F(LookupsTest, AClassWithoutAKeyFieldTakesOnlyKeys) {
  User user;
  user.name = "keyed";
  run(user.save());
  EXPECT_EQ(run(User::get(user.key())).name, "keyed");
  EXPECT_THROW(run(User::get(user.id())), rapyer::usage_error);
  const std::vector<std::string> ids = {user.id()};
  EXPECT_THROW(run(User::afind(ids)), rapyer::usage_error);
  EXPECT_THROW(run(User::aexists(user.id())), rapyer::usage_error);
}

// ---- existence ----

TEST_F(LookupsTest, ExistsByKeyOrIdOfTheClass) {
  User user;
  user.tags = std::vector<std::string>{"t"};
  run(user.save());
  EXPECT_TRUE(run(User::aexists(user.key())));
  EXPECT_TRUE(run(user.aexists()));
  EXPECT_FALSE(run(User::aexists("User:{absent}")));
  EXPECT_THROW(run(User::aexists("app:Session:{x}")), rapyer::usage_error);

  run(Member::ainsert(member("dana", "Dana", 1)));
  EXPECT_TRUE(run(Member::aexists("dana")));
  EXPECT_TRUE(run(Member::aexists(Member::key_for("dana"))));
  EXPECT_FALSE(run(Member::aexists("erin")));

  EXPECT_TRUE(run(user.adelete()));
  EXPECT_FALSE(run(User::aexists(user.key())));
  EXPECT_FALSE(run(user.aexists()));
}

TEST_F(LookupsTest, ModuleExistsResolvesTheClassAndIsFalseForKeysNoClassMakes) {
  User user;
  user.tags = std::vector<std::string>{"t"};
  run(user.save());
  Session session;
  session.token = "s1";
  run(session.save());
  EXPECT_TRUE(run(rapyer::aexists(user.key())));
  EXPECT_TRUE(run(rapyer::aexists(session.key())));
  EXPECT_FALSE(run(rapyer::aexists("User:{absent}")));
  // Stored, but no model key: a collection key, a key of no registered class.
  raw("SET", "Unknown:{x}", "1");
  EXPECT_EQ(raw("EXISTS", user.key() + ":tags").as_integer(), 1);
  EXPECT_FALSE(run(rapyer::aexists(user.key() + ":tags")));
  EXPECT_FALSE(run(rapyer::aexists("Unknown:{x}")));
  EXPECT_FALSE(run(rapyer::aexists("no braces")));
  EXPECT_TRUE(run(user.adelete()));
  EXPECT_FALSE(run(rapyer::aexists(user.key())));
}

// ---- aget_or_create ----

TEST_F(LookupsTest, GetOrCreateCreatesAnAbsentModelWithEverythingASaveWrites) {
  const Member candidate = member("frank", "Frank", 7);
  const auto [created_model, created] = run(Member::aget_or_create(candidate));
  EXPECT_TRUE(created);
  const std::string key = Member::key_for("frank");
  EXPECT_EQ(created_model.key(), key);
  EXPECT_EQ(created_model.version.value(), 1);  // as stored: a save advances the version

  EXPECT_EQ(
      stored_hash(key),
      (std::map<std::string, std::string>{
          {"__rapyer_model__", "Member"}, {"handle", "frank"}, {"name", "Frank"}, {"level", "7"}, {"version", "1"}}));
  EXPECT_EQ(strings(raw("LRANGE", key + ":badges", 0, -1)), (std::vector<std::string>{"first", "second", "first"}));
  EXPECT_EQ(stored_hash(key + ":profile"), (std::map<std::string, std::string>{{"city", "Haifa"}, {"lang", "he"}}));
  const auto teams = strings(raw("SMEMBERS", key + ":teams"));
  EXPECT_EQ(std::set<std::string>(teams.begin(), teams.end()), (std::set<std::string>{"blue", "red"}));
  EXPECT_EQ(raw("ZSCORE", level_index_of(key), "frank").as_string(), "7");
  for (const std::string suffix : {"", ":badges", ":profile", ":teams"}) {
    const long long ttl = raw("PTTL", key + suffix).as_integer();
    EXPECT_GT(ttl, 590'000) << suffix;
    EXPECT_LE(ttl, 600'000) << suffix;
  }
  expect_same(created_model, run(Member::get("frank")));
}

TEST_F(LookupsTest, GetOrCreateLoadsAStoredModelAndWritesNothing) {
  const Member stored = member("gina", "Gina", 2);
  run(stored.save());
  const std::string key = stored.key();
  raw("PEXPIRE", key, 50'000);  // a TTL a create would reset
  const std::string before = stored_member(key);

  Member other = member("gina", "Someone else", 9);
  other.badges = std::vector<std::string>{};
  other.teams = std::set<std::string>{"green"};
  const auto [found, created] = run(rapyer::aget_or_create(other));
  EXPECT_FALSE(created);
  EXPECT_EQ(found.name.value(), "Gina");
  EXPECT_EQ(found.level.value(), 2);
  EXPECT_EQ(found.badges.value(), stored.badges.value());
  EXPECT_EQ(found.teams.value(), stored.teams.value());
  EXPECT_EQ(found.version.value(), 1);
  EXPECT_EQ(stored_member(key), before);
  EXPECT_LE(raw("PTTL", key).as_integer(), 50'000);
  // The loaded model works like any loaded one.
  Member copy = found;
  run(copy.level.aincrease(1));
  EXPECT_EQ(raw("HGET", key, "level").as_string(), "3");
}

TEST_F(LookupsTest, GetOrCreateReadsWithTheTtlRefreshOfAnyRead) {
  Session session;
  session.token = "refreshed";
  session.pages = std::vector<std::string>{"/"};
  run(session.save());
  raw("EXPIRE", session.key(), 5);
  raw("EXPIRE", session.key() + ":pages", 5);
  Session candidate;
  candidate.token = "refreshed";
  const auto [found, created] = run(Session::aget_or_create(candidate));
  EXPECT_FALSE(created);
  EXPECT_EQ(found.pages.value(), std::vector<std::string>{"/"});
  EXPECT_GT(raw("TTL", session.key()).as_integer(), 90);
  EXPECT_GT(raw("TTL", session.key() + ":pages").as_integer(), 90);
}

TEST_F(LookupsTest, GetOrCreateOfAModelWithoutAKeyFieldUsesItsId) {
  User user;
  user.name = "first";
  EXPECT_TRUE(run(User::aget_or_create(user)).created);
  user.name = "second";
  const auto again = run(User::aget_or_create(user));
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.model.name, "first");
  EXPECT_EQ(again.model.key(), user.key());
  EXPECT_EQ(raw("HGET", user.key(), "name").as_string(), "first");
}

TEST_F(LookupsTest, GetOrCreateOfSomethingElseStoredThrowsAndWritesNothing) {
  const std::string key = Member::key_for("ivan");
  raw("HSET", key, "__rapyer_model__", "User", "name", "not a member");
  try {
    run(Member::aget_or_create(member("ivan", "Ivan", 1)));
    FAIL() << "another class is stored there";
  } catch (const rapyer::decode_error& e) {
    EXPECT_EQ(e.key(), key);
  }
  EXPECT_EQ(stored_hash(key),
            (std::map<std::string, std::string>{{"__rapyer_model__", "User"}, {"name", "not a member"}}));
  EXPECT_EQ(raw("EXISTS", key + ":badges").as_integer(), 0);
  EXPECT_TRUE(raw("ZSCORE", level_index_of(key), "ivan").is_nil());
}

TEST_F(LookupsTest, GetOrCreateRefusesWhatASaveRefusesAndWritesNothing) {
  const Member no_handle = member("", "Nobody", 1);
  EXPECT_THROW(run(Member::aget_or_create(no_handle)), rapyer::usage_error);  // an empty Key has no key

  Member loaded_elsewhere = member("jack", "Jack", 1);
  loaded_elsewhere.version.number = 3;  // a copy of a model deleted since
  EXPECT_THROW(run(Member::aget_or_create(loaded_elsewhere)), rapyer::version_conflict);
  EXPECT_EQ(raw("EXISTS", Member::key_for("jack")).as_integer(), 0);
  EXPECT_EQ(raw("EXISTS", Member::key_for("jack") + ":badges").as_integer(), 0);
}

// 4 processes x 50 coroutines race to create the same model: exactly one creates it, the stored
// model is the creator's, and every other call returns it.
TEST_F(LookupsTest, RacingGetOrCreateAcrossProcessesCreatesExactlyOnce) {
  constexpr int processes = 4;
  constexpr int coroutines = 50;
  int outcomes[2];
  ASSERT_EQ(::pipe(outcomes), 0);
  const auto setup = [](int) -> awaitable<void> { co_return; };
  const auto work = [&](int p, int c) -> awaitable<void> {
    const std::string mine = std::to_string(p) + "/" + std::to_string(c);
    const auto result = co_await Member::aget_or_create(member("race", mine, p * 100 + c));
    // One line per call, written at once (shorter than PIPE_BUF): created flag, mine, returned name.
    const std::string line =
        std::to_string(result.created ? 1 : 0) + " " + mine + " " + result.model.name.value() + "\n";
    if (::write(outcomes[1], line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      throw std::runtime_error("write to the outcome pipe failed");
  };
  const bool succeeded = rapyer::test::run_in_processes(processes, coroutines, setup, work);
  ::close(outcomes[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t got = 0; (got = ::read(outcomes[0], buffer, sizeof buffer)) > 0;) text.append(buffer, got);
  ::close(outcomes[0]);
  ASSERT_TRUE(succeeded);

  std::istringstream lines(text);
  int calls = 0;
  std::vector<std::string> creators;
  std::set<std::string> returned;
  int flag = 0;
  std::string mine;
  std::string name;
  while (lines >> flag >> mine >> name) {
    ++calls;
    if (flag == 1) creators.push_back(mine);
    returned.insert(name);
  }
  EXPECT_EQ(calls, processes * coroutines);
  ASSERT_EQ(creators.size(), 1U);
  EXPECT_EQ(returned, std::set<std::string>{creators.front()});
  const Member stored = run(Member::get("race"));
  EXPECT_EQ(stored.name.value(), creators.front());
  const auto slash = creators.front().find('/');
  EXPECT_EQ(stored.level.value(),
            std::stoll(creators.front().substr(0, slash)) * 100 + std::stoll(creators.front().substr(slash + 1)));
  EXPECT_EQ(stored.version.value(), 1);
  EXPECT_EQ(raw("ZSCORE", level_index_of(stored.key()), "race").as_string(), std::to_string(stored.level.value()));
}

}  // namespace

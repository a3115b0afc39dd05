// Every atomic operation of RedisList, RedisDict and RedisSet, checked against raw Redis state.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rapyer/rapyer.hpp"
#include "test_models.hpp"
#include "test_support.hpp"

namespace {

using namespace test_models;
using rapyer::awaitable;
using rapyer::reply;

// Two sets of one model, for set algebra.
struct Team : rapyer::AtomicRedisModel<Team> {
  rapyer::RedisSet<std::string> members;
  rapyer::RedisSet<std::string> admins;
};
BOOST_DESCRIBE_STRUCT(Team, (), (members, admins))

class CollectionFieldTest : public rapyer::test::model_test {
 protected:
  std::vector<std::string> list(const std::string& key) {
    std::vector<std::string> out;
    const reply stored = raw("LRANGE", key, 0, -1);
    for (const auto& r : stored.as_array()) out.push_back(r.as_string());
    return out;
  }
  User saved_user() {
    User u;
    u.tags = std::vector<std::string>{"a", "b", "c", "d", "e"};
    u.metadata = std::map<std::string, std::string>{{"k1", "v1"}, {"k2", "v2"}};
    u.roles = std::set<std::string>{"admin", "dev"};
    run(u.save());
    return u;
  }
  std::set<std::string> members(const std::string& key) {
    std::set<std::string> out;
    const reply stored = raw("SMEMBERS", key);
    for (const auto& r : stored.as_array()) out.insert(r.as_string());
    return out;
  }
  Team saved_team() {
    Team t;
    t.members = std::set<std::string>{"a", "b", "c"};
    t.admins = std::set<std::string>{"b", "d"};
    run(t.save());
    return t;
  }
  using strings = std::vector<std::string>;
  using string_set = std::set<std::string>;
};

TEST_F(CollectionFieldTest, ListAppendExtendInsert) {
  User u = saved_user();
  EXPECT_EQ(run(u.tags.aappend("f")), 6u);
  EXPECT_EQ(run(u.tags.aextend("g", "h")), 8u);
  const strings more = {"i"};
  EXPECT_EQ(run(u.tags.aextend(more)), 9u);
  run(u.tags.ainsert(1, "X"));
  run(u.tags.ainsert(-1, "Y"));    // before the last, as in Python
  run(u.tags.ainsert(100, "Z"));   // clamps to the end
  run(u.tags.ainsert(-100, "W"));  // clamps to the front
  const strings expected = {"W", "a", "X", "b", "c", "d", "e", "f", "g", "h", "Y", "i", "Z"};
  EXPECT_EQ(list(u.tags.key()), expected);
  EXPECT_EQ(u.tags.value(), expected);
}

TEST_F(CollectionFieldTest, ListPopSetAndRemoveRange) {
  User u = saved_user();
  EXPECT_EQ(run(u.tags.apop()), std::optional<std::string>("e"));
  EXPECT_EQ(run(u.tags.apop(0)), std::optional<std::string>("a"));
  EXPECT_EQ(run(u.tags.apop(1)), std::optional<std::string>("c"));
  EXPECT_EQ(list(u.tags.key()), (strings{"b", "d"}));
  run(u.tags.aset_item(-1, "D"));
  EXPECT_EQ(list(u.tags.key()), (strings{"b", "D"}));
  EXPECT_THROW(run(u.tags.aset_item(5, "nope")), rapyer::server_error);
  EXPECT_EQ(run(u.tags.aextend("x", "y", "z")), 5u);
  EXPECT_EQ(run(u.tags.aremove_range(1, 3)), 2u);  // del lst[1:3]
  EXPECT_EQ(list(u.tags.key()), (strings{"b", "y", "z"}));
  EXPECT_EQ(u.tags.value(), (strings{"b", "y", "z"}));
  EXPECT_EQ(run(u.tags.aremove_range(-2, 100)), 2u);
  EXPECT_EQ(list(u.tags.key()), (strings{"b"}));
  run(u.tags.aclear());
  EXPECT_EQ(raw("EXISTS", u.tags.key()).as_integer(), 0);
  EXPECT_EQ(run(u.tags.apop()), std::nullopt);
  EXPECT_EQ(run(u.tags.apop(3)), std::nullopt);
  EXPECT_TRUE(u.tags.empty());
}

TEST_F(CollectionFieldTest, ListPopAtIndexWithDuplicateValues) {
  User u = saved_user();
  run(u.tags.aclear());
  run(u.tags.aextend("same", "same", "same"));
  EXPECT_EQ(run(u.tags.apop(1)), std::optional<std::string>("same"));
  EXPECT_EQ(list(u.tags.key()), (strings{"same", "same"}));
}

TEST_F(CollectionFieldTest, ListOfStructsStoresJsonElements) {
  Everything e;
  run(e.save());
  run(e.p_addresses.aappend(Address{"Rome", 100, "Via"}));
  EXPECT_EQ(raw("LINDEX", e.p_addresses.key(), 0).as_string(), R"({"city":"Rome","street":"Via","zip":100})");
  const auto popped = run(e.p_addresses.apop());
  ASSERT_TRUE(popped.has_value());
  EXPECT_EQ(popped->city, "Rome");
}

TEST_F(CollectionFieldTest, DictOperations) {
  User u = saved_user();
  run(u.metadata.aset_item("k3", "v3"));
  EXPECT_EQ(raw("HGET", u.metadata.key(), "k3").as_string(), "v3");
  EXPECT_TRUE(run(u.metadata.adel_item("k1")));
  EXPECT_FALSE(run(u.metadata.adel_item("k1")));
  run(u.metadata.aupdate(std::pair{"a", "1"}, std::pair{"b", "2"}));
  const std::map<std::string, std::string> more = {{"c", "3"}};
  run(u.metadata.aupdate(more));
  EXPECT_EQ(raw("HLEN", u.metadata.key()).as_integer(), 5);
  EXPECT_EQ(run(u.metadata.apop("a")), std::optional<std::string>("1"));
  EXPECT_TRUE(raw("HGET", u.metadata.key(), "a").is_nil());
  EXPECT_EQ(run(u.metadata.apop("a")), std::nullopt);
  EXPECT_EQ(run(u.metadata.apop("a", "fallback")), "fallback");
  std::size_t popped = 0;
  while (auto item = run(u.metadata.apopitem())) {
    EXPECT_FALSE(u.metadata.contains(item->first));
    ++popped;
  }
  EXPECT_EQ(popped, 4u);
  EXPECT_EQ(raw("EXISTS", u.metadata.key()).as_integer(), 0);
  EXPECT_TRUE(u.metadata.empty());
  run(u.metadata.aset_item("x", "y"));
  run(u.metadata.aclear());
  EXPECT_EQ(raw("EXISTS", u.metadata.key()).as_integer(), 0);
}

TEST_F(CollectionFieldTest, DictKeysAreBinarySafe) {
  User u = saved_user();
  const std::string tricky = std::string("a\r\n*3 \"'{}[]$.\0z", 16);
  run(u.metadata.aset_item(tricky, tricky));
  EXPECT_EQ(raw("HGET", u.metadata.key(), tricky).as_string(), tricky);
  const User loaded = run(User::get(u.key()));
  EXPECT_EQ(loaded.metadata.at(tricky), tricky);
}

TEST_F(CollectionFieldTest, SetOperations) {
  User u = saved_user();
  EXPECT_TRUE(run(u.roles.aadd("ops")));
  EXPECT_FALSE(run(u.roles.aadd("ops")));
  EXPECT_TRUE(run(u.roles.acontains("ops")));
  EXPECT_EQ(raw("SISMEMBER", u.roles.key(), "ops").as_integer(), 1);
  EXPECT_TRUE(run(u.roles.aremove("admin")));
  EXPECT_FALSE(run(u.roles.aremove("admin")));
  EXPECT_EQ(raw("SCARD", u.roles.key()).as_integer(), 2);
  const auto popped = run(u.roles.apop());
  ASSERT_TRUE(popped.has_value());
  EXPECT_EQ(raw("SISMEMBER", u.roles.key(), *popped).as_integer(), 0);
  EXPECT_FALSE(u.roles.contains(*popped));
  run(u.roles.aclear());
  EXPECT_EQ(raw("EXISTS", u.roles.key()).as_integer(), 0);
  EXPECT_EQ(run(u.roles.apop()), std::nullopt);
}

TEST_F(CollectionFieldTest, ListReadsOfPartLeaveTheLocalCopyAlone) {
  User u = saved_user();  // a b c d e
  raw("RPUSH", u.tags.key(), "f");
  EXPECT_EQ(run(u.tags.aget_item(0)), std::optional<std::string>("a"));
  EXPECT_EQ(run(u.tags.aget_item(-1)), std::optional<std::string>("f"));
  EXPECT_EQ(run(u.tags.aget_item(6)), std::nullopt);
  EXPECT_EQ(run(u.tags.aget_item(-7)), std::nullopt);
  EXPECT_EQ(run(u.tags.aslice(1, 3)), (strings{"b", "c"}));
  EXPECT_EQ(run(u.tags.aslice(-2)), (strings{"e", "f"}));
  EXPECT_EQ(run(u.tags.aslice(1, -2)), (strings{"b", "c", "d"}));
  EXPECT_EQ(run(u.tags.aslice(-100, 2)), (strings{"a", "b"}));
  EXPECT_EQ(run(u.tags.aslice(4, 100)), (strings{"e", "f"}));
  EXPECT_EQ(run(u.tags.aslice(3, 1)), strings{});
  EXPECT_EQ(run(u.tags.aslice(0, 0)), strings{});
  EXPECT_EQ(run(u.tags.aslice(-1, 0)), strings{});
  EXPECT_EQ(run(u.tags.aslice(2, -100)), strings{});
  EXPECT_EQ(run(u.tags.alen()), 6u);
  EXPECT_EQ(u.tags.size(), 5u);
  run(u.tags.aclear());
  EXPECT_EQ(run(u.tags.alen()), 0u);
  EXPECT_EQ(run(u.tags.aslice(0)), strings{});
  EXPECT_EQ(run(u.tags.aget_item(0)), std::nullopt);
}

TEST_F(CollectionFieldTest, ListRemoveByValue) {
  User u = saved_user();
  run(u.tags.aclear());
  run(u.tags.aextend("a", "b", "a", "c", "a"));
  EXPECT_EQ(run(u.tags.aremove("a")), 1u);  // the first, as Python's remove()
  EXPECT_EQ(list(u.tags.key()), (strings{"b", "a", "c", "a"}));
  EXPECT_EQ(run(u.tags.aremove("a", -1)), 1u);  // the last
  EXPECT_EQ(list(u.tags.key()), (strings{"b", "a", "c"}));
  EXPECT_EQ(u.tags.value(), (strings{"b", "a", "c"}));
  EXPECT_EQ(run(u.tags.aremove("absent")), 0u);
  run(u.tags.aextend("a", "a"));
  EXPECT_EQ(run(u.tags.aremove("a", 0)), 3u);  // every one
  EXPECT_EQ(list(u.tags.key()), (strings{"b", "c"}));
  EXPECT_EQ(u.tags.value(), (strings{"b", "c"}));
}

TEST_F(CollectionFieldTest, ListTrimKeepsAPythonSlice) {
  User u = saved_user();  // a b c d e
  run(u.tags.atrim(1, -1));
  EXPECT_EQ(list(u.tags.key()), (strings{"b", "c", "d"}));
  EXPECT_EQ(u.tags.value(), (strings{"b", "c", "d"}));
  run(u.tags.atrim(-2, 100));
  EXPECT_EQ(list(u.tags.key()), (strings{"c", "d"}));
  EXPECT_EQ(u.tags.value(), (strings{"c", "d"}));
  run(u.tags.atrim(1, 1));
  EXPECT_EQ(raw("EXISTS", u.tags.key()).as_integer(), 0);
  EXPECT_TRUE(u.tags.empty());
}

TEST_F(CollectionFieldTest, ListPopManyFromTheEnd) {
  User u = saved_user();  // a b c d e
  EXPECT_EQ(run(u.tags.apop_many(2)), (strings{"e", "d"}));
  EXPECT_EQ(list(u.tags.key()), (strings{"a", "b", "c"}));
  EXPECT_EQ(u.tags.value(), (strings{"a", "b", "c"}));
  EXPECT_EQ(run(u.tags.apop_many(10)), (strings{"c", "b", "a"}));
  EXPECT_EQ(raw("EXISTS", u.tags.key()).as_integer(), 0);
  EXPECT_TRUE(u.tags.empty());
  EXPECT_EQ(run(u.tags.apop_many(1)), strings{});
}

TEST_F(CollectionFieldTest, DictReadsOfPartLeaveTheLocalCopyAlone) {
  User u = saved_user();  // k1: v1, k2: v2
  raw("HSET", u.metadata.key(), "k3", "v3");
  EXPECT_EQ(run(u.metadata.aget_item("k3")), std::optional<std::string>("v3"));
  EXPECT_EQ(run(u.metadata.aget_item("absent")), std::nullopt);
  auto keys = run(u.metadata.akeys());
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (strings{"k1", "k2", "k3"}));
  EXPECT_EQ(run(u.metadata.alen()), 3u);
  EXPECT_FALSE(u.metadata.contains("k3"));
  run(u.metadata.aclear());
  EXPECT_EQ(run(u.metadata.akeys()), strings{});
  EXPECT_EQ(run(u.metadata.alen()), 0u);
}

TEST_F(CollectionFieldTest, DictPopManyAndPopItemOnAnEmptyDict) {
  User u = saved_user();
  run(u.metadata.aset_item("k3", "v3"));
  const auto first = run(u.metadata.apop_many(2));
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(raw("HLEN", u.metadata.key()).as_integer(), 1);
  for (const auto& [k, v] : first) {
    EXPECT_EQ(v, "v" + k.substr(1));
    EXPECT_TRUE(raw("HEXISTS", u.metadata.key(), k).as_integer() == 0) << k;
    EXPECT_FALSE(u.metadata.contains(k));
  }
  const auto rest = run(u.metadata.apop_many(5));
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(raw("EXISTS", u.metadata.key()).as_integer(), 0);
  EXPECT_TRUE(u.metadata.empty());
  EXPECT_TRUE(run(u.metadata.apop_many(1)).empty());
  EXPECT_EQ(run(u.metadata.apopitem()), std::nullopt);  // no exception, unlike Python's KeyError
}

TEST_F(CollectionFieldTest, SetManyAndReads) {
  User u = saved_user();  // admin dev
  EXPECT_EQ(run(u.roles.aadd_many("ops", "qa", "admin")), 2u);
  EXPECT_EQ(members(u.roles.key()), (string_set{"admin", "dev", "ops", "qa"}));
  const strings gone = {"qa", "absent"};
  EXPECT_EQ(run(u.roles.aremove_many(gone)), 1u);
  EXPECT_EQ(members(u.roles.key()), (string_set{"admin", "dev", "ops"}));
  EXPECT_EQ(u.roles.value(), (string_set{"admin", "dev", "ops"}));
  raw("SADD", u.roles.key(), "extra");
  EXPECT_EQ(run(u.roles.amembers()), (string_set{"admin", "dev", "extra", "ops"}));
  EXPECT_EQ(run(u.roles.asize()), 4u);
  EXPECT_FALSE(u.roles.contains("extra"));
  const auto popped = run(u.roles.apop_many(3));
  ASSERT_EQ(popped.size(), 3u);
  EXPECT_EQ(raw("SCARD", u.roles.key()).as_integer(), 1);
  for (const auto& value : popped) {
    EXPECT_EQ(raw("SISMEMBER", u.roles.key(), value).as_integer(), 0) << value;
    EXPECT_FALSE(u.roles.contains(value)) << value;
  }
  run(u.roles.aclear());
  EXPECT_TRUE(run(u.roles.apop_many(2)).empty());
  EXPECT_TRUE(run(u.roles.amembers()).empty());
  EXPECT_EQ(run(u.roles.asize()), 0u);
}

TEST_F(CollectionFieldTest, SetAlgebraReadsLeaveBothSetsAlone) {
  Team t = saved_team();  // members a b c, admins b d
  EXPECT_EQ(run(t.members.aunion(t.admins)), (string_set{"a", "b", "c", "d"}));
  EXPECT_EQ(run(t.members.aintersect(t.admins)), (string_set{"b"}));
  EXPECT_EQ(run(t.members.adifference(t.admins)), (string_set{"a", "c"}));
  EXPECT_EQ(run(t.admins.adifference(t.members)), (string_set{"d"}));
  EXPECT_EQ(members(t.members.key()), (string_set{"a", "b", "c"}));
  EXPECT_EQ(members(t.admins.key()), (string_set{"b", "d"}));
}

TEST_F(CollectionFieldTest, SetAlgebraStoresIntoThisSet) {
  Team t = saved_team();
  EXPECT_EQ(run(t.members.aunion_store(t.admins)), 4u);
  EXPECT_EQ(members(t.members.key()), (string_set{"a", "b", "c", "d"}));
  EXPECT_EQ(t.members.value(), (string_set{"a", "b", "c", "d"}));
  run(t.admins.aadd("e"));
  EXPECT_EQ(run(t.members.aintersect_store(t.admins)), 2u);
  EXPECT_EQ(members(t.members.key()), (string_set{"b", "d"}));
  EXPECT_EQ(t.members.value(), (string_set{"b", "d"}));
  EXPECT_EQ(run(t.members.adifference_store(t.admins)), 0u);
  EXPECT_EQ(raw("EXISTS", t.members.key()).as_integer(), 0);
  EXPECT_TRUE(t.members.empty());
  EXPECT_EQ(members(t.admins.key()), (string_set{"b", "d", "e"}));
}

TEST_F(CollectionFieldTest, SetAlgebraRefusesASetOfAnotherModel) {
  Team t = saved_team();
  Team other = saved_team();
  EXPECT_THROW(run(t.members.aunion(other.admins)), rapyer::usage_error);
  EXPECT_THROW(run(t.members.adifference_store(other.admins)), rapyer::usage_error);
  EXPECT_EQ(members(t.members.key()), (string_set{"a", "b", "c"}));
}

TEST_F(CollectionFieldTest, NewOperationsAreQueuedInAPipeline) {
  User u = saved_user();
  Team t = saved_team();
  run(u.apipeline([](User& m) -> awaitable<void> {
    co_await m.tags.aremove("a");
    co_await m.tags.atrim(0, 2);
    co_await m.tags.apop_many(1);
    co_await m.metadata.apop_many(1);
    co_await m.roles.aadd_many("x", "y");
    co_await m.roles.aremove_many("admin");
    co_await m.roles.apop_many(0);
    // Reads are not queued: they see the state before the pipeline.
    EXPECT_EQ(co_await m.tags.alen(), 5u);
  }));
  EXPECT_EQ(list(u.tags.key()), (strings{"b"}));
  EXPECT_EQ(u.tags.value(), (strings{"b"}));
  EXPECT_EQ(raw("HLEN", u.metadata.key()).as_integer(), 1);
  EXPECT_EQ(u.metadata.size(), 1u);
  EXPECT_EQ(members(u.roles.key()), (string_set{"dev", "x", "y"}));
  EXPECT_EQ(u.roles.value(), (string_set{"dev", "x", "y"}));
  run(t.apipeline([](Team& m) -> awaitable<void> {
    co_await m.admins.aadd("a");
    co_await m.members.aintersect_store(m.admins);
  }));
  EXPECT_EQ(members(t.members.key()), (string_set{"a", "b"}));
  EXPECT_EQ(t.members.value(), (string_set{"a", "b"}));
}

TEST_F(CollectionFieldTest, IntegerSetKeepsInt64Limits) {
  Everything e;
  run(e.save());
  run(e.p_ids.aadd(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(raw("SISMEMBER", e.p_ids.key(), "-9223372036854775808").as_integer(), 1);
  run(e.p_doubles.aappend(0.1));
  EXPECT_EQ(raw("LINDEX", e.p_doubles.key(), 0).as_string(), "0.1");
}

}  // namespace

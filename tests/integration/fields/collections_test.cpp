// Every atomic operation of RedisList, RedisDict and RedisSet, checked against raw Redis state.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "rapyer/rapyer.hpp"
#include "test_models.hpp"
#include "test_support.hpp"

namespace {

using namespace test_models;
using rapyer::reply;

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
  using strings = std::vector<std::string>;
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
  const std::string tricky = std::string("a\r\n*3 \"'{}[]$.\0z", 17);
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

TEST_F(CollectionFieldTest, IntegerSetKeepsInt64Limits) {
  Everything e;
  run(e.save());
  run(e.p_ids.aadd(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(raw("SISMEMBER", e.p_ids.key(), "-9223372036854775808").as_integer(), 1);
  run(e.p_doubles.aappend(0.1));
  EXPECT_EQ(raw("LINDEX", e.p_doubles.key(), 0).as_string(), "0.1");
}

}  // namespace

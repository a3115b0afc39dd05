#include "rapyer/query.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "rapyer/detail/cluster/key_slot.hpp"
#include "rapyer/rapyer.hpp"
#include "test_support.hpp"

namespace {

using rapyer::awaitable;
using rapyer::where;
using namespace std::chrono_literals;

enum class Tier { free, pro, enterprise };
BOOST_DESCRIBE_ENUM(Tier, free, pro, enterprise)

struct Place {
  std::string city;
  int zip = 0;
};
BOOST_DESCRIBE_STRUCT(Place, (), (city, zip))

struct Member : rapyer::AtomicRedisModel<Member> {
  rapyer::RedisStr name;
  rapyer::RedisInt age;
  rapyer::RedisFloat score;
  rapyer::RedisBool active;
  Tier tier = Tier::free;
  std::optional<std::string> nickname;
  rapyer::RedisDatetime joined;
  Place place;
  long long big = 0;
  rapyer::RedisList<std::string> tags;
  std::vector<int> history;  // JSON: not indexable
  static rapyer::model_config redis_config() {
    rapyer::model_config c;
    c.indexes = {"name", "age", "score", "active", "tier", "nickname", "joined", "place.city", "big"};
    return c;
  }
};
BOOST_DESCRIBE_STRUCT(Member, (), (name, age, score, active, tier, nickname, joined, place, big, tags, history))

struct Unindexed : rapyer::AtomicRedisModel<Unindexed> {
  rapyer::RedisInt age;
};
BOOST_DESCRIBE_STRUCT(Unindexed, (), (age))

struct BadIndex : rapyer::AtomicRedisModel<BadIndex> {
  std::vector<int> history;
  static rapyer::model_config redis_config() {
    rapyer::model_config c;
    c.indexes = {"history"};
    return c;
  }
};
BOOST_DESCRIBE_STRUCT(BadIndex, (), (history))

struct MisnamedIndex : rapyer::AtomicRedisModel<MisnamedIndex> {
  rapyer::RedisInt age;
  static rapyer::model_config redis_config() {
    rapyer::model_config c;
    c.indexes = {"agee"};
    return c;
  }
};
BOOST_DESCRIBE_STRUCT(MisnamedIndex, (), (age))

/// Epoch-second times (the original's RedisDatetimeTimestamp), indexed as numbers.
struct Visit : rapyer::AtomicRedisModel<Visit> {
  rapyer::RedisTimestamp at;
  std::optional<rapyer::timestamp> left;
  static rapyer::model_config redis_config() {
    rapyer::model_config c;
    c.indexes = {"at", "left"};
    return c;
  }
};
BOOST_DESCRIBE_STRUCT(Visit, (), (at, left))

/// Stored by hand in the layout of rapyer versions before index buckets, then migrated.
struct Legacy : rapyer::AtomicRedisModel<Legacy> {
  rapyer::RedisInt age;
  rapyer::RedisStr name;
  rapyer::RedisList<std::string> tags;
  static rapyer::model_config redis_config() {
    rapyer::model_config c;
    c.indexes = {"age", "name"};
    return c;
  }
};
BOOST_DESCRIBE_STRUCT(Legacy, (), (age, name, tags))

/// Indexed only by fields a model may lack: a negation finds all ids by SCAN.
struct Sparse : rapyer::AtomicRedisModel<Sparse> {
  std::optional<int> rank;
  rapyer::RedisFloat weight;
  static rapyer::model_config redis_config() {
    rapyer::model_config c;
    c.indexes = {"rank", "weight"};
    return c;
  }
};
BOOST_DESCRIBE_STRUCT(Sparse, (), (rank, weight))

const std::vector<std::string> names = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "mallory"};
const std::vector<std::string> cities = {"Paris", "Berlin", "Lisbon"};

Member make_member(int i) {
  Member m;
  m.name = names[static_cast<std::size_t>(i) % names.size()] + std::to_string(i % 3);
  m.age = i % 50;
  m.score = (i % 10) * 0.5;
  m.active = i % 3 == 0;
  m.tier = static_cast<Tier>(i % 3);
  if (i % 4 == 0) m.nickname = "n" + std::to_string(i % 8);
  m.joined = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000LL + i * 3600LL));
  m.place.city = cities[static_cast<std::size_t>(i) % cities.size()];
  m.big = (1LL << 53) + (i % 5);  // beyond 2^53: neighbours share a sorted-set score
  return m;
}

std::set<std::string> ids_of(const std::vector<Member>& models) {
  std::set<std::string> out;
  for (const auto& m : models) out.insert(m.id());
  return out;
}

class QueryTest : public rapyer::test::model_test {
 protected:
  std::vector<Member> members;

  void SetUp() override {
    model_test::SetUp();
    for (int i = 0; i < 300; ++i) members.push_back(make_member(i));
    run(Member::ainsert(std::span<const Member>(members)));
  }

  /// `command` (ZCARD, HLEN) on the index shards of `path` (+ `suffix`) of every bucket, summed.
  long long across_buckets(std::string_view command, const std::string& path, const std::string& suffix = "") {
    const auto& layout = Member::class_layout();
    long long total = 0;
    for (std::size_t b = 0; b < layout.buckets(); ++b)
      total += raw(command, layout.index_key(b, path) + suffix).as_integer();
    return total;
  }

  /// The index shard of `path` that holds the model with `id`.
  template <class Model>
  static std::string shard_of(const std::string& id, const std::string& path) {
    const auto& layout = Model::class_layout();
    return layout.index_key(layout.bucket_of(id), path);
  }

  void flush_scripts() {
    rapyer::request flush;
    flush.push("SCRIPT", "FLUSH");
    raw_on_every_primary(std::move(flush));
  }

  /// Keys stored on each primary.
  std::vector<long long> keys_per_primary() {
    std::vector<long long> counts;
    rapyer::request dbsize;
    dbsize.push("DBSIZE");
    for (const auto& r : raw_on_every_primary(std::move(dbsize))) counts.push_back(r.as_integer());
    return counts;
  }

  /// What afind(q) returns must be exactly the members the query's check accepts.
  void expect_exact(const rapyer::query<Member>& q, std::size_t expected_at_least = 1) {
    std::set<std::string> expected;
    for (const auto& m : members)
      if (q.matches(m)) expected.insert(m.id());
    EXPECT_GE(expected.size(), expected_at_least);
    const auto found = run(Member::afind(q));
    EXPECT_EQ(found.size(), expected.size());
    EXPECT_EQ(ids_of(found), expected);
  }
};

TEST_F(QueryTest, EveryConditionFindsExactlyTheMatchingModels) {
  expect_exact(where(&Member::age) == 30);
  expect_exact(where(&Member::age) > 30);
  expect_exact(where(&Member::age) >= 30);
  expect_exact(where(&Member::age) < 10);
  expect_exact(where(&Member::age) <= 0);
  expect_exact(where(&Member::age).between(20, 29));
  expect_exact(where(&Member::score) <= 2.5);
  expect_exact(where(&Member::score) > 4.0);
  expect_exact(where(&Member::active) == true);
  expect_exact(where(&Member::tier) == Tier::pro);
  expect_exact(where(&Member::name) == "carol2");
  expect_exact(where(&Member::name).starts_with("mal"));
  expect_exact(where(&Member::name) > "erin");
  expect_exact(where(&Member::name) <= "bob1");
  expect_exact(where(&Member::nickname) == "n4");
  expect_exact(where(&Member::nickname) >= "n");  // only models that have a nickname
  expect_exact(where(&Member::joined) >= std::chrono::system_clock::time_point(std::chrono::seconds(1'700'500'000)));
  expect_exact(where(&Member::place, &Place::city) == "Lisbon");
  expect_exact(where(&Member::big) == (1LL << 53) + 1);  // the score is shared, the check is exact
  expect_exact(where(&Member::big) > (1LL << 53) + 3);
  expect_exact(where(&Member::age) >= 40 && where(&Member::active) == true);
  expect_exact(where(&Member::age) < 5 || where(&Member::name).starts_with("grace"));
  expect_exact((where(&Member::age) < 5 || where(&Member::age) > 45) &&
               where(&Member::place, &Place::city) == "Paris" && where(&Member::tier) == Tier::free);
  EXPECT_TRUE(run(Member::afind(where(&Member::age) > 1000)).empty());
  EXPECT_TRUE(run(Member::afind(where(&Member::name) == "nobody")).empty());
}

TEST_F(QueryTest, NotEqualNegationAndInFindExactlyTheMatchingModels) {
  expect_exact(where(&Member::age) != 30);
  expect_exact(where(&Member::tier) != Tier::pro);
  expect_exact(where(&Member::big) != (1LL << 53) + 1);  // shared scores: the check decides
  // != needs a value; a negation also finds the models without one.
  expect_exact(where(&Member::nickname) != "n4");
  expect_exact(!(where(&Member::nickname) == "n4"));
  EXPECT_EQ(run(Member::afind(where(&Member::nickname) != "n4")).size(), 75U - 37U);
  EXPECT_EQ(run(Member::afind(!(where(&Member::nickname) == "n4"))).size(), 300U - 37U);
  expect_exact(!(where(&Member::age) < 45));
  expect_exact(!!(where(&Member::age) < 3));
  expect_exact(where(&Member::active) == true && !(where(&Member::age) >= 10));
  expect_exact(!(where(&Member::age) < 25 || where(&Member::tier) == Tier::pro));
  expect_exact(where(&Member::age) < 2 || !(where(&Member::age) < 48));
  expect_exact(where(&Member::age).in(18, 21, 1000));
  expect_exact(where(&Member::tier).in(Tier::free, Tier::enterprise));
  expect_exact(where(&Member::name).in("bob1", "carol2", "nobody"));
  expect_exact(where(&Member::big).in((1LL << 53) + 2) && !(where(&Member::age) == 2));
  EXPECT_TRUE(run(Member::afind(where(&Member::age).in(-1, 1000))).empty());
  // Results follow the first condition: the ids of age 18, then those of age 21.
  const auto both = run(Member::afind(where(&Member::age).in(18, 21)));
  ASSERT_EQ(both.size(), 12U);
  EXPECT_TRUE(std::is_sorted(both.begin(), both.end(),
                             [](const Member& a, const Member& b) { return a.age.value() < b.age.value(); }));
  // A condition on a field without an index is refused, negated too.
  EXPECT_THROW(run(Unindexed::afind(!(where(&Unindexed::age) == 1))), rapyer::usage_error);
}

TEST_F(QueryTest, ANegationOnAClassWithoutAFieldEveryModelHasFindsItsIdsByScan) {
  std::vector<Sparse> sparse(20);
  for (int i = 0; i < 20; ++i) {
    if (i % 2 == 0) sparse[static_cast<std::size_t>(i)].rank = i % 6;
    sparse[static_cast<std::size_t>(i)].weight = i;
  }
  run(Sparse::ainsert(std::span<const Sparse>(sparse)));
  std::set<std::string> expected;
  for (const auto& m : sparse)
    if (m.rank != 2) expected.insert(m.id());
  std::set<std::string> found;
  for (const auto& m : run(Sparse::afind(!(where(&Sparse::rank) == 2)))) found.insert(m.id());
  EXPECT_EQ(found.size(), 17U);  // 10 without a rank, 7 ranked other than 2
  EXPECT_EQ(found, expected);
  EXPECT_EQ(run(Sparse::acount(!(where(&Sparse::rank) >= 0))), 10U);
}

TEST_F(QueryTest, CountIsExact) {
  const auto expected = [&](const rapyer::query<Member>& q) {
    return static_cast<std::size_t>(
        std::count_if(members.begin(), members.end(), [&](const Member& m) { return q.matches(m); }));
  };
  for (const auto& q :
       {where(&Member::age) < 10, where(&Member::big) == (1LL << 53) + 1, !(where(&Member::tier) == Tier::free),
        where(&Member::age).in(1, 2) || where(&Member::active) == true, where(&Member::age) > 1000}) {
    EXPECT_EQ(run(Member::acount(q)), expected(q));
  }
  EXPECT_EQ(run(Member::acount(where(&Member::age) < 10)), 60U);
  // A vanished model is not counted.
  raw("DEL", members[3].key());
  EXPECT_EQ(run(Member::acount(where(&Member::age) < 10)), 59U);
  EXPECT_EQ(across_buckets("ZCARD", "age"), 299);
}

TEST_F(QueryTest, PagesFollowTheOrderOfAnIndexExactlyAndStably) {
  const auto q = where(&Member::age) < 20 && where(&Member::active) == true;
  std::vector<const Member*> sorted;
  for (const auto& m : members)
    if (q.matches(m)) sorted.push_back(&m);
  // As the index orders them: by value, then by id.
  std::sort(sorted.begin(), sorted.end(), [](const Member* a, const Member* b) {
    return std::pair(a->age.value(), a->id()) < std::pair(b->age.value(), b->id());
  });
  ASSERT_EQ(sorted.size(), 40U);
  const auto page = [&](std::size_t offset, std::size_t limit, bool descending) {
    rapyer::find_options options;
    options.order_by = rapyer::order_by(&Member::age);
    options.descending = descending;
    options.offset = offset;
    options.limit = limit;
    std::vector<std::string> ids;
    for (const auto& m : run(Member::afind(q, options))) ids.push_back(m.id());
    return ids;
  };
  for (const bool descending : {false, true}) {
    std::vector<std::string> expected;
    expected.reserve(sorted.size());
    for (const auto* m : sorted) expected.push_back(m->id());
    if (descending) std::reverse(expected.begin(), expected.end());
    std::vector<std::string> all;
    for (std::size_t offset = 0; offset < 45; offset += 7) {
      const auto ids = page(offset, 7, descending);
      EXPECT_EQ(ids.size(), std::min<std::size_t>(7, 40 - std::min<std::size_t>(offset, 40)));
      all.insert(all.end(), ids.begin(), ids.end());
      EXPECT_EQ(page(offset, 7, descending), ids);  // stable
    }
    EXPECT_EQ(all, expected) << "descending " << descending;
  }
  EXPECT_TRUE(page(40, 5, false).empty());

  // By a text index, models without the field last; without order_by, the first condition's order.
  rapyer::find_options by_nickname;
  by_nickname.order_by = rapyer::order_by(&Member::nickname);
  by_nickname.descending = true;
  const auto found = run(Member::afind(where(&Member::age) < 12, by_nickname));
  ASSERT_EQ(found.size(), 72U);
  for (std::size_t i = 0; i < found.size(); ++i) {
    EXPECT_EQ(found[i].nickname.has_value(), i < 18) << i;
    if (i > 0 && i < 18) {
      EXPECT_GE(std::pair(*found[i - 1].nickname, found[i - 1].id()), std::pair(*found[i].nickname, found[i].id()));
    }
  }
  rapyer::find_options reversed;
  reversed.descending = true;
  reversed.offset = 1;
  reversed.limit = 3;
  const auto oldest = run(Member::afind(where(&Member::age) >= 48, reversed));
  ASSERT_EQ(oldest.size(), 3U);
  EXPECT_EQ(oldest[0].age.value(), 49);
  EXPECT_EQ(oldest[2].age.value(), 49);
}

TEST_F(QueryTest, DeleteByQueryRemovesExactlyTheMatchesAndTheirEntriesInBatches) {
  const auto q = where(&Member::age) >= 45 || where(&Member::name) == "bob1";
  std::vector<std::string> doomed;
  for (const auto& m : members)
    if (q.matches(m)) doomed.push_back(m.key());
  ASSERT_EQ(doomed.size(), 40U);  // 30 aged 45 or more, and 10 more named bob1
  EXPECT_EQ(run(Member::adelete_many(q)), doomed.size());
  for (const auto& key : doomed) EXPECT_EQ(raw("EXISTS", key).as_integer(), 0) << key;
  const long long left = 300 - static_cast<long long>(doomed.size());
  EXPECT_EQ(across_buckets("ZCARD", "age"), left);
  EXPECT_EQ(across_buckets("ZCARD", "name"), left);
  EXPECT_EQ(across_buckets("HLEN", "name", ":members"), left);
  EXPECT_EQ(run(Member::acount(where(&Member::age) >= 0)), static_cast<std::size_t>(left));
  EXPECT_EQ(run(Member::adelete_many(q)), 0U);

  // More than one batch of 512: every model goes, and every index entry.
  std::vector<Member> more;
  for (int i = 300; i < 900; ++i) more.push_back(make_member(i));
  run(Member::ainsert(std::span<const Member>(more)));
  EXPECT_EQ(run(Member::adelete_many(!(where(&Member::age) == 1000))), static_cast<std::size_t>(left) + 600U);
  EXPECT_TRUE(run(Member::afind_keys()).empty());
  for (const char* path : {"age", "name", "nickname", "place.city", "big"})
    EXPECT_EQ(across_buckets("ZCARD", path), 0) << path;
  EXPECT_EQ(across_buckets("HLEN", "name", ":members"), 0);
}

TEST_F(QueryTest, ReindexBackfillsMissingEntriesAndDropsThoseOfRetiredFields) {
  const auto& layout = Member::class_layout();
  // As if "nickname" had been added to the indexes after the models were saved.
  for (std::size_t b = 0; b < layout.buckets(); ++b) {
    raw("DEL", layout.index_key(b, "nickname"));
    raw("DEL", layout.index_key(b, "nickname") + ":members");
  }
  EXPECT_TRUE(run(Member::afind(where(&Member::nickname) == "n4")).empty());
  // And as if "retired" (text) and "old" (number) had been indexed before.
  raw("ZADD", layout.index_key(0, "retired"), 0, std::string("x\0\0id", 5));
  raw("HSET", layout.index_key(0, "retired") + ":members", "id", "x");
  raw("ZADD", layout.index_key(layout.buckets() - 1, "old"), 1, "id");

  const auto result = run(Member::areindex());
  EXPECT_EQ(result.models, 300U);
  EXPECT_EQ(result.dropped_keys, 3U);
  expect_exact(where(&Member::nickname) == "n4");
  EXPECT_EQ(across_buckets("ZCARD", "nickname"), 75);
  EXPECT_EQ(across_buckets("HLEN", "nickname", ":members"), 75);
  EXPECT_EQ(raw("HGET", shard_of<Member>(members[4].id(), "nickname") + ":members", members[4].id()).as_string(),
            "n4" + std::string("\0\0", 2) + members[4].id());
  EXPECT_EQ(raw("EXISTS", layout.index_key(0, "retired")).as_integer(), 0);
  EXPECT_EQ(raw("EXISTS", layout.index_key(0, "retired") + ":members").as_integer(), 0);
  EXPECT_EQ(raw("EXISTS", layout.index_key(layout.buckets() - 1, "old")).as_integer(), 0);
  EXPECT_EQ(across_buckets("ZCARD", "age"), 300);  // the others are untouched

  flush_scripts();
  const auto again = run(Member::areindex());
  EXPECT_EQ(again.models, 300U);
  EXPECT_EQ(again.dropped_keys, 0U);
  EXPECT_EQ(across_buckets("ZCARD", "nickname"), 75);
  EXPECT_THROW(run(Unindexed::areindex()), rapyer::usage_error);
}

TEST_F(QueryTest, ResultsFollowTheFirstConditionsOrderAndLimit) {
  const auto young = run(Member::afind(where(&Member::age) < 20));
  ASSERT_FALSE(young.empty());
  EXPECT_TRUE(std::is_sorted(young.begin(), young.end(),
                             [](const Member& a, const Member& b) { return a.age.value() < b.age.value(); }));
  const auto three = run(Member::afind(where(&Member::age) >= 10, 3));
  ASSERT_EQ(three.size(), 3U);
  for (const auto& m : three) EXPECT_EQ(m.age.value(), 10);
  const auto one = run(Member::afind_one(where(&Member::name) == "dave0"));
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->name.value(), "dave0");
  EXPECT_FALSE(run(Member::afind_one(where(&Member::name) == "dave9")).has_value());
  EXPECT_TRUE(run(Member::afind(where(&Member::age) >= 0, 0)).empty());
}

TEST_F(QueryTest, EveryWriteKeepsTheIndexCurrent) {
  Member& m = members[7];  // age 7
  const std::string original = m.name.value();
  const auto ages = [&](long long age) {
    return ids_of(run(Member::afind(where(&Member::age) == age))).contains(m.id());
  };
  const auto named = [&](const std::string& name) {
    return ids_of(run(Member::afind(where(&Member::name) == name))).contains(m.id());
  };
  ASSERT_TRUE(ages(7));

  run(m.age.aincrease(100));  // HINCRBY + reindex in one MULTI
  EXPECT_FALSE(ages(7));
  EXPECT_TRUE(ages(107));
  run(m.age.amultiply(2));
  EXPECT_TRUE(ages(214));
  m.age = 5;
  run(m.age.save());  // field save
  EXPECT_TRUE(ages(5));
  EXPECT_FALSE(ages(214));

  run(m.name.aappend("-x"));
  EXPECT_TRUE(named(original + "-x"));
  EXPECT_FALSE(named(original));
  // The previous member of a text index is removed, not left behind.
  EXPECT_EQ(across_buckets("HLEN", "name", ":members"), 300);
  EXPECT_EQ(across_buckets("ZCARD", "name"), 300);

  run(m.active.aset(true));
  EXPECT_TRUE(ids_of(run(Member::afind(where(&Member::active) == true))).contains(m.id()));
  const auto before = m.joined.value();
  run(m.joined.aadd(std::chrono::hours(24 * 365 * 10)));
  EXPECT_TRUE(
      ids_of(run(Member::afind(where(&Member::joined) > before + std::chrono::hours(24 * 365)))).contains(m.id()));

  // After SCRIPT FLUSH the operation still runs once: only the index update is resent.
  flush_scripts();
  run(m.age.aincrease(1));
  EXPECT_EQ(raw("HGET", m.key(), "age").as_string(), "6");
  EXPECT_TRUE(ages(6));
  flush_scripts();
  run(m.age.amultiply(2));  // the operation's own script was missing: the whole MULTI is resent
  EXPECT_EQ(raw("HGET", m.key(), "age").as_string(), "12");
  EXPECT_TRUE(ages(12));
  m.age = 5;
  run(m.age.save());

  // Inside a pipeline: the reindex is queued with the operation.
  run(m.apipeline([](Member& fresh) -> awaitable<void> {
    co_await fresh.age.aincrease(1000);
    co_await fresh.tags.aappend("t");  // collections are not indexed
  }));
  EXPECT_TRUE(ages(1005));

  // A whole-model save, a transaction, a duplicate.
  m.name = "renamed";
  m.nickname.reset();
  run(m.save());
  EXPECT_TRUE(named("renamed"));
  EXPECT_FALSE(named(original + "-x"));
  EXPECT_FALSE(ids_of(run(Member::afind(where(&Member::nickname) >= ""))).contains(m.id()));
  m = run(m.atransaction([](Member& fresh) -> awaitable<void> {
    fresh.age = 77777;
    co_return;
  }));
  EXPECT_TRUE(ages(77777));
  // aupdate of a nested struct (its dotted paths are indexed) and of a proxy.
  m.place.city = "Oslo";
  m.name = "updated";
  run(m.aupdate(m.place, m.name));
  EXPECT_TRUE(ids_of(run(Member::afind(where(&Member::place, &Place::city) == "Oslo"))).contains(m.id()));
  EXPECT_TRUE(named("updated"));
  EXPECT_FALSE(named("renamed"));
  const Member copy = run(m.aduplicate());
  EXPECT_EQ(run(Member::afind(where(&Member::age) == 77777)).size(), 2U);

  // Deletes remove the entries.
  EXPECT_TRUE(run(copy.adelete()));
  EXPECT_EQ(run(Member::afind(where(&Member::age) == 77777)).size(), 1U);
  std::vector<std::string> keys = {m.key(), members[8].key()};
  EXPECT_EQ(run(Member::adelete_many(keys)), 2U);
  EXPECT_TRUE(run(Member::afind(where(&Member::age) == 77777)).empty());
  EXPECT_EQ(across_buckets("ZCARD", "age"), 298);
  EXPECT_EQ(across_buckets("ZCARD", "name"), 298);
  EXPECT_EQ(across_buckets("HLEN", "name", ":members"), 298);
  EXPECT_TRUE(run(Member::adelete_by_key(members[9].key())));
  EXPECT_FALSE(run(Member::adelete_by_key(members[9].key())));
  EXPECT_EQ(across_buckets("ZCARD", "age"), 297);
}

TEST_F(QueryTest, EntriesOfModelsThatVanishedAreRemovedByTheQueryThatMeetsThem) {
  // As when a TTL expires: the model's keys go, the index entries stay until a query sees them.
  const std::string gone = members[10].key();
  raw("DEL", gone, gone + ":tags");
  EXPECT_EQ(across_buckets("ZCARD", "age"), 300);
  const auto found = run(Member::afind(where(&Member::age) == 10));
  EXPECT_FALSE(ids_of(found).contains(members[10].id()));
  EXPECT_EQ(found.size(), 5U);  // 60, 110, ... share age 10; 10 itself is gone
  EXPECT_EQ(across_buckets("ZCARD", "age"), 299);
  EXPECT_EQ(across_buckets("ZCARD", "name"), 299);
  EXPECT_EQ(across_buckets("HLEN", "name", ":members"), 299);
}

TEST_F(QueryTest, TextWithNulAndHighBytesIsMatchedExactly) {
  rapyer::test::redis_test::SetUp();  // empties every primary
  const std::vector<std::string> texts = {std::string("a"),
                                          std::string("a\0", 2),
                                          std::string("a\0b", 3),
                                          std::string("a\0\0", 3),
                                          std::string("a\x01", 2),
                                          std::string("ab"),
                                          std::string("\xff\xff", 2),
                                          std::string("\xff\xfe", 2),
                                          std::string(""),
                                          std::string("x\r\n*3]]--", 9)};
  std::vector<Member> odd;
  for (const auto& t : texts) {
    Member m = make_member(1);
    m.name = t;
    odd.push_back(m);
  }
  run(Member::ainsert(std::span<const Member>(odd)));
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto found = run(Member::afind(where(&Member::name) == texts[i]));
    ASSERT_EQ(found.size(), 1U) << i;
    EXPECT_EQ(found.front().id(), odd[i].id()) << i;
  }
  // Prefixes across NUL and 0xFF bytes: "a" starts 6 of them, "a\0" 3, "\xff" 2.
  EXPECT_EQ(run(Member::afind(where(&Member::name).starts_with("a"))).size(), 6U);
  EXPECT_EQ(run(Member::afind(where(&Member::name).starts_with(std::string("a\0", 2)))).size(), 3U);
  EXPECT_EQ(run(Member::afind(where(&Member::name).starts_with("\xff"))).size(), 2U);
  EXPECT_EQ(run(Member::afind(where(&Member::name).starts_with("\xff\xff"))).size(), 1U);
}

TEST_F(QueryTest, QueriesOnFieldsWithoutAnIndexAreRefused) {
  const auto keys_before = keys_per_primary();
  EXPECT_THROW((void)run(Unindexed::afind(where(&Unindexed::age) == 1)), rapyer::usage_error);
  EXPECT_THROW((void)run(Member::afind(where(&Member::place, &Place::zip) == 1)), rapyer::usage_error);
  BadIndex bad;
  EXPECT_THROW(run(bad.save()), rapyer::usage_error);  // a JSON field cannot be indexed
  MisnamedIndex misnamed;
  try {
    run(misnamed.save());
    ADD_FAILURE() << "a misnamed index was accepted";
  } catch (const rapyer::usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("agee"), std::string::npos);
  }
  // Nothing of the refused saves was written.
  EXPECT_EQ(keys_per_primary(), keys_before);
}

TEST_F(QueryTest, TimestampsAreNumbersMovedServerSideAndQueriedByRange) {
  using sys = std::chrono::system_clock;
  const sys::time_point base{std::chrono::seconds(1'700'000'000)};
  std::vector<Visit> visits(10);
  for (std::size_t i = 0; i < visits.size(); ++i) {
    visits[i].at = base + std::chrono::minutes(10 * static_cast<int>(i)) + std::chrono::microseconds(7);
    if (i % 2 == 0) visits[i].left = rapyer::timestamp(base + std::chrono::hours(5));
  }
  run(Visit::ainsert(std::span<const Visit>(visits)));
  EXPECT_EQ(raw("HGET", visits[1].key(), "at").as_string(), "1700000600.000007");
  // The index score is the double nearest to it (servers print that double in different forms).
  EXPECT_EQ(std::stod(raw("ZSCORE", shard_of<Visit>(visits[1].id(), "at"), visits[1].id()).as_string()),
            1700000600.000007);

  const auto window = run(Visit::afind(where(&Visit::at)
                                           .between(base + std::chrono::minutes(10) + std::chrono::microseconds(7),
                                                    base + std::chrono::minutes(30) + std::chrono::microseconds(7))));
  ASSERT_EQ(window.size(), 3U);  // exact at the microsecond, though the scores are rounded doubles
  EXPECT_EQ(window.front().id(), visits[1].id());
  EXPECT_EQ(window.back().id(), visits[3].id());
  EXPECT_EQ(run(Visit::afind(where(&Visit::left) >= rapyer::timestamp(base))).size(), 5U);

  // aadd is HINCRBYFLOAT: atomic, exact to the microsecond, and the index follows.
  Visit& v = visits[0];
  EXPECT_EQ(run(v.at.aadd(std::chrono::hours(36) + std::chrono::microseconds(1))).time,
            base + std::chrono::hours(36) + std::chrono::microseconds(8));
  EXPECT_EQ(v.at.time(), base + std::chrono::hours(36) + std::chrono::microseconds(8));
  const Visit loaded = run(Visit::get(v.key()));
  EXPECT_EQ(loaded.at.time(), v.at.time());
  const auto late = run(Visit::afind(where(&Visit::at) > rapyer::timestamp(base + std::chrono::hours(35))));
  ASSERT_EQ(late.size(), 1U);
  EXPECT_EQ(late.front().id(), v.id());
}

// The index stays exact under concurrent increments from several processes.
TEST_F(QueryTest, IndexMatchesTheDataAfterConcurrentIncrementsAcrossProcesses) {
  constexpr int processes = 4;
  constexpr int coroutines = 50;
  std::vector<std::string> keys;
  for (int i = 0; i < 10; ++i) keys.push_back(members[static_cast<std::size_t>(i)].key());
  std::vector<Member> mine;
  const auto load = [&](int) -> awaitable<void> { mine = co_await Member::afind(keys); };
  const auto work = [&](int, int c) -> awaitable<void> {
    co_await mine[static_cast<std::size_t>(c) % mine.size()].age.aincrease(1);
  };
  ASSERT_TRUE(rapyer::test::run_in_processes(processes, coroutines, load, work));
  for (std::size_t i = 0; i < 10; ++i) {
    const long long expected = static_cast<long long>(i) + processes * coroutines / 10;
    EXPECT_EQ(raw("HGET", keys[i], "age").as_string(), std::to_string(expected));
    EXPECT_EQ(raw("ZSCORE", shard_of<Member>(members[i].id(), "age"), members[i].id()).as_string(),
              std::to_string(expected));
    EXPECT_TRUE(ids_of(run(Member::afind(where(&Member::age) == expected))).contains(members[i].id()));
  }
}

// An indexed class spreads over every primary: its buckets hash to slots all over the cluster.
TEST_F(QueryTest, AnIndexedClassSpreadsOverEveryPrimary) {
  const auto counts = keys_per_primary();
  ASSERT_EQ(counts.size(), rapyer::test::on_cluster() ? rapyer::test::cluster().primaries().size() : 1U);
  if (!rapyer::test::on_cluster()) {
    EXPECT_GT(counts.front(), 300);  // the 300 models and the shards of every bucket
    return;
  }
  auto& cluster = rapyer::test::cluster();
  const auto primaries = cluster.primaries();
  std::map<std::size_t, long long> models_on;  // node -> models whose slot it serves
  for (const auto& m : members) ++models_on[cluster.primary_of_slot(rapyer::detail::cluster::key_slot(m.key()))];
  long long total = 0;
  std::multiset<long long> stored_per_node;
  for (const std::size_t node : primaries) {
    const long long stored = std::stoll(cluster.command(node, {"DBSIZE"}));
    stored_per_node.insert(stored);
    EXPECT_GT(models_on[node], 0) << "no model on node " << node;
    EXPECT_GT(stored, models_on[node]) << "node " << node << " holds its models and their shards";
    total += models_on[node];
  }
  EXPECT_EQ(total, 300);
  EXPECT_EQ(stored_per_node, std::multiset<long long>(counts.begin(), counts.end()));
}

// Moving slots (and so buckets: models with their index shards) between primaries keeps queries exact.
TEST_F(QueryTest, QueriesStayExactWhileBucketsMoveBetweenPrimaries) {
  if (!rapyer::test::on_cluster()) GTEST_SKIP() << "cluster only: resharding";
  auto& cluster = rapyer::test::cluster();
  const auto& layout = Member::class_layout();
  const auto owners = [&] {
    std::vector<std::size_t> out;
    for (std::size_t b = 0; b < layout.buckets(); ++b)
      out.push_back(cluster.primary_of_slot(rapyer::detail::cluster::key_slot(layout.index_key(b, "age"))));
    return out;
  };
  const auto queries = [&] {
    expect_exact(where(&Member::age) >= 25);
    expect_exact(where(&Member::name).starts_with("mal"));
    expect_exact(where(&Member::age) < 5 || where(&Member::place, &Place::city) == "Lisbon");
  };
  queries();
  const auto before = owners();
  // The primary holding most buckets gives its lowest 2000 slots to the next one.
  const auto primaries = cluster.primaries();
  std::map<std::size_t, int> buckets_on;
  for (const std::size_t node : before) ++buckets_on[node];
  const std::size_t from = std::max_element(buckets_on.begin(), buckets_on.end(), [](auto& a, auto& b) {
                             return a.second < b.second;
                           })->first;
  const std::size_t to = from == primaries.front() ? primaries.back() : primaries.front();
  cluster.migrate_slots(from, to, 2000);
  const auto after = owners();
  EXPECT_NE(after, before) << "no bucket moved: the test moves no index shard";
  queries();
  // Writes after the move go to the buckets' new primaries, with their index upkeep.
  Member& m = members[12];
  run(m.age.aincrease(1000));
  EXPECT_EQ(ids_of(run(Member::afind(where(&Member::age) == 1012))), std::set<std::string>{m.id()});
  members[12].age = 1012;
  queries();
}

// Data stored by earlier versions (model keys "Legacy:{<id>}", class-wide indexes) moves to its
// buckets; a second run finds nothing to do.
TEST_F(QueryTest, TheMigrationMovesModelsOfTheUnbucketedLayoutToTheirBuckets) {
  const std::string marker(rapyer::detail::model_marker_field);
  for (int i = 0; i < 40; ++i) {
    const std::string id = "old" + std::to_string(i);
    const std::string key = "Legacy:{" + id + "}";
    raw("HSET", key, marker, "Legacy", "age", std::to_string(i), "name", "n" + std::to_string(i % 4));
    if (i % 2 == 0) raw("RPUSH", key + ":tags", "a", id);
    if (i == 3) raw("EXPIRE", key, 1000);
    raw("ZADD", "Legacy:index:age", i, id);
    const std::string member = "n" + std::to_string(i % 4) + std::string("\0\0", 2) + id;
    raw("ZADD", "Legacy:index:name", 0, member);
    raw("HSET", "Legacy:index:name:members", id, member);
  }
  Legacy current;  // stored by this version: untouched
  current.age = 7;
  current.name = "n3";
  run(current.save());
  // Before: the models are not where this version looks, and their keys are named as old ones.
  EXPECT_FALSE(run(Legacy::afind_one(where(&Legacy::age) == 5)).has_value());
  try {
    (void)run(Legacy::get("Legacy:{old5}"));
    ADD_FAILURE() << "a key of the unbucketed layout was read";
  } catch (const rapyer::usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("'Legacy:{old5}' is a key of Legacy stored before index buckets"),
              std::string::npos)
        << e.what();
  }

  flush_scripts();  // the blocks that meet NOSCRIPT are sent again: still 40 models, once each
  EXPECT_EQ(run(Legacy::amigrate_layout()), 40U);
  for (int i = 0; i < 40; ++i) {
    const std::string id = "old" + std::to_string(i);
    EXPECT_EQ(raw("EXISTS", "Legacy:{" + id + "}", "Legacy:{" + id + "}:tags").as_integer(), 0) << id;
    const Legacy moved = run(Legacy::get(Legacy::key_for(id)));
    EXPECT_EQ(moved.age.value(), i);
    const std::vector<std::string> tags = i % 2 == 0 ? std::vector<std::string>{"a", id} : std::vector<std::string>{};
    EXPECT_EQ(moved.tags.value(), tags);
  }
  EXPECT_GT(raw("TTL", Legacy::key_for("old3")).as_integer(), 900);
  EXPECT_EQ(raw("TTL", Legacy::key_for("old4")).as_integer(), -1);
  for (const char* old_index : {"Legacy:index:age", "Legacy:index:name", "Legacy:index:name:members"})
    EXPECT_EQ(raw("EXISTS", old_index).as_integer(), 0) << old_index;

  const auto ids = [&](const rapyer::query<Legacy>& q) {
    std::set<std::string> out;
    for (const auto& m : run(Legacy::afind(q))) out.insert(m.id());
    return out;
  };
  EXPECT_EQ(ids(where(&Legacy::age) == 5), std::set<std::string>{"old5"});
  EXPECT_EQ(ids(where(&Legacy::age) >= 37), (std::set<std::string>{"old37", "old38", "old39"}));
  EXPECT_EQ(ids(where(&Legacy::name) == "n3").size(), 11U);  // 10 migrated and the current one
  EXPECT_TRUE(ids(where(&Legacy::age) == 7).contains(current.id()));

  EXPECT_EQ(run(Legacy::amigrate_layout()), 0U);
  EXPECT_EQ(ids(where(&Legacy::age) < 40).size(), 41U);
  EXPECT_EQ(run(Legacy::afind()).size(), 41U);
}

}  // namespace

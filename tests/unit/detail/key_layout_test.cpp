#include "rapyer/detail/key_layout.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "rapyer/detail/cluster/key_slot.hpp"
#include "rapyer/detail/index.hpp"
#include "rapyer/error.hpp"

namespace rapyer::detail {
namespace {

const key_layout indexed("app:", "User", 16);
const key_layout plain("app:", "User", 0);

TEST(KeyLayout, TheBucketOfAnIdIsItsCrc16ModuloTheBucketCount) {
  EXPECT_EQ(indexed.bucket_of("123456789"), 0x31C3 % 16);  // crc16("123456789") == 0x31C3
  EXPECT_EQ(key_layout("", "User", 7).bucket_of("123456789"), 0x31C3 % 7);
  EXPECT_EQ(plain.bucket_of("123456789"), 0U);
  // Ids spread over every bucket.
  std::set<std::size_t> seen;
  for (int i = 0; i < 200; ++i) seen.insert(indexed.bucket_of("id" + std::to_string(i)));
  EXPECT_EQ(seen.size(), 16U);
}

TEST(KeyLayout, KeysOfAnIndexedClassCarryTheBucketInTheirHashTag) {
  EXPECT_EQ(indexed.model_key("123456789"), "app:User:{User#3}:{123456789}");
  EXPECT_EQ(indexed.model_key("123456789", "tags"), "app:User:{User#3}:{123456789}:tags");
  EXPECT_EQ(indexed.index_key(3, "address.city"), "app:User:{User#3}:index:address.city");
  // A model, its collections and its bucket's index shards share one slot.
  const auto slot = cluster::key_slot("User#3");
  EXPECT_EQ(cluster::key_slot(indexed.model_key("123456789")), slot);
  EXPECT_EQ(cluster::key_slot(indexed.model_key("123456789", "tags")), slot);
  EXPECT_EQ(cluster::key_slot(indexed.index_key(3, "age") + ":members"), slot);
  EXPECT_EQ(indexed.scan_pattern(), "app:User:{User#*}:{*}");
}

TEST(KeyLayout, IndexKeysOfEveryBucketAreFoundAndTheirPathRead) {
  EXPECT_EQ(indexed.index_scan_pattern(), "app:User:{User#*}:index:*");
  EXPECT_EQ(indexed.index_path_of(indexed.index_key(3, "address.city")), "address.city");
  EXPECT_EQ(indexed.index_path_of(indexed.index_key(15, "name") + ":members"), "name");
  // Model and collection keys whose id looks like an index key are none.
  EXPECT_EQ(indexed.index_path_of(indexed.model_key("x}:index:age")), std::nullopt);
  EXPECT_EQ(indexed.index_path_of(indexed.model_key("u1", "index:age")), std::nullopt);
  EXPECT_EQ(indexed.index_path_of("app:Other:{Other#1}:index:age"), std::nullopt);
  EXPECT_EQ(plain.index_path_of(plain.index_key(0, "age")), std::nullopt);  // no buckets
}

TEST(KeyLayout, KeysOfAnUnindexedClassKeepTheIdAsHashTag) {
  EXPECT_EQ(plain.model_key("u1"), "app:User:{u1}");
  EXPECT_EQ(plain.model_key("u1", "tags"), "app:User:{u1}:tags");
  EXPECT_EQ(plain.index_key(0, "age"), "app:User:index:age");  // the class-wide index of before
  EXPECT_EQ(plain.scan_pattern(), "app:User:{*}");
  EXPECT_EQ(indexed.unbucketed().model_key("u1"), "app:User:{u1}");
}

TEST(KeyLayout, ParsingAKeyGivesBackTheIdItWasBuiltFrom) {
  const std::vector<std::string> ids = {"u1", "", "a}b", "}:{", "x:tags", "User#3", std::string("\0\xff", 2)};
  for (const auto& id : ids) {
    EXPECT_EQ(indexed.id_of(indexed.model_key(id)), id) << indexed.model_key(id);
    EXPECT_EQ(plain.id_of(plain.model_key(id)), id) << plain.model_key(id);
  }
}

TEST(KeyLayout, KeysThatTheLayoutDoesNotMakeAreNotParsed) {
  const std::string id = "123456789";  // bucket 3
  for (const std::string key :
       {"app:User:{User#4}:{123456789}", "app:User:{User#03}:{123456789}", "app:User:{User#3}:{123456789}:tags",
        "app:User:{User#3}:index:age", "app:User:{123456789}", "app:Other:{Other#3}:{123456789}",
        "User:{User#3}:{123456789}", "app:User:{User#3}{123456789}", "app:User:{User#16}:{123456789}"}) {
    EXPECT_FALSE(indexed.id_of(key).has_value()) << key;
  }
  EXPECT_FALSE(plain.id_of("app:Other:{u1}").has_value());
  EXPECT_FALSE(plain.id_of("app:User:{u1}:tags").has_value());
  EXPECT_FALSE(plain.id_of("app:User:index:age").has_value());
  EXPECT_EQ(indexed.id_of("app:User:{User#3}:{" + id + "}"), id);
}

TEST(KeyLayout, KeysWithABucketTagAreNeverKeysOfTheUnbucketedLayout) {
  EXPECT_TRUE(indexed.has_bucket_tag("app:User:{User#3}:{123456789}"));
  EXPECT_TRUE(indexed.has_bucket_tag("app:User:{User#40}:{x}"));  // of another bucket count
  EXPECT_TRUE(plain.has_bucket_tag("app:User:{User#3}:{123456789}"));
  EXPECT_FALSE(indexed.has_bucket_tag("app:User:{123456789}"));
  EXPECT_FALSE(indexed.has_bucket_tag("app:User:{User}"));
  EXPECT_FALSE(indexed.has_bucket_tag("app:Other:{Other#3}:{x}"));
}

TEST(KeyLayout, ALookupTakesAKeyOfTheClassAsAKeyAndAnythingElseAsAnId) {
  EXPECT_EQ(plain.key_of("alice"), "app:User:{alice}");
  EXPECT_EQ(plain.key_of("app:User:{alice}"), "app:User:{alice}");
  EXPECT_EQ(indexed.key_of("123456789"), "app:User:{User#3}:{123456789}");
  EXPECT_EQ(indexed.key_of("app:User:{User#3}:{123456789}"), "app:User:{User#3}:{123456789}");
  // A key of the layout before buckets stays a key, so that its lookup asks for amigrate_layout().
  EXPECT_EQ(indexed.key_of("app:User:{123456789}"), "app:User:{123456789}");
  // So does a key in another bucket: its lookup fails as a key of no model of the class.
  EXPECT_EQ(indexed.key_of("app:User:{User#4}:{123456789}"), "app:User:{User#4}:{123456789}");
  // Anything else is an id: another class's key, a collection key.
  EXPECT_EQ(plain.key_of("app:Other:{u1}"), "app:User:{app:Other:{u1}}");
  EXPECT_EQ(plain.key_of("app:User:{u1}:tags"), "app:User:{app:User:{u1}:tags}");
  EXPECT_EQ(indexed.key_of("app:User:{u1}:tags"), indexed.model_key("app:User:{u1}:tags"));
  // An id that is itself a key of the class is named by its full key.
  EXPECT_EQ(plain.key_of("app:User:{app:User:{x}}"), "app:User:{app:User:{x}}");
  EXPECT_EQ(plain.id_of(plain.key_of("app:User:{app:User:{x}}")), "app:User:{x}");
  EXPECT_EQ(plain.key_of(""), "app:User:{}");
}

TEST(KeyLayout, TheRegistryFindsAClassByTheHeadOfItsKeys) {
  EXPECT_EQ(key_head_of(indexed.model_key("u1")), "app:User");
  EXPECT_EQ(key_head_of(plain.model_key("u1")), "app:User");
  EXPECT_FALSE(key_head_of("app:User").has_value());
}

reply range_reply(const std::vector<std::string>& elements) {
  std::vector<reply> out;
  out.reserve(elements.size());
  for (const auto& e : elements) out.push_back(reply::string(e));
  return reply::array(std::move(out));
}

TEST(IndexMerge, NumberHitsOfAllBucketsMergeByScoreThenId) {
  std::vector<index_hit> hits;
  // Each bucket's reply is in order already (member, score pairs); across buckets they interleave.
  append_index_hits(index_kind::number, range_reply({"b", "1", "d", "2.5", "a", "inf"}), hits);
  append_index_hits(index_kind::number, range_reply({"z", "-inf", "a2", "1", "c", "2.5"}), hits);
  append_index_hits(index_kind::number, range_reply({}), hits);
  EXPECT_EQ(merge_index_hits(index_kind::number, hits), (std::vector<std::string>{"z", "a2", "b", "c", "d", "a"}));
}

TEST(IndexMerge, TextHitsOfAllBucketsMergeByTextThenIdAsBytes) {
  const auto member = [](const std::string& text, const std::string& id) {
    return escape_index_text(text) + std::string("\0\0", 2) + id;
  };
  std::vector<index_hit> hits;
  append_index_hits(index_kind::text, range_reply({member("ab", "2"), member("b", "1"), member("\xff", "0")}), hits);
  append_index_hits(index_kind::text,
                    range_reply({member("a", "9"), member("ab", "1"), "foreign member", member("b\xc3", "3")}), hits);
  EXPECT_EQ(merge_index_hits(index_kind::text, hits), (std::vector<std::string>{"9", "1", "2", "1", "3", "0"}));
}

TEST(IndexMerge, AScoreThatIsNoNumberIsAProtocolError) {
  std::vector<index_hit> hits;
  EXPECT_THROW(append_index_hits(index_kind::number, range_reply({"a", "many"}), hits), protocol_error);
}

}  // namespace
}  // namespace rapyer::detail

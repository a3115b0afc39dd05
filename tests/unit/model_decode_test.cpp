// Model::decode on replies no Redis server sends for a model read (found by the decode fuzz target):
// each is a decode_error naming the key and the field, never another exception.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_models.hpp"

namespace {

using rapyer::reply;
using test_models::Lenient;

std::vector<reply> lenient_read(reply hash, reply scores) { return {std::move(hash), std::move(scores)}; }

reply strings(std::initializer_list<const char*> texts) {
  std::vector<reply> elements;
  for (const char* text : texts) elements.push_back(reply::string(text));
  return reply::array(std::move(elements));
}

reply valid_hash() { return strings({"__rapyer_model__", "Lenient", "age", "3", "name", "n"}); }

TEST(ModelDecode, ValidReadDecodes) {
  const auto replies = lenient_read(valid_hash(), strings({"1", "2"}));
  const Lenient model = Lenient::decode(Lenient::key_for("x"), replies);
  EXPECT_EQ(model.age, 3);
  EXPECT_EQ(model.scores.value(), (std::vector<int>{1, 2}));
}

TEST(ModelDecode, MisshapenHashIsADecodeErrorOfTheModel) {
  const std::string key = Lenient::key_for("x");
  std::vector<reply> nested = valid_hash().as_array();
  nested.push_back(reply::string("extra"));
  nested.push_back(reply::array({reply::integer(1)}));
  for (reply hash : {reply::array(nested), reply::integer(5), strings({"__rapyer_model__", "Lenient", "age"})}) {
    try {
      (void)Lenient::decode(key, lenient_read(hash, strings({})));
      ADD_FAILURE() << "decoded " << hash.to_debug_string();
    } catch (const rapyer::decode_error& e) {
      EXPECT_EQ(e.key(), key);
      EXPECT_EQ(e.field(), "");
    }
  }
}

TEST(ModelDecode, MisshapenCollectionIsADecodeErrorOfThatField) {
  const std::vector<reply> misshapen = {reply::array({reply::string("1"), reply::array({})}), reply::string("1"),
                                        reply::nil()};
  const std::string user_key = test_models::User::key_for("u");
  for (const reply& tags : misshapen) {
    const std::vector<reply> replies = {strings({"__rapyer_model__", "User", "name", "n", "age", "1", "score", "0.5",
                                                 "address.city", "c", "address.zip", "1"}),
                                        tags, strings({}), strings({})};
    try {
      (void)test_models::User::decode(user_key, replies);
      ADD_FAILURE() << "decoded tags " << tags.to_debug_string();
    } catch (const rapyer::decode_error& e) {
      EXPECT_EQ(e.key(), user_key);
      EXPECT_EQ(e.field(), "tags");
    }
  }
  // Lenient declares scores safe-load: the model loads, and the failure is reported.
  for (const reply& scores : misshapen) {
    const Lenient model = Lenient::decode(Lenient::key_for("x"), lenient_read(valid_hash(), scores));
    EXPECT_TRUE(model.scores.value().empty());
    ASSERT_EQ(model.load_errors().size(), 1u) << scores.to_debug_string();
    EXPECT_EQ(model.load_errors().front().field, "scores");
  }
}

}  // namespace

// JSONPath text: exact strings, including dict keys that need escaping.
#include "rapyer/detail/json_path.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "rapyer/error.hpp"

namespace rapyer::detail {
namespace {

const json_path root;

TEST(JsonPath, TheRootIsTheDollarSign) { EXPECT_EQ(root.text(), "$"); }

TEST(JsonPath, IdentifierMembersUseDotNotation) {
  EXPECT_EQ(root.member("name").text(), "$.name");
  EXPECT_EQ(root.member("outer").member("inner_2").text(), "$.outer.inner_2");
  EXPECT_EQ(root.member("_x").member("X9").text(), "$._x.X9");
}

TEST(JsonPath, OtherMemberNamesUseBrackets) {
  EXPECT_EQ(root.member("").text(), R"($[""])");
  EXPECT_EQ(root.member("9lives").text(), R"($["9lives"])");
  EXPECT_EQ(root.member("a-b").text(), R"($["a-b"])");
  EXPECT_EQ(root.member("a.b").text(), R"($["a.b"])");
}

TEST(JsonPath, DictKeysAlwaysUseBrackets) {
  EXPECT_EQ(root.member("dct").key("team").text(), R"($.dct["team"])");
  EXPECT_EQ(root.member("dct").key("").text(), R"($.dct[""])");
  EXPECT_EQ(root.key("a").key("b").text(), R"($["a"]["b"])");
}

TEST(JsonPath, DictKeysAreEscapedAsJsonStrings) {
  const json_path dct = root.member("dct");
  EXPECT_EQ(dct.key("a.b").text(), R"($.dct["a.b"])");
  EXPECT_EQ(dct.key("x[0]").text(), R"($.dct["x[0]"])");
  EXPECT_EQ(dct.key("]").text(), R"($.dct["]"])");
  EXPECT_EQ(dct.key(R"(say "hi")").text(), R"($.dct["say \"hi\""])");
  EXPECT_EQ(dct.key("it's").text(), R"($.dct["it's"])");
  EXPECT_EQ(dct.key(R"(back\slash)").text(), R"($.dct["back\\slash"])");
  EXPECT_EQ(dct.key(R"(\")").text(), R"($.dct["\\\""])");
  EXPECT_EQ(dct.key("$.a[*]..b?(@)").text(), R"p($.dct["$.a[*]..b?(@)"])p");
  EXPECT_EQ(dct.key(" spaced ").text(), R"($.dct[" spaced "])");
}

TEST(JsonPath, ControlCharactersInKeysAreEscaped) {
  const json_path dct = root.member("dct");
  EXPECT_EQ(dct.key("a\nb\tc\rd").text(), R"($.dct["a\nb\tc\rd"])");
  EXPECT_EQ(dct.key("\b\f").text(), R"($.dct["\b\f"])");
  EXPECT_EQ(dct.key(std::string("nul\0here", 8)).text(), R"($.dct["nul\u0000here"])");
  EXPECT_EQ(dct.key("\x01\x1f").text(), R"($.dct["\u0001\u001f"])");
  EXPECT_EQ(dct.key("del\x7f").text(), "$.dct[\"del\x7f\"]");  // DEL is not a JSON control character
}

TEST(JsonPath, UnicodeKeysStayUtf8) {
  EXPECT_EQ(root.member("dct").key("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80").text(),
            "$.dct[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]");
  EXPECT_EQ(root.member("caf\xc3\xa9").text(), "$[\"caf\xc3\xa9\"]");
}

TEST(JsonPath, KeysThatAreNotUtf8AreRefused) {
  try {
    const json_path path = root.member("dct").key("bad\xff");
    FAIL() << "built " << path.text();
  } catch (const encode_error& e) {
    EXPECT_NE(std::string(e.what()).find("a JSON path key must be valid UTF-8"), std::string::npos) << e.what();
  }
  EXPECT_THROW(root.key("\xc3"), encode_error);         // truncated sequence
  EXPECT_THROW(root.member("\xc0\xaf"), encode_error);  // overlong '/'
}

TEST(JsonPath, ListElementsByPosition) {
  EXPECT_EQ(root.member("lst").index(3).text(), "$.lst[3]");
  EXPECT_EQ(root.member("lst").index(0).text(), "$.lst[0]");
  EXPECT_EQ(root.member("lst").index(-1).text(), "$.lst[-1]");
  EXPECT_EQ(root.member("m").key("k").index(2).member("f").text(), R"($.m["k"][2].f)");
  EXPECT_EQ(root.index(INT64_MIN).text(), "$[-9223372036854775808]");
}

TEST(JsonPath, BuildingLeavesTheParentUnchanged) {
  const json_path parent = root.member("a");
  const json_path child = parent.key("b");
  EXPECT_EQ(parent.text(), "$.a");
  EXPECT_EQ(child.text(), R"($.a["b"])");
}

}  // namespace
}  // namespace rapyer::detail

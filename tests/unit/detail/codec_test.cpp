#include "rapyer/detail/codec.hpp"

#include <gtest/gtest.h>

#include <boost/describe.hpp>

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <vector>

namespace {

using namespace rapyer::detail;

BOOST_DEFINE_ENUM_CLASS(Mood, happy, sad)
enum class Plain : int { a = 3 };

struct Inner {
  std::string name;
  std::optional<int> n;
};
BOOST_DESCRIBE_STRUCT(Inner, (), (name, n))

template <class T>
T round_trip(const T& value) {
  return decode<T>(encode(value));
}

TEST(Codec, IntegersAreExactDecimal) {
  EXPECT_EQ(encode(std::numeric_limits<long long>::min()), "-9223372036854775808");
  EXPECT_EQ(encode(std::numeric_limits<unsigned long long>::max()), "18446744073709551615");
  EXPECT_EQ(round_trip(std::numeric_limits<long long>::max()), std::numeric_limits<long long>::max());
  EXPECT_THROW(decode<int>("12x"), decode_failure);
  EXPECT_THROW(decode<int>(""), decode_failure);
  EXPECT_THROW(decode<std::int8_t>("128"), decode_failure);
  EXPECT_THROW(decode<unsigned>("-1"), decode_failure);
}

TEST(Codec, FloatingPointIsShortestRoundTrip) {
  EXPECT_EQ(encode(0.1), "0.1");
  EXPECT_EQ(encode(1e308), "1e+308");
  EXPECT_EQ(encode(1e-300), "1e-300");
  EXPECT_EQ(encode(0.1f), "0.1");
  for (double v : {0.1, 1e308, 1e-300, 5e-324, -0.0, 1.0 / 3.0, std::numeric_limits<double>::max()}) {
    EXPECT_EQ(round_trip(v), v);
  }
  EXPECT_TRUE(std::isinf(decode<double>("inf")));
  EXPECT_THROW(decode<double>("0.1abc"), decode_failure);
}

TEST(Codec, BoolsEnumsAndBytes) {
  EXPECT_EQ(encode(true), "1");
  EXPECT_TRUE(decode<bool>("true"));
  EXPECT_THROW(decode<bool>("yes"), decode_failure);
  EXPECT_EQ(encode(Mood::sad), "sad");
  EXPECT_EQ(decode<Mood>("happy"), Mood::happy);
  EXPECT_THROW(decode<Mood>("angry"), decode_failure);
  EXPECT_EQ(encode(Plain::a), "3");
  EXPECT_EQ(decode<Plain>("3"), Plain::a);
  const bytes raw = {std::byte{0}, std::byte{255}};
  EXPECT_EQ(encode(raw), std::string("\0\xff", 2));
  EXPECT_EQ(round_trip(raw), raw);
}

TEST(Codec, TimePointsAreIsoUtcWithMicroseconds) {
  const time_point t{std::chrono::microseconds(951782400123456LL)};  // 2000-02-29
  EXPECT_EQ(encode(t), "2000-02-29T00:00:00.123456Z");
  EXPECT_EQ(round_trip(t), t);
  const time_point before_epoch{std::chrono::microseconds(-1)};
  EXPECT_EQ(encode(before_epoch), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(round_trip(before_epoch), before_epoch);
  EXPECT_EQ(decode<time_point>("2000-02-29T00:00:00Z"), time_point{std::chrono::seconds(951782400)});
  EXPECT_EQ(decode<time_point>("2000-02-29T00:00:00.5+00:00"), time_point{std::chrono::milliseconds(951782400500)});
  for (const char* bad : {"2000-02-30T00:00:00Z", "2000-02-29 00:00:00", "yesterday", "2000-02-29T00:00:00.Z"}) {
    EXPECT_THROW(decode<time_point>(bad), decode_failure) << bad;
  }
}

// Found by the decode fuzz target: years outside system_clock's range overflowed the conversion.
TEST(Codec, TimePointsOutsideTheClocksRangeAreDecodeFailures) {
  for (const char* far :
       {"0000-01-01T00:00:00Z", "1677-01-01T00:00:00Z", "2263-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
    EXPECT_THROW(decode<time_point>(far), decode_failure) << far;
  }
  EXPECT_NO_THROW(decode<time_point>("1678-01-01T00:00:00Z"));
  EXPECT_NO_THROW(decode<time_point>("2262-01-01T00:00:00Z"));
}

TEST(Codec, TimestampsAreEpochSecondsWithMicroseconds) {
  using rapyer::timestamp;
  const timestamp t{time_point{std::chrono::microseconds(1700000000123456LL)}};
  EXPECT_EQ(encode(t), "1700000000.123456");
  EXPECT_EQ(round_trip(t), t);
  const timestamp before_epoch{time_point{std::chrono::microseconds(-1500000)}};
  EXPECT_EQ(encode(before_epoch), "-1.500000");
  EXPECT_EQ(round_trip(before_epoch), before_epoch);
  EXPECT_EQ(encode(timestamp{}), "0.000000");
  // HINCRBYFLOAT writes long-double digits: rounded to the nearest microsecond.
  EXPECT_EQ(decode<timestamp>("1700000036.12345599999999999"),
            timestamp{time_point{std::chrono::microseconds(1700000036123456LL)}});
  EXPECT_EQ(decode<timestamp>("1700000036.1234564"),
            timestamp{time_point{std::chrono::microseconds(1700000036123456LL)}});
  EXPECT_EQ(decode<timestamp>("12"), timestamp{time_point{std::chrono::seconds(12)}});
  EXPECT_EQ(decode<timestamp>("-0.5"), timestamp{time_point{std::chrono::milliseconds(-500)}});
  for (const char* bad :
       {"", "-", "1.", ".5", "1e9", "12a", "2024-01-01T00:00:00Z", "99999999999999.0", "10000000000"}) {
    EXPECT_THROW(decode<timestamp>(bad), decode_failure) << bad;
  }
  const std::vector<timestamp> inside_json = {t, before_epoch};
  EXPECT_EQ(round_trip(inside_json), inside_json);
}

TEST(Codec, ComplexValuesAreJson) {
  EXPECT_EQ(encode(std::vector<int>{}), "[]");
  EXPECT_EQ(encode(std::map<std::string, double>{}), "{}");  // not [] as Lua's cjson would make it
  EXPECT_EQ(encode(std::vector<double>{0.1, 1e308}), "[0.1,1e+308]");
  EXPECT_EQ(encode(Inner{"x", std::nullopt}), R"({"n":null,"name":"x"})");
  const std::vector<Inner> nested = {{"a", 1}, {"b", std::nullopt}};
  const auto back = round_trip(nested);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].n, 1);
  EXPECT_FALSE(back[1].n.has_value());
  EXPECT_EQ(round_trip(std::vector<long long>{std::numeric_limits<long long>::min()}).at(0),
            std::numeric_limits<long long>::min());
  EXPECT_EQ(round_trip(std::vector<bytes>{{std::byte{1}, std::byte{2}, std::byte{3}}}).at(0).size(), 3u);
}

TEST(Codec, BadJsonIsADecodeFailure) {
  EXPECT_THROW(decode<std::vector<int>>("[1,"), decode_failure);
  EXPECT_THROW(decode<std::vector<int>>(R"(["a"])"), decode_failure);
  EXPECT_THROW(decode<Inner>(R"({"n":1})"), decode_failure);  // missing required member
  EXPECT_THROW(decode<std::vector<std::int8_t>>("[300]"), decode_failure);
  EXPECT_THROW((void)encode(std::vector<std::string>{"\xff"}), rapyer::encode_error);
}

TEST(Codec, Base64) {
  for (const std::string& raw : std::vector<std::string>{"", "f", "fo", "foo", "foob", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(base64_decode(base64_encode(raw)), raw);
  }
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_THROW(base64_decode("Zm9"), decode_failure);
  EXPECT_THROW(base64_decode("Z=9v"), decode_failure);
}

}  // namespace

// Every atomic operation of the scalar proxies, checked against Redis's state read with raw commands.
#include "rapyer/fields/scalars.hpp"

#include <chrono>
#include <cmath>
#include <limits>

#include "rapyer/rapyer.hpp"
#include "test_models.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace test_models;

class ScalarFieldTest : public rapyer::test::model_test {
 protected:
  Everything saved() {
    Everything e;
    e.p_str = "ab";
    e.p_int = 7;
    e.p_float = 1.5;
    e.p_time = time_point(std::chrono::microseconds(1709164800000000LL));  // 2024-02-29T00:00:00Z
    run(e.save());
    return e;
  }
  std::string stored(const Everything& e, const char* field) { return raw("HGET", e.key(), field).as_string(); }
};

TEST_F(ScalarFieldTest, IntIncreaseIsServerSideAndReturnsTheNewValue) {
  Everything e = saved();
  raw("HINCRBY", e.key(), "p_int", 100);  // someone else changed it meanwhile
  EXPECT_EQ(run(e.p_int.aincrease(1)), 108);
  EXPECT_EQ(e.p_int, 108);
  EXPECT_EQ(stored(e, "p_int"), "108");
  EXPECT_EQ(run(e.p_int.aincrease(-200)), -92);
  EXPECT_EQ(stored(e, "p_int"), "-92");
}

TEST_F(ScalarFieldTest, IntMultiplyFloorDivideModuloFollowPython) {
  Everything e = saved();
  EXPECT_EQ(run(e.p_int.amultiply(-3)), -21);
  EXPECT_EQ(run(e.p_int.afloor_divide(4)), -6);  // floor(-21 / 4) = -6, as in Python
  EXPECT_EQ(run(e.p_int.amodulo(4)), 2);         // -6 % 4 = 2, as in Python
  EXPECT_EQ(stored(e, "p_int"), "2");
  EXPECT_THROW(run(e.p_int.afloor_divide(0)), rapyer::server_error);
  raw("HSET", e.key(), "p_int", "9007199254740993");
  EXPECT_THROW(run(e.p_int.amultiply(2)), rapyer::server_error);  // beyond exact range: refused
  EXPECT_EQ(stored(e, "p_int"), "9007199254740993");              // and left intact
}

TEST_F(ScalarFieldTest, IntPowerIsExactOrRefused) {
  Everything e = saved();  // 7
  EXPECT_EQ(run(e.p_int.apower(3)), 343);
  EXPECT_EQ(stored(e, "p_int"), "343");
  EXPECT_EQ(run(e.p_int.apower(0)), 1);
  raw("HSET", e.key(), "p_int", -1);
  EXPECT_EQ(run(e.p_int.apower(9007199254740991LL)), -1);  // no loop over a huge exponent
  raw("HSET", e.key(), "p_int", 3);
  EXPECT_THROW(run(e.p_int.apower(-1)), rapyer::server_error);  // Python gives a float: refused
  EXPECT_THROW(run(e.p_int.apower(40)), rapyer::server_error);  // 3^40 > 2^53: refused
  EXPECT_EQ(stored(e, "p_int"), "3");                           // and left intact
  EXPECT_EQ(run(e.p_int.apower(33)), 5559060566555523LL);       // 3^33 < 2^53: exact
}

// The same results as Python's float operators, computed server-side.
TEST_F(ScalarFieldTest, FloatArithmeticFollowsPython) {
  Everything e = saved();  // 1.5
  EXPECT_EQ(run(e.p_float.amultiply(3)), 4.5);
  EXPECT_EQ(run(e.p_float.adivide(4)), 1.125);
  EXPECT_EQ(stored(e, "p_float"), "1.125");
  raw("HSET", e.key(), "p_float", "1");
  EXPECT_EQ(run(e.p_float.afloor_divide(0.1)), 9.0);  // Python: 1 // 0.1 == 9.0 (not floor(1 / 0.1) == 10)
  raw("HSET", e.key(), "p_float", "-7.5");
  EXPECT_EQ(run(e.p_float.amodulo(2)), 0.5);  // Python: -7.5 % 2 == 0.5
  raw("HSET", e.key(), "p_float", "7.5");
  EXPECT_EQ(run(e.p_float.amodulo(-2)), -0.5);  // Python: 7.5 % -2 == -0.5
  raw("HSET", e.key(), "p_float", "7.5");
  EXPECT_EQ(run(e.p_float.afloor_divide(-2)), -4.0);  // Python: 7.5 // -2 == -4.0
  raw("HSET", e.key(), "p_float", "0.1");
  EXPECT_EQ(run(e.p_float.amultiply(3)), 0.1 * 3);  // 0.30000000000000004: stored so it reads back exactly
  EXPECT_EQ(stored(e, "p_float"), "0.30000000000000004");
  raw("HSET", e.key(), "p_float", "2");
  EXPECT_EQ(run(e.p_float.apower(0.5)), std::sqrt(2.0));
  EXPECT_THROW(run(e.p_float.adivide(0)), rapyer::server_error);
  raw("HSET", e.key(), "p_float", "1e308");
  EXPECT_THROW(run(e.p_float.amultiply(10)), rapyer::server_error);  // not finite: refused
  EXPECT_EQ(stored(e, "p_float"), "1e308");                          // and left intact
}

TEST_F(ScalarFieldTest, StringRepeat) {
  Everything e = saved();  // "ab"
  EXPECT_EQ(run(e.p_str.amultiply(3)), "ababab");
  EXPECT_EQ(stored(e, "p_str"), "ababab");
  EXPECT_THROW(run(e.p_str.amultiply(-1)), rapyer::server_error);
  EXPECT_EQ(run(e.p_str.amultiply(0)), "");
}

TEST_F(ScalarFieldTest, IntIncreaseOverflowIsAServerErrorAndKeepsTheValue) {
  Everything e = saved();
  raw("HSET", e.key(), "p_int", std::numeric_limits<long long>::max());
  try {
    run(e.p_int.aincrease(1));
    FAIL();
  } catch (const rapyer::server_error& error) {
    EXPECT_EQ(error.command(), "HINCRBY");
  }
  EXPECT_EQ(stored(e, "p_int"), "9223372036854775807");
}

TEST_F(ScalarFieldTest, FloatIncrease) {
  Everything e = saved();
  EXPECT_EQ(run(e.p_float.aincrease(0.25)), 1.75);
  EXPECT_EQ(std::stod(stored(e, "p_float")), 1.75);
}

TEST_F(ScalarFieldTest, StringAppend) {
  Everything e = saved();
  raw("HSET", e.key(), "p_str", "xy");
  EXPECT_EQ(run(e.p_str.aappend("z ✓")), "xyz ✓");
  EXPECT_EQ(e.p_str, "xyz ✓");
  EXPECT_EQ(stored(e, "p_str"), "xyz ✓");
}

TEST_F(ScalarFieldTest, BytesAppendAndBoolSet) {
  Everything e = saved();
  run(e.p_bytes.aappend(std::string_view("\0\xff", 2)));
  EXPECT_EQ(e.p_bytes.view(), std::string_view("\0\xff", 2));
  EXPECT_EQ(stored(e, "p_bytes"), std::string("\0\xff", 2));
  run(e.p_bool.aset(true));
  EXPECT_TRUE(static_cast<bool>(e.p_bool));
  EXPECT_EQ(stored(e, "p_bool"), "1");
}

TEST_F(ScalarFieldTest, DatetimeAddIsServerSideCalendarArithmetic) {
  Everything e = saved();
  const auto expected = e.p_time.value() + 24h + 1us;
  EXPECT_EQ(run(e.p_time.aadd(std::chrono::duration_cast<std::chrono::microseconds>(24h + 1us))), expected);
  EXPECT_EQ(stored(e, "p_time"), "2024-03-01T00:00:00.000001Z");  // across a leap day
  run(e.p_time.aadd(-std::chrono::duration_cast<std::chrono::microseconds>(24h * 366 + 2us)));
  EXPECT_EQ(stored(e, "p_time"), "2023-02-28T23:59:59.999999Z");
  EXPECT_EQ(e.p_time.value(), rapyer::detail::parse_time_point("2023-02-28T23:59:59.999999Z"));
}

TEST_F(ScalarFieldTest, ScriptsAreReloadedAfterScriptFlush) {
  Everything e = saved();
  run(e.p_str.aappend("1"));
  raw_on_every_primary(rapyer::request().push("SCRIPT", "FLUSH"));
  EXPECT_EQ(run(e.p_str.aappend("2")), "ab12");
  const auto exists =
      raw_on_node_of(e.key(), rapyer::request().push("SCRIPT", "EXISTS", rapyer::detail::scripts::string_append.sha));
  EXPECT_EQ(exists.as_array().at(0).as_integer(), 1);
}

TEST_F(ScalarFieldTest, ProxiesBehaveLikeTheirValues) {
  Everything e;
  e.p_int = 5;
  e.p_int += 2;
  EXPECT_TRUE(e.p_int == 7);
  EXPECT_TRUE(e.p_int > 6);
  long long plain = e.p_int;
  EXPECT_EQ(plain, 7);
  e.p_str = "abc";
  EXPECT_EQ(e.p_str.size(), 3u);
  EXPECT_EQ(e.p_str[1], 'b');
  const std::string_view view = e.p_str;
  EXPECT_EQ(view, "abc");
  EXPECT_TRUE(e.p_str == std::string("abc"));
}

}  // namespace

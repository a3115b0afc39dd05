#include "rapyer/reply.hpp"

#include <gtest/gtest.h>

#include "rapyer/error.hpp"

namespace {

using rapyer::reply;

TEST(Reply, TypedAccessorsReturnTheirValue) {
  EXPECT_EQ(reply::integer(-3).as_integer(), -3);
  EXPECT_EQ(reply::string("x").as_string(), "x");
  EXPECT_EQ(reply::status("OK").as_string(), "OK");
  EXPECT_EQ(reply::nil().as_optional_string(), std::nullopt);
  EXPECT_EQ(reply::string("y").as_optional_string(), "y");
  EXPECT_EQ(reply::array({reply::integer(1)}).as_array().size(), 1u);
  EXPECT_EQ(reply::error("ERR x").error_message(), "ERR x");
}

TEST(Reply, WrongAccessorThrowsReplyTypeError) {
  EXPECT_THROW((void)reply::string("1").as_integer(), rapyer::reply_type_error);
  EXPECT_THROW((void)reply::integer(1).as_string(), rapyer::reply_type_error);
  EXPECT_THROW((void)reply::nil().as_array(), rapyer::reply_type_error);
  EXPECT_THROW((void)reply::status("OK").error_message(), rapyer::reply_type_error);
  try {
    (void)reply::array({}).as_integer();
    FAIL();
  } catch (const rapyer::reply_type_error& e) {
    EXPECT_NE(std::string(e.what()).find("array"), std::string::npos) << e.what();
  }
}

TEST(Reply, ErrorReplyThrowsServerErrorWithCommandAndMessage) {
  const auto r = reply::error("WRONGTYPE Operation against a key holding the wrong kind of value");
  try {
    r.throw_if_error("LPUSH");
    FAIL();
  } catch (const rapyer::server_error& e) {
    EXPECT_EQ(e.command(), "LPUSH");
    EXPECT_EQ(e.server_message(), "WRONGTYPE Operation against a key holding the wrong kind of value");
  }
  EXPECT_NO_THROW(reply::status("OK").throw_if_error("SET"));
}

TEST(Reply, DebugStringShowsStructure) {
  const auto r = reply::array({reply::string("a"), reply::integer(1), reply::nil()});
  EXPECT_EQ(r.to_debug_string(), R"(["a", 1, nil])");
}

}  // namespace

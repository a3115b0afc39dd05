#include "rapyer/request.hpp"

#include <gtest/gtest.h>

#include <forward_list>
#include <limits>
#include <string>
#include <vector>

#include "rapyer/error.hpp"

namespace {

using rapyer::request;

std::string resp(std::initializer_list<std::string_view> argv) {
  std::string out = "*" + std::to_string(argv.size()) + "\r\n";
  for (auto a : argv) out += "$" + std::to_string(a.size()) + "\r\n" + std::string(a) + "\r\n";
  return out;
}

TEST(Request, EncodesStringsAndNumbers) {
  request req;
  const std::string owned = "value";
  req.push("SET", std::string_view("key"), owned);
  req.push("INCRBY", "n", 42);
  req.push("INCRBY", "n", std::numeric_limits<long long>::min());
  req.push("SET", "u", std::numeric_limits<unsigned long long>::max());
  EXPECT_EQ(req.size(), 4u);
  EXPECT_EQ(req.payload(), resp({"SET", "key", "value"}) + resp({"INCRBY", "n", "42"}) +
                               resp({"INCRBY", "n", "-9223372036854775808"}) +
                               resp({"SET", "u", "18446744073709551615"}));
  EXPECT_EQ(req.command_name(0), "SET");
  EXPECT_EQ(req.command_name(1), "INCRBY");
}

TEST(Request, WritesFloatingPointInShortestRoundTripForm) {
  request req;
  req.push("SET", "a", 0.1).push("SET", "b", 1e308).push("SET", "c", -2.5f).push("SET", "d", 5e-324);
  req.push("SET", "e", 0.30000000000000004);
  EXPECT_EQ(req.payload(), resp({"SET", "a", "0.1"}) + resp({"SET", "b", "1e+308"}) + resp({"SET", "c", "-2.5"}) +
                               resp({"SET", "d", "5e-324"}) + resp({"SET", "e", "0.30000000000000004"}));
}

TEST(Request, ExpandsRangesInPlace) {
  request req;
  const std::vector<std::string> values = {"a", "b", "c"};
  const std::vector<int> numbers = {1, 2};
  req.push("RPUSH", "list", values, numbers);
  EXPECT_EQ(req.payload(), resp({"RPUSH", "list", "a", "b", "c", "1", "2"}));
}

TEST(Request, CountsRangesWithoutASizeForTheHeader) {
  request req;
  const std::forward_list<std::string> values = {"x", "y"};
  req.push("SADD", "set", values);
  EXPECT_EQ(req.payload(), resp({"SADD", "set", "x", "y"}));
}

TEST(Request, KeepsCommandNamesThroughAppend) {
  request first;
  first.push("MULTI");
  request second;
  second.push("HINCRBY", "h", "f", 1).push("EXEC");
  first.append(second).push("PING");
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first.command_name(0), "MULTI");
  EXPECT_EQ(first.command_name(1), "HINCRBY");
  EXPECT_EQ(first.command_name(2), "EXEC");
  EXPECT_EQ(first.command_name(3), "PING");
  EXPECT_EQ(first.payload(), resp({"MULTI"}) + resp({"HINCRBY", "h", "f", "1"}) + resp({"EXEC"}) + resp({"PING"}));
}

TEST(Request, GrowsBeyondItsInlineBuffer) {
  request req;
  const std::string big(100'000, 'v');
  for (int i = 0; i < 5; ++i) req.push("SET", "k" + std::to_string(i), big);
  request moved = std::move(req);
  ASSERT_EQ(moved.size(), 5u);
  EXPECT_EQ(moved.command_name(4), "SET");
  std::string expected;
  for (int i = 0; i < 5; ++i) expected += resp({"SET", "k" + std::to_string(i), big});
  EXPECT_EQ(moved.payload(), expected);
}

TEST(Request, PushArgvWritesTheSameBytesAsPush) {
  request pushed;
  pushed.push("SET", "key", 7);
  const std::vector<rapyer::detail::command_arg> argv = {std::string_view("SET"), std::string_view("key"), 7};
  request from_argv;
  from_argv.push_argv(argv);
  EXPECT_EQ(from_argv.payload(), pushed.payload());
  EXPECT_EQ(from_argv.command_name(0), "SET");
}

TEST(Request, IsBinarySafe) {
  request req;
  const std::string binary("a\0b\r\n*3", 7);
  req.push("SET", binary, binary);
  EXPECT_EQ(req.payload(), resp({"SET", binary, binary}));
}

TEST(Request, RejectsAnEmptyCommand) {
  request req;
  EXPECT_THROW(req.push_argv({}), rapyer::config_error);
}

}  // namespace

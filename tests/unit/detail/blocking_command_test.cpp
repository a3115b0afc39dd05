#include "rapyer/detail/blocking_command.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "rapyer/request.hpp"

namespace {

using rapyer::detail::block_time;
using rapyer::detail::block_time_of;
using std::chrono::milliseconds;

std::optional<block_time> of(std::vector<std::string_view> argv) { return block_time_of(argv); }

block_time for_ms(long long ms) { return block_time{milliseconds(ms), false}; }
constexpr block_time forever{milliseconds(0), true};

TEST(BlockingCommand, ListAndSortedSetPopsTakeSecondsLast) {
  EXPECT_EQ(of({"BLPOP", "a", "b", "5"}), for_ms(5000));
  EXPECT_EQ(of({"brpop", "a", "0.25"}), for_ms(250));
  EXPECT_EQ(of({"BLMOVE", "a", "b", "LEFT", "RIGHT", "1.5"}), for_ms(1500));
  EXPECT_EQ(of({"BRPOPLPUSH", "a", "b", "2"}), for_ms(2000));
  EXPECT_EQ(of({"BZPOPMIN", "z", "0.001"}), for_ms(1));
  EXPECT_EQ(of({"BZPOPMAX", "z", "0"}), forever);
  EXPECT_EQ(of({"BLPOP", "a", "0"}), forever);
}

TEST(BlockingCommand, MultiPopsTakeSecondsFirst) {
  EXPECT_EQ(of({"BLMPOP", "3", "2", "a", "b", "LEFT", "COUNT", "9"}), for_ms(3000));
  EXPECT_EQ(of({"BZMPOP", "0", "1", "z", "MIN"}), forever);
}

TEST(BlockingCommand, StreamsBlockOnlyWithTheBlockOption) {
  EXPECT_EQ(of({"XREAD", "COUNT", "2", "BLOCK", "700", "STREAMS", "s", "$"}), for_ms(700));
  EXPECT_EQ(of({"XREAD", "STREAMS", "BLOCK", "0"}), std::nullopt);  // a stream named BLOCK
  EXPECT_EQ(of({"XREAD", "COUNT", "2", "STREAMS", "s", "0"}), std::nullopt);
  EXPECT_EQ(of({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"}), forever);
}

TEST(BlockingCommand, WaitTakesMilliseconds) {
  EXPECT_EQ(of({"WAIT", "1", "250"}), for_ms(250));
  EXPECT_EQ(of({"WAIT", "1", "0"}), forever);
  EXPECT_EQ(of({"WAITAOF", "1", "0", "100"}), for_ms(100));
}

TEST(BlockingCommand, OtherCommandsAndMalformedTimesDoNotBlock) {
  EXPECT_EQ(of({"GET", "k"}), std::nullopt);
  EXPECT_EQ(of({"LPOP", "k"}), std::nullopt);
  EXPECT_EQ(of({"BLPOP", "a", "soon"}), std::nullopt);
  EXPECT_EQ(of({"BLPOP", "a", "-1"}), std::nullopt);
  EXPECT_EQ(of({"WAIT", "1"}), std::nullopt);
  EXPECT_EQ(of({"BLPOP"}), std::nullopt);
  EXPECT_FALSE(rapyer::detail::may_block("GETEX"));
  EXPECT_TRUE(rapyer::detail::may_block("blpop"));
}

TEST(BlockingCommand, RequestsAddTheirCommandsBlockTimes) {
  rapyer::request req;
  req.push("BLPOP", "a", 1);
  req.push("GET", "k");
  req.push("WAIT", 1, 500);
  EXPECT_EQ(block_time_of(req), for_ms(1500));
  req.push("BRPOP", "b", 0);
  EXPECT_TRUE(block_time_of(req)->forever);
  rapyer::request plain;
  plain.push("GET", "k");
  plain.push("XADD", "s", "*", "f", "BLOCK");
  EXPECT_EQ(block_time_of(plain), std::nullopt);
}

}  // namespace

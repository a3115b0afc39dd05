#include "rapyer/detail/command_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "rapyer/request.hpp"

namespace {

using rapyer::detail::argv_buffer;
using rapyer::detail::command_reader;
using arguments = std::vector<std::string_view>;

arguments as_vector(const argv_buffer& argv) { return {argv.begin(), argv.end()}; }

TEST(CommandReader, ReadsEachCommandsArgumentsInOrder) {
  rapyer::request req;
  req.push("SET", "k\r\nwith crlf", 42);
  req.push("MULTI");
  req.push("BLPOP", "jobs", "");
  command_reader reader(req.payload());
  argv_buffer argv;
  ASSERT_TRUE(reader.next(argv));
  EXPECT_EQ(as_vector(argv), (arguments{"SET", "k\r\nwith crlf", "42"}));
  ASSERT_TRUE(reader.next(argv));
  EXPECT_EQ(as_vector(argv), (arguments{"MULTI"}));
  ASSERT_TRUE(reader.next(argv));
  EXPECT_EQ(as_vector(argv), (arguments{"BLPOP", "jobs", ""}));
  EXPECT_FALSE(reader.next(argv));
  EXPECT_TRUE(argv.empty());
}

TEST(CommandReader, CommandsBeyondTheInlineBufferAreReadWhole) {
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) keys.push_back("key" + std::to_string(i));
  rapyer::request req;
  req.push("DEL", keys);
  command_reader reader(req.payload());
  argv_buffer argv;
  ASSERT_TRUE(reader.next(argv));
  ASSERT_EQ(argv.size(), 41U);
  EXPECT_EQ(argv.front(), "DEL");
  EXPECT_EQ(argv.back(), "key39");
}

TEST(CommandReader, StopsAtBytesThatAreNotACommand) {
  const std::string truncated = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$5\r\nab";
  command_reader reader(truncated);
  argv_buffer argv;
  ASSERT_TRUE(reader.next(argv));
  EXPECT_EQ(as_vector(argv), (arguments{"GET", "k"}));
  EXPECT_FALSE(reader.next(argv));
  EXPECT_FALSE(reader.next(argv));  // and stays at the end

  command_reader not_resp("PING\r\n");
  EXPECT_FALSE(not_resp.next(argv));
}

TEST(CommandReader, SplitCommandsGivesEveryCommand) {
  rapyer::request req;
  req.push("SET", "k\r\nwith crlf", 42);
  req.push("BLPOP", "jobs", 6);
  const auto commands = rapyer::detail::split_commands(req.payload());
  ASSERT_EQ(commands.size(), 2U);
  EXPECT_EQ(commands[0], (arguments{"SET", "k\r\nwith crlf", "42"}));
  EXPECT_EQ(commands[1], (arguments{"BLPOP", "jobs", "6"}));
}

}  // namespace

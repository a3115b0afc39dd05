#include "rapyer/detail/cluster/command_keys.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "captured_reply.hpp"
#include "rapyer/detail/cluster/key_slot.hpp"
#include "rapyer/detail/reply_reader.hpp"
#include "rapyer/error.hpp"
#include "rapyer/request.hpp"

namespace {

using rapyer::reply;
using rapyer::detail::cluster::command_table;
using keys = std::vector<std::string_view>;

reply parse(std::string_view wire) { return rapyer::test::parse_captured(wire); }

// redis-server 7.0.15's answer to COMMAND INFO get mget set eval object xread zunionstore.
constexpr std::string_view captured_command_info =
    "*7\r\n"
    "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n"
    "+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\n"
    "type\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n"
    "$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n"
    "*0\r\n"
    "*10\r\n$4\r\nmget\r\n:-2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:-1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n"
    "+@fast\r\n*1\r\n$26\r\nrequest_policy:multi_shard\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n"
    "$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n"
    "$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\n"
    "keystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
    "*10\r\n$3\r\nset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@string\r\n"
    "+@slow\r\n*0\r\n*1\r\n*8\r\n$5\r\nnotes\r\n$48\r\nRW and ACCESS due to the optional `GET` argument\r\n"
    "$5\r\nflags\r\n*4\r\n+RW\r\n+access\r\n+update\r\n+variable_flags\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\n"
    "type\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n"
    "$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n"
    "*0\r\n"
    "*10\r\n$4\r\neval\r\n:-3\r\n*5\r\n+noscript\r\n+stale\r\n+skip_monitor\r\n+no_mandatory_keys\r\n"
    "+movablekeys\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@slow\r\n+@scripting\r\n*0\r\n*1\r\n*8\r\n$5\r\nnotes\r\n"
    "$78\r\nWe cannot tell how the keys will be used so we assume the worst, RW and UPDATE\r\n$5\r\nflags\r\n"
    "*3\r\n+RW\r\n+access\r\n+update\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\n"
    "spec\r\n*2\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$6\r\nkeynum\r\n$4\r\nspec\r\n"
    "*6\r\n$9\r\nkeynumidx\r\n:0\r\n$8\r\nfirstkey\r\n:1\r\n$7\r\nkeystep\r\n:1\r\n*0\r\n"
    "*10\r\n$6\r\nobject\r\n:-2\r\n*0\r\n:0\r\n:0\r\n:0\r\n*1\r\n+@slow\r\n*0\r\n*0\r\n*5\r\n"
    "*10\r\n$15\r\nobject|idletime\r\n:3\r\n*1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n*3\r\n+@keyspace\r\n"
    "+@read\r\n+@slow\r\n*1\r\n$23\r\nnondeterministic_output\r\n*1\r\n*6\r\n$5\r\nflags\r\n*1\r\n+RO\r\n"
    "$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:2\r\n"
    "$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\n"
    "keystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
    "*10\r\n$11\r\nobject|freq\r\n:3\r\n*1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n*3\r\n+@keyspace\r\n+@read\r\n"
    "+@slow\r\n*1\r\n$23\r\nnondeterministic_output\r\n*1\r\n*6\r\n$5\r\nflags\r\n*1\r\n+RO\r\n$12\r\n"
    "begin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:2\r\n$9\r\n"
    "find_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\n"
    "keystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
    "*10\r\n$11\r\nobject|help\r\n:2\r\n*2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@keyspace\r\n"
    "+@slow\r\n*0\r\n*0\r\n*0\r\n"
    "*10\r\n$15\r\nobject|encoding\r\n:3\r\n*1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n*3\r\n+@keyspace\r\n"
    "+@read\r\n+@slow\r\n*1\r\n$23\r\nnondeterministic_output\r\n*1\r\n*6\r\n$5\r\nflags\r\n*1\r\n+RO\r\n"
    "$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:2\r\n"
    "$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\n"
    "keystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
    "*10\r\n$15\r\nobject|refcount\r\n:3\r\n*1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n*3\r\n+@keyspace\r\n"
    "+@read\r\n+@slow\r\n*1\r\n$23\r\nnondeterministic_output\r\n*1\r\n*6\r\n$5\r\nflags\r\n*1\r\n+RO\r\n"
    "$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:2\r\n"
    "$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\n"
    "keystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
    "*10\r\n$5\r\nxread\r\n:-4\r\n*3\r\n+readonly\r\n+blocking\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n*4\r\n"
    "+@read\r\n+@stream\r\n+@slow\r\n+@blocking\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n"
    "$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$7\r\nkeyword\r\n$4\r\nspec\r\n*4\r\n$7\r\nkeyword\r\n$7\r\n"
    "STREAMS\r\n$9\r\nstartfrom\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n"
    "*6\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:2\r\n*0\r\n"
    "*10\r\n$11\r\nzunionstore\r\n:-4\r\n*3\r\n+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n*3\r\n"
    "+@write\r\n+@sortedset\r\n+@slow\r\n*0\r\n*2\r\n*6\r\n$5\r\nflags\r\n*2\r\n+OW\r\n+update\r\n$12\r\n"
    "begin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\n"
    "find_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\n"
    "keystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\n"
    "begin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:2\r\n$9\r\n"
    "find_keys\r\n*4\r\n$4\r\ntype\r\n$6\r\nkeynum\r\n$4\r\nspec\r\n*6\r\n$9\r\nkeynumidx\r\n:0\r\n$8\r\n"
    "firstkey\r\n:1\r\n$7\r\nkeystep\r\n:1\r\n*0\r\n";

// An entry shaped like Redis 6.2's: [name, arity, flags, first, last, step, categories]. The
// values of each command below are those redis-server 7.0.15 reports for it.
reply entry(std::string name, long long arity, std::vector<std::string> flags, long long first, long long last,
            long long step) {
  std::vector<reply> flag_replies;
  for (auto& flag : flags) flag_replies.push_back(reply::status(std::move(flag)));
  return reply::array({reply::string(std::move(name)), reply::integer(arity), reply::array(std::move(flag_replies)),
                       reply::integer(first), reply::integer(last), reply::integer(step), reply::array({})});
}

// An entry shaped like Redis 7's, with the subcommands in its tenth field.
reply container(std::string name, std::vector<reply> subcommands) {
  auto fields = entry(std::move(name), -2, {}, 0, 0, 0).as_array();
  fields.push_back(reply::array({}));  // tips
  fields.push_back(reply::array({}));  // key specs
  fields.push_back(reply::array(std::move(subcommands)));
  return reply::array(std::move(fields));
}

const command_table& captured() {
  static const auto table = command_table::from_command_reply(parse(captured_command_info));
  return table;
}

const command_table& movable() {
  static const auto table = command_table::from_command_reply(reply::array({
      entry("evalsha", -3, {"noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys"}, 0, 0, 0),
      entry("eval_ro", -3, {"readonly", "noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys"}, 0, 0,
            0),
      entry("fcall", -3, {"noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys"}, 0, 0, 0),
      entry("zunion", -3, {"readonly", "movablekeys"}, 0, 0, 0),
      entry("sintercard", -3, {"readonly", "movablekeys"}, 0, 0, 0),
      entry("lmpop", -4, {"write", "movablekeys"}, 0, 0, 0),
      entry("blmpop", -5, {"write", "blocking", "movablekeys"}, 0, 0, 0),
      entry("bzmpop", -5, {"write", "blocking", "movablekeys"}, 0, 0, 0),
      entry("zdiffstore", -4, {"write", "denyoom", "movablekeys"}, 1, 1, 1),
      entry("xreadgroup", -7, {"write", "blocking", "movablekeys"}, 0, 0, 0),
      entry("migrate", -6, {"write", "movablekeys"}, 3, 3, 1),
      entry("sort", -2, {"write", "denyoom", "movablekeys"}, 1, 1, 1),
      entry("sort_ro", -2, {"readonly", "movablekeys"}, 1, 1, 1),
      entry("georadius", -6, {"write", "denyoom", "movablekeys"}, 1, 1, 1),
      entry("georadiusbymember", -5, {"write", "denyoom", "movablekeys"}, 1, 1, 1),
      entry("del", -2, {"write"}, 1, -1, 1),
      entry("blpop", -3, {"write", "blocking"}, 1, -2, 1),
      entry("mset", -3, {"write", "denyoom"}, 1, -1, 2),
      entry("wait", 3, {"noscript"}, 0, 0, 0),
      entry("ping", -1, {"fast"}, 0, 0, 0),
      container("xinfo", {entry("xinfo|stream", -3, {"readonly"}, 2, 2, 1), entry("xinfo|help", 2, {}, 0, 0, 0)}),
      container("memory", {entry("memory|usage", -3, {"readonly"}, 2, 2, 1), entry("memory|stats", 2, {}, 0, 0, 0)}),
  }));
  return table;
}

// The expected keys of every command below are redis-server 7.0.15's answer to COMMAND GETKEYS
// with the same arguments.
TEST(CommandKeys, FixedPositionsFromTheCapturedReply) {
  EXPECT_EQ(captured().keys_of(keys{"GET", "k"}), keys{"k"});
  EXPECT_EQ(captured().keys_of(keys{"get", "k"}), keys{"k"});
  EXPECT_EQ(captured().keys_of(keys{"MGET", "a", "b", "c"}), (keys{"a", "b", "c"}));
  EXPECT_EQ(captured().keys_of(keys{"SET", "k", "v", "EX", "10"}), keys{"k"});
}

TEST(CommandKeys, LastKeyAndStepCountFromTheEnd) {
  EXPECT_EQ(movable().keys_of(keys{"DEL", "a", "b"}), (keys{"a", "b"}));
  EXPECT_EQ(movable().keys_of(keys{"BLPOP", "a", "b", "0"}), (keys{"a", "b"}));
  EXPECT_EQ(movable().keys_of(keys{"MSET", "a", "1", "b", "2"}), (keys{"a", "b"}));
}

TEST(CommandKeys, ContainerCommandsUseTheSubcommand) {
  EXPECT_EQ(captured().keys_of(keys{"OBJECT", "ENCODING", "k"}), keys{"k"});
  EXPECT_EQ(captured().keys_of(keys{"object", "freq", "k"}), keys{"k"});
  EXPECT_TRUE(captured().keys_of(keys{"OBJECT", "HELP"}).empty());
  EXPECT_TRUE(captured().keys_of(keys{"OBJECT", "NOSUCH", "k"}).empty());
  EXPECT_TRUE(captured().keys_of(keys{"OBJECT"}).empty());
  EXPECT_EQ(movable().keys_of(keys{"XINFO", "STREAM", "s", "FULL"}), keys{"s"});
  EXPECT_EQ(movable().keys_of(keys{"MEMORY", "USAGE", "k", "SAMPLES", "5"}), keys{"k"});
  EXPECT_TRUE(movable().keys_of(keys{"MEMORY", "STATS"}).empty());
  EXPECT_TRUE(captured().known("object|encoding"));
  EXPECT_TRUE(captured().is_readonly("OBJECT|ENCODING"));
}

TEST(CommandKeys, ScriptsAndFunctionsCountTheirKeys) {
  EXPECT_EQ(captured().keys_of(keys{"EVAL", "return 1", "2", "a", "b", "arg"}), (keys{"a", "b"}));
  EXPECT_TRUE(captured().keys_of(keys{"EVAL", "return 1", "0", "arg"}).empty());
  EXPECT_EQ(movable().keys_of(keys{"EVALSHA", "sha", "1", "a", "arg"}), keys{"a"});
  EXPECT_EQ(movable().keys_of(keys{"EVAL_RO", "return 1", "1", "a"}), keys{"a"});
  EXPECT_EQ(movable().keys_of(keys{"FCALL", "f", "2", "a", "b"}), (keys{"a", "b"}));
  // A count the server would reject counts nothing.
  EXPECT_TRUE(movable().keys_of(keys{"FCALL", "f", "5", "a"}).empty());
  EXPECT_TRUE(movable().keys_of(keys{"FCALL", "f", "two", "a"}).empty());
  EXPECT_TRUE(movable().keys_of(keys{"FCALL", "f", "-1", "a"}).empty());
  EXPECT_TRUE(movable().keys_of(keys{"FCALL", "f"}).empty());
}

TEST(CommandKeys, NumkeysAfterTheName) {
  EXPECT_EQ(movable().keys_of(keys{"ZUNION", "2", "a", "b", "WEIGHTS", "1", "2"}), (keys{"a", "b"}));
  EXPECT_EQ(movable().keys_of(keys{"SINTERCARD", "2", "a", "b", "LIMIT", "1"}), (keys{"a", "b"}));
  EXPECT_EQ(movable().keys_of(keys{"LMPOP", "1", "a", "LEFT"}), keys{"a"});
  EXPECT_EQ(movable().keys_of(keys{"BLMPOP", "0.5", "2", "a", "b", "LEFT"}), (keys{"a", "b"}));
  EXPECT_EQ(movable().keys_of(keys{"BZMPOP", "0", "1", "z", "MIN"}), keys{"z"});
}

TEST(CommandKeys, StoreCommandsAddTheirDestination) {
  EXPECT_EQ(captured().keys_of(keys{"ZUNIONSTORE", "d", "2", "a", "b", "AGGREGATE", "SUM"}), (keys{"d", "a", "b"}));
  EXPECT_EQ(movable().keys_of(keys{"ZDIFFSTORE", "d", "1", "a"}), (keys{"d", "a"}));
  EXPECT_EQ(movable().keys_of(keys{"SORT", "list", "BY", "STORE", "LIMIT", "0", "5", "GET", "#", "STORE", "out"}),
            (keys{"list", "out"}));
  EXPECT_EQ(movable().keys_of(keys{"SORT", "list", "ALPHA", "DESC"}), keys{"list"});
  EXPECT_EQ(movable().keys_of(keys{"SORT_RO", "list", "GET", "STORE"}), keys{"list"});
  EXPECT_EQ(movable().keys_of(keys{"GEORADIUS", "g", "15", "37", "200", "km", "STORE", "a", "STOREDIST", "b"}),
            (keys{"g", "a", "b"}));
  EXPECT_EQ(movable().keys_of(keys{"GEORADIUSBYMEMBER", "g", "STORE", "10", "km", "STOREDIST", "d"}), (keys{"g", "d"}));
  EXPECT_EQ(movable().keys_of(keys{"GEORADIUS", "g", "15", "37", "200", "km", "WITHDIST"}), keys{"g"});
}

TEST(CommandKeys, StreamsAreTheFirstHalfAfterStreams) {
  EXPECT_EQ(captured().keys_of(keys{"XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "a", "b", "0", "$"}),
            (keys{"a", "b"}));
  EXPECT_EQ(captured().keys_of(keys{"XREAD", "STREAMS", "STREAMS", "0"}), keys{"STREAMS"});
  EXPECT_EQ(movable().keys_of(keys{"XREADGROUP", "GROUP", "STREAMS", "c", "NOACK", "STREAMS", "s", ">"}), keys{"s"});
  EXPECT_TRUE(captured().keys_of(keys{"XREAD", "COUNT", "2"}).empty());
}

TEST(CommandKeys, MigrateMovesOneKeyOrItsKeysList) {
  EXPECT_EQ(movable().keys_of(keys{"MIGRATE", "h", "7000", "k", "0", "5000"}), keys{"k"});
  EXPECT_EQ(movable().keys_of(keys{"MIGRATE", "h", "7000", "", "0", "5000", "COPY", "AUTH", "KEYS", "KEYS", "a", "b"}),
            (keys{"a", "b"}));
  EXPECT_EQ(movable().keys_of(keys{"MIGRATE", "h", "7000", "", "0", "5000", "AUTH2", "u", "KEYS", "KEYS", "a"}),
            keys{"a"});
}

TEST(CommandKeys, KeylessAndUnknownCommandsHaveNoKeys) {
  EXPECT_TRUE(movable().keys_of(keys{"PING"}).empty());
  EXPECT_TRUE(movable().keys_of(keys{"WAIT", "1", "100"}).empty());
  EXPECT_TRUE(captured().keys_of(keys{"HSET", "h", "f", "v"}).empty());  // not in this table
  EXPECT_TRUE(captured().keys_of(keys{}).empty());
  EXPECT_FALSE(captured().known("HSET"));
  EXPECT_TRUE(captured().known("zUnIoNsToRe"));
}

TEST(CommandKeys, WriteAndReadonlyFlags) {
  EXPECT_TRUE(captured().is_write("set"));
  EXPECT_TRUE(captured().is_write("ZUNIONSTORE"));
  EXPECT_FALSE(captured().is_write("GET"));
  EXPECT_TRUE(captured().is_readonly("get"));
  EXPECT_TRUE(captured().is_readonly("XREAD"));
  EXPECT_FALSE(captured().is_readonly("SET"));
  // Scripts may write unless they are the _RO variants.
  EXPECT_TRUE(captured().is_write("EVAL"));
  EXPECT_FALSE(captured().is_readonly("EVAL"));
  EXPECT_TRUE(movable().is_write("EVALSHA"));
  EXPECT_TRUE(movable().is_write("FCALL"));
  EXPECT_FALSE(movable().is_write("EVAL_RO"));
  EXPECT_TRUE(movable().is_readonly("EVAL_RO"));
  EXPECT_FALSE(captured().is_write("HSET"));
  EXPECT_FALSE(captured().is_readonly("HSET"));
}

TEST(CommandKeys, NilEntriesAreSkippedAndMalformedRepliesRejected) {
  const auto table = command_table::from_command_reply(reply::array({reply::nil(), entry("get", 2, {}, 1, 1, 1)}));
  EXPECT_TRUE(table.known("GET"));
  EXPECT_THROW(command_table::from_command_reply(reply::error("ERR unknown command")), rapyer::protocol_error);
  EXPECT_THROW(command_table::from_command_reply(reply::array({reply::array({reply::string("get")})})),
               rapyer::protocol_error);
  EXPECT_THROW(command_table::from_command_reply(
                   reply::array({reply::array({reply::string("get"), reply::integer(2), reply::array({}),
                                               reply::string("1"), reply::integer(1), reply::integer(1)})})),
               rapyer::protocol_error);
}

TEST(CommandKeys, SlotOfACommandsKeys) {
  using rapyer::detail::cluster::slot_of;
  EXPECT_EQ(slot_of(keys{"GET", "foo"}, captured()), 12182);  // CLUSTER KEYSLOT foo
  EXPECT_EQ(slot_of(keys{"MGET", "{user1000}.following", "{user1000}.followers"}, captured()), 3443);
  EXPECT_EQ(slot_of(keys{"PING"}, movable()), std::nullopt);
  EXPECT_EQ(slot_of(keys{"EVAL", "return 1", "0"}, captured()), std::nullopt);
  try {
    slot_of(keys{"MGET", "foo", "k"}, captured());
    ADD_FAILURE() << "no usage_error";
  } catch (const rapyer::usage_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("MGET"), std::string::npos) << message;
    EXPECT_NE(message.find("foo (slot 12182), k (slot 7629)"), std::string::npos) << message;
  }
}

TEST(CommandKeys, SingleSlotRequestsAreReadFromTheirBytes) {
  using rapyer::detail::cluster::single_slot;
  rapyer::request model_read;  // as a model's MULTI block: every key in its hash tag's slot
  model_read.push("MULTI").push("GET", "{user1000}.following").push("MGET", "{user1000}.a", "{user1000}.b");
  model_read.push("EXEC");
  const auto one = single_slot(model_read.payload(), captured());
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->slot, 3443);

  rapyer::request keyless;
  keyless.push("PING").push("MULTI").push("EXEC");
  const auto none = single_slot(keyless.payload(), captured());
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->slot, std::nullopt);

  rapyer::request two_slots;
  two_slots.push("GET", "foo").push("GET", "k");
  EXPECT_FALSE(single_slot(two_slots.payload(), captured()).has_value());

  rapyer::request watched;  // WATCH needs the general path
  watched.push("WATCH", "foo").push("GET", "foo");
  EXPECT_FALSE(single_slot(watched.payload(), captured()).has_value());

  rapyer::request across;  // one command across slots is refused, as by slot_of
  across.push("MGET", "foo", "k");
  EXPECT_THROW((void)single_slot(across.payload(), captured()), rapyer::usage_error);
}

}  // namespace

#include "rapyer/detail/cluster/batch_split.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "rapyer/detail/blocking_command.hpp"
#include "rapyer/error.hpp"

// Readable failures: gtest prints these through ADL.
namespace rapyer::detail::cluster {

void PrintTo(const batch_unit& unit, std::ostream* out) {
  *out << "{slot " << (unit.slot ? std::to_string(*unit.slot) : "none") << (unit.transaction ? ", transaction" : "")
       << ", commands " << testing::PrintToString(unit.commands) << "}";
}

void PrintTo(const batch_part& part, std::ostream* out) {
  *out << "{node " << part.node << ", units " << testing::PrintToString(part.units) << ", commands "
       << testing::PrintToString(part.commands) << "}";
}

void PrintTo(const redirected_command& redirected, std::ostream* out) {
  *out << "{command " << redirected.command << ", " << redirected.error_message << " -> slot "
       << redirected.redirect.slot << " at " << redirected.redirect.target.endpoint() << "}";
}

}  // namespace rapyer::detail::cluster

namespace {

using rapyer::reply;
using rapyer::detail::cluster::batch_part;
using rapyer::detail::cluster::batch_unit;
using rapyer::detail::cluster::command_table;
using rapyer::detail::cluster::plan_units;
using rapyer::detail::cluster::redirect_kind;
using rapyer::detail::cluster::redirected_command;
using rapyer::detail::cluster::redirection;
using commands = std::vector<std::vector<std::string_view>>;

// Slots as CLUSTER KEYSLOT answered: foo 12182, {foo}a 12182, k 7629, {k}x 7629, user:1000 1649.
constexpr std::uint16_t foo_slot = 12182;
constexpr std::uint16_t k_slot = 7629;
constexpr std::uint16_t user_slot = 1649;

reply entry(std::string name, long long arity, long long first, long long last) {
  return reply::array({reply::string(std::move(name)), reply::integer(arity), reply::array({}), reply::integer(first),
                       reply::integer(last), reply::integer(first > 0 ? 1 : 0)});
}

// Arity and key positions as redis-server 7.0.15 reports them.
const command_table& table() {
  static const auto t = command_table::from_command_reply(reply::array({
      entry("get", 2, 1, 1),
      entry("set", -3, 1, 1),
      entry("incr", 2, 1, 1),
      entry("mget", -2, 1, -1),
      entry("watch", -2, 1, -1),
      entry("wait", 3, 0, 0),
      entry("ping", -1, 0, 0),
      entry("publish", -3, 0, 0),
      entry("multi", 1, 0, 0),
      entry("exec", 1, 0, 0),
      entry("discard", 1, 0, 0),
  }));
  return t;
}

std::vector<batch_unit> plan(const commands& request) { return plan_units(request, table()); }

std::string usage_error_of(const commands& request) {
  try {
    plan(request);
  } catch (const rapyer::usage_error& e) {
    return e.what();
  }
  return "no usage_error";
}

TEST(BatchSplit, ConsecutiveSameSlotCommandsShareAUnit) {
  EXPECT_EQ(plan({{"SET", "foo", "1"}, {"GET", "{foo}a"}, {"SET", "k", "v"}, {"GET", "foo"}}),
            (std::vector<batch_unit>{{foo_slot, {0, 1}}, {k_slot, {2}}, {foo_slot, {3}}}));
}

TEST(BatchSplit, KeylessCommandsGoWithTheCommandBefore) {
  EXPECT_EQ(plan({{"SET", "k", "v"}, {"WAIT", "1", "100"}, {"SET", "foo", "1"}, {"PUBLISH", "c", "m"}}),
            (std::vector<batch_unit>{{k_slot, {0, 1}}, {foo_slot, {2, 3}}}));
}

TEST(BatchSplit, LeadingKeylessCommandsJoinTheFirstKeyedUnit) {
  EXPECT_EQ(plan({{"PING"}, {"PING"}, {"GET", "k"}, {"GET", "foo"}}),
            (std::vector<batch_unit>{{k_slot, {0, 1, 2}}, {foo_slot, {3}}}));
}

TEST(BatchSplit, AKeylessRequestIsOneUnitWithoutSlot) {
  EXPECT_EQ(plan({{"PING"}, {"WAIT", "1", "0"}}), (std::vector<batch_unit>{{std::nullopt, {0, 1}}}));
  EXPECT_EQ(plan({{"PING"}, {"MULTI"}, {"PING"}, {"EXEC"}}), (std::vector<batch_unit>{{std::nullopt, {0, 1, 2, 3}}}));
  EXPECT_EQ(plan({{"MULTI"}, {"PING"}, {"EXEC"}}), (std::vector<batch_unit>{{std::nullopt, {0, 1, 2}, true}}));
  EXPECT_TRUE(plan({}).empty());
}

TEST(BatchSplit, ATransactionIsOneUnitOfItsOwn) {
  EXPECT_EQ(plan({{"SET", "k", "1"},
                  {"MULTI"},
                  {"SET", "k", "2"},
                  {"INCR", "{k}x"},
                  {"EXEC"},
                  {"WAIT", "1", "0"},
                  {"GET", "k"}}),
            (std::vector<batch_unit>{{k_slot, {0}}, {k_slot, {1, 2, 3, 4}, true}, {k_slot, {5, 6}}}));
  EXPECT_EQ(plan({{"multi"}, {"SET", "foo", "1"}, {"discard"}, {"GET", "user:1000"}}),
            (std::vector<batch_unit>{{foo_slot, {0, 1, 2}, true}, {user_slot, {3}}}));
}

TEST(BatchSplit, AKeylessTransactionTakesItsNeighboursSlot) {
  EXPECT_EQ(plan({{"GET", "foo"}, {"MULTI"}, {"PING"}, {"EXEC"}}),
            (std::vector<batch_unit>{{foo_slot, {0}}, {foo_slot, {1, 2, 3}, true}}));
  EXPECT_EQ(plan({{"MULTI"}, {"PING"}, {"EXEC"}, {"GET", "k"}}),
            (std::vector<batch_unit>{{k_slot, {0, 1, 2}, true}, {k_slot, {3}}}));
}

TEST(BatchSplit, TransactionsAcrossSlotsAreRefusedNamingTheKeys) {
  const auto message = usage_error_of({{"GET", "k"}, {"MULTI"}, {"SET", "foo", "1"}, {"SET", "k", "1"}, {"EXEC"}});
  EXPECT_NE(message.find("foo (slot 12182), k (slot 7629)"), std::string::npos) << message;
  EXPECT_NE(usage_error_of({{"MULTI"}, {"MGET", "foo", "k"}, {"EXEC"}}).find("foo (slot 12182), k (slot 7629)"),
            std::string::npos);
  EXPECT_NE(usage_error_of({{"MGET", "foo", "k"}}).find("MGET"), std::string::npos);
}

TEST(BatchSplit, WatchAndUnfinishedTransactionsAreRefused) {
  EXPECT_NE(usage_error_of({{"WATCH", "k"}, {"MULTI"}, {"SET", "k", "1"}, {"EXEC"}}).find("WATCH"), std::string::npos);
  EXPECT_NE(usage_error_of({{"MULTI"}, {"SET", "k", "1"}}).find("MULTI without EXEC"), std::string::npos);
}

// Three primaries as redis-cli --cluster create splits the slots.
std::size_t node_of(std::optional<std::uint16_t> slot) {
  if (!slot || *slot <= 5460) return 0;
  return *slot <= 10922 ? 1 : 2;
}

TEST(BatchSplit, PartsGroupUnitsPerNodeInRequestOrder) {
  const commands request{{"SET", "foo", "1"}, {"SET", "k", "v"}, {"SET", "user:1000", "x"}, {"GET", "foo"}, {"MULTI"},
                         {"INCR", "k"},       {"EXEC"}};
  const auto units = plan(request);
  ASSERT_EQ(units.size(), 5U);
  EXPECT_EQ(rapyer::detail::cluster::group_by_node(units, node_of),
            (std::vector<batch_part>{{2, {0, 3}, {0, 3}}, {1, {1, 4}, {1, 4, 5, 6}}, {0, {2}, {2}}}));
}

TEST(BatchSplit, PartRequestsCarryTheirCommandsInOrder) {
  rapyer::request original;
  original.push("SET", "foo", "1");
  original.push("SET", "k", "a\r\nb");
  original.push("GET", "foo");
  const auto split = rapyer::detail::split_commands(original.payload());
  const auto part = rapyer::detail::cluster::build_part_request(split, {2, 1});
  rapyer::request expected;
  expected.push("GET", "foo");
  expected.push("SET", "k", "a\r\nb");
  EXPECT_EQ(part.payload(), expected.payload());
  EXPECT_EQ(part.size(), 2U);
  EXPECT_EQ(part.command_name(1), "SET");
}

TEST(BatchSplit, RepliesMergeBackIntoRequestOrder) {
  const std::vector<batch_part> parts{{2, {0, 3}, {0, 3}}, {1, {1}, {1, 4}}, {0, {2}, {2}}};
  std::vector<std::vector<reply>> replies{
      {reply::string("a"), reply::string("d")}, {reply::string("b"), reply::integer(5)}, {reply::status("OK")}};
  EXPECT_EQ(rapyer::detail::cluster::merge_replies(5, parts, std::move(replies)),
            (std::vector<reply>{reply::string("a"), reply::string("b"), reply::status("OK"), reply::string("d"),
                                reply::integer(5)}));
  EXPECT_THROW(rapyer::detail::cluster::merge_replies(5, parts, {{reply::nil()}, {}, {}}), rapyer::protocol_error);
  EXPECT_THROW(rapyer::detail::cluster::merge_replies(5, parts, {}), rapyer::protocol_error);
}

std::vector<redirected_command> redirected(const std::vector<batch_unit>& units, const batch_part& part,
                                           const std::vector<reply>& replies) {
  return rapyer::detail::cluster::redirected_commands(units, part, replies, "10.0.0.1");
}

// The error replies below are as redis-server 7.0.15 sent them.
TEST(BatchSplit, OnlyRedirectedCommandsAreSentAgain) {
  const std::vector<batch_unit> units{{k_slot, {0, 1, 2}}, {foo_slot, {3}}};
  const batch_part part{0, {0, 1}, {0, 1, 2, 3}};
  const std::vector<reply> replies{reply::error("MOVED 7629 127.0.0.1:27312"), reply::integer(0),
                                   reply::error("WRONGTYPE Operation against a key holding the wrong kind of value"),
                                   reply::error("ASK 12182 127.0.0.1:27311")};
  EXPECT_EQ(redirected(units, part, replies),
            (std::vector<redirected_command>{
                {0, {redirect_kind::moved, 7629, {"127.0.0.1", 27312}}, "MOVED 7629 127.0.0.1:27312"},
                {3, {redirect_kind::ask, 12182, {"127.0.0.1", 27311}}, "ASK 12182 127.0.0.1:27311"}}));
  EXPECT_TRUE(redirected(units, part, {reply::status("OK"), reply::integer(0), reply::nil(), reply::nil()}).empty());
}

TEST(BatchSplit, AnAbortedRedirectedTransactionIsSentAgainWhole) {
  // Units of a part in the order GET k; MULTI, SET k v, SET {k}x x, EXEC; and their request indices.
  const std::vector<batch_unit> units{{k_slot, {4}}, {k_slot, {0, 1, 2, 3}, true}};
  const batch_part part{1, {1, 0}, {0, 1, 2, 3, 4}};
  const auto execabort = reply::error("EXECABORT Transaction discarded because of previous errors.");
  const std::vector<reply> moved{reply::status("OK"), reply::error("MOVED 7629 :27312"), reply::status("QUEUED"),
                                 execabort, reply::string("v")};
  const redirection to_27312{redirect_kind::moved, 7629, {"10.0.0.1", 27312}};
  EXPECT_EQ(redirected(units, part, moved), (std::vector<redirected_command>{{0, to_27312, "MOVED 7629 :27312"},
                                                                             {1, to_27312, "MOVED 7629 :27312"},
                                                                             {2, to_27312, "MOVED 7629 :27312"},
                                                                             {3, to_27312, "MOVED 7629 :27312"}}));
  const std::vector<reply> try_again{reply::status("OK"),
                                     reply::error("TRYAGAIN Multiple keys request during rehashing of slot"),
                                     reply::status("QUEUED"), execabort, reply::nil()};
  EXPECT_EQ(redirected(units, part, try_again).size(), 4U);
  EXPECT_EQ(redirected(units, part, try_again)[0].redirect.kind, redirect_kind::try_again);
}

TEST(BatchSplit, TransactionsThatRanOrFailedOtherwiseAreNotSentAgain) {
  const std::vector<batch_unit> units{{k_slot, {0, 1, 2}, true}};
  const batch_part part{0, {0}, {0, 1, 2}};
  EXPECT_TRUE(
      redirected(units, part, {reply::status("OK"), reply::status("QUEUED"), reply::array({reply::status("OK")})})
          .empty());
  EXPECT_TRUE(redirected(units, part,
                         {reply::status("OK"), reply::error("ERR wrong number of arguments for 'set' command"),
                          reply::error("EXECABORT Transaction discarded because of previous errors.")})
                  .empty());
  EXPECT_THROW(redirected(units, part, {reply::status("OK")}), rapyer::protocol_error);
}

}  // namespace

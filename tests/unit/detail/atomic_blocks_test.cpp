#include "rapyer/detail/atomic_blocks.hpp"

#include <gtest/gtest.h>

#include "rapyer/detail/cluster/key_slot.hpp"
#include "rapyer/error.hpp"

namespace rapyer::detail {
namespace {

// Keys whose slots are known: "{a}…" share one slot, "{b}…" another.
const std::vector<std::string> keys = {"{a}1", "{b}1", "{a}2", "{b}2", "{c}1"};

std::vector<reply> exec_replies(const request& req, const std::vector<std::vector<reply>>& blocks) {
  // What a server answers: +OK for MULTI, +QUEUED for each queued command, the array for EXEC.
  std::vector<reply> replies;
  std::size_t block = 0;
  for (std::size_t i = 0; i < req.size(); ++i) {
    const std::string name = req.command_name(i);
    if (name == "MULTI") {
      replies.push_back(reply::status("OK"));
    } else if (name == "EXEC") {
      replies.push_back(reply::array(blocks.at(block++)));
    } else {
      replies.push_back(reply::status("QUEUED"));
    }
  }
  return replies;
}

TEST(AtomicBlocks, StandaloneFramesTheWholeBatchInOneBlock) {
  atomic_blocks blocks(false, keys);
  request req;
  std::vector<std::size_t> seen;
  blocks.append_to(req, [&](request& block, std::span<const std::size_t> members) {
    for (const std::size_t i : members) {
      block.push("GET", keys[i]);
      seen.push_back(i);
    }
  });
  EXPECT_EQ(seen, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  ASSERT_EQ(req.size(), keys.size() + 2);
  EXPECT_EQ(req.command_name(0), "MULTI");
  EXPECT_EQ(req.command_name(req.size() - 1), "EXEC");
  std::vector<reply> values;
  for (std::size_t i = 0; i < keys.size(); ++i) values.push_back(reply::integer(static_cast<long long>(i) * 10));
  const auto replies = exec_replies(req, {values});
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto [results, rank] = blocks.results_of(replies, i);
    EXPECT_EQ(results->at(rank).as_integer(), static_cast<long long>(i) * 10);
  }
}

TEST(AtomicBlocks, ClusterFramesOneBlockPerSlotAndFindsEachKeysResult) {
  ASSERT_EQ(cluster::key_slot(keys[0]), cluster::key_slot(keys[2]));
  ASSERT_NE(cluster::key_slot(keys[0]), cluster::key_slot(keys[1]));
  atomic_blocks blocks(true, keys);
  request req;
  std::vector<std::vector<std::size_t>> groups;
  blocks.append_to(req, [&](request& block, std::span<const std::size_t> members) {
    groups.emplace_back(members.begin(), members.end());
    for (const std::size_t i : members) block.push("GET", keys[i]);
  });
  EXPECT_EQ(groups, (std::vector<std::vector<std::size_t>>{{0, 2}, {1, 3}, {4}}));
  EXPECT_EQ(req.size(), keys.size() + 2 * groups.size());
  const auto replies = exec_replies(
      req,
      {{reply::string("a1"), reply::string("a2")}, {reply::string("b1"), reply::string("b2")}, {reply::string("c1")}});
  const std::vector<std::string> expected = {"a1", "b1", "a2", "b2", "c1"};
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto [results, rank] = blocks.results_of(replies, i);
    EXPECT_EQ(results->at(rank).as_string(), expected[i]) << keys[i];
  }
  EXPECT_EQ(blocks.all_results(replies).size(), 3U);
}

TEST(AtomicBlocks, AnAbortedBlockThrowsItsError) {
  atomic_blocks blocks(true, {"{a}1", "{b}1"});
  request req;
  blocks.append_to(req, [&](request& block, std::span<const std::size_t> members) {
    for (const std::size_t i : members) block.push("GET", i == 0 ? "{a}1" : "{b}1");
  });
  auto replies = exec_replies(req, {{reply::string("x")}, {reply::string("y")}});
  replies.back() = reply::error("EXECABORT Transaction discarded because of previous errors.");
  EXPECT_EQ(blocks.results_of(replies, 0).first->at(0).as_string(), "x");
  EXPECT_THROW((void)blocks.results_of(replies, 1), server_error);
  EXPECT_THROW((void)blocks.all_results(replies), server_error);
}

TEST(AtomicBlocks, OneSlotIsRequiredOnlyAcrossSlots) {
  EXPECT_NO_THROW(require_one_slot({"{a}1", "{a}2", "{a}1:tags"}, "atransaction"));
  EXPECT_NO_THROW(require_one_slot({}, "atransaction"));
  try {
    require_one_slot({"{a}1", "{b}1"}, "atransaction");
    FAIL() << "keys in two slots were accepted";
  } catch (const usage_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("atransaction"), std::string::npos) << message;
    EXPECT_NE(message.find("{a}1 (slot " + std::to_string(cluster::key_slot("{a}1")) + ")"), std::string::npos)
        << message;
    EXPECT_NE(message.find("{b}1"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace rapyer::detail

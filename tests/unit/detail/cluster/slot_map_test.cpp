#include "rapyer/detail/cluster/slot_map.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "captured_reply.hpp"
#include "rapyer/detail/cluster/key_slot.hpp"
#include "rapyer/detail/reply_reader.hpp"
#include "rapyer/error.hpp"

namespace {

using rapyer::reply;
using rapyer::detail::cluster::node_address;
using rapyer::detail::cluster::slot_map;

reply parse(std::string_view wire) { return rapyer::test::parse_captured(wire); }

// CLUSTER SLOTS as redis-server 7.0.15 answered it in a cluster of three primaries with one replica
// each, after slot 12182 had migrated from 27313 to 27311 and slot 7629 had been deleted.
constexpr std::string_view captured_cluster_slots =
    "*6\r\n"
    "*4\r\n:0\r\n:5460\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:27311\r\n$40\r\n93226e798103a01345af9b442e977735b32ab62e\r\n*0\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:27314\r\n$40\r\n3c23b5ff472f0ca450c46436b50f139b990d4cbe\r\n*0\r\n"
    "*4\r\n:5461\r\n:7628\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:27312\r\n$40\r\n8bcf673d99d5fb796255bb3263acac07fbab80c7\r\n*0\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:27315\r\n$40\r\n686cc3b877881adfadd8b345fc6cdad1e9b4346c\r\n*0\r\n"
    "*4\r\n:7630\r\n:10922\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:27312\r\n$40\r\n8bcf673d99d5fb796255bb3263acac07fbab80c7\r\n*0\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:27315\r\n$40\r\n686cc3b877881adfadd8b345fc6cdad1e9b4346c\r\n*0\r\n"
    "*4\r\n:10923\r\n:12181\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:27313\r\n$40\r\n39e2c1217ad97916c38e66338d6345e3466480d3\r\n*0\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:27316\r\n$40\r\n717edbc6fb3b9ff4e1fe6ed4ce786dafbf61bc36\r\n*0\r\n"
    "*4\r\n:12182\r\n:12182\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:27311\r\n$40\r\n93226e798103a01345af9b442e977735b32ab62e\r\n*0\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:27314\r\n$40\r\n3c23b5ff472f0ca450c46436b50f139b990d4cbe\r\n*0\r\n"
    "*4\r\n:12183\r\n:16383\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:27313\r\n$40\r\n39e2c1217ad97916c38e66338d6345e3466480d3\r\n*0\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:27316\r\n$40\r\n717edbc6fb3b9ff4e1fe6ed4ce786dafbf61bc36\r\n*0\r\n";

node_address local(std::uint16_t port) { return {"127.0.0.1", port}; }

reply node(std::string host, long long port) {
  return reply::array({reply::string(std::move(host)), reply::integer(port), reply::string("id")});
}

reply range(long long start, long long end, std::vector<reply> nodes) {
  std::vector<reply> fields{reply::integer(start), reply::integer(end)};
  for (auto& n : nodes) fields.push_back(std::move(n));
  return reply::array(std::move(fields));
}

// Three primaries without replicas covering every slot, as `redis-cli --cluster create` assigns them.
reply three_primaries() {
  return reply::array({range(0, 5460, {node("127.0.0.1", 7001)}), range(5461, 10922, {node("127.0.0.1", 7002)}),
                       range(10923, 16383, {node("127.0.0.1", 7003)})});
}

TEST(SlotMap, ReadsACapturedClusterSlotsReply) {
  const auto map = slot_map::from_cluster_slots(parse(captured_cluster_slots), "127.0.0.1");
  ASSERT_NE(map.shard_of(0), nullptr);
  EXPECT_EQ(map.shard_of(0)->primary, local(27311));
  EXPECT_EQ(map.shard_of(0)->replicas, std::vector{local(27314)});
  EXPECT_EQ(map.shard_of(5460)->primary, local(27311));
  EXPECT_EQ(map.shard_of(5461)->primary, local(27312));
  EXPECT_EQ(map.shard_of(10922)->replicas, std::vector{local(27315)});
  EXPECT_EQ(map.shard_of(12181)->primary, local(27313));
  EXPECT_EQ(map.shard_of(rapyer::detail::cluster::key_slot("foo"))->primary, local(27311));  // slot 12182
  EXPECT_EQ(map.shard_of(12183)->primary, local(27313));
  EXPECT_EQ(map.shard_of(16383)->replicas, std::vector{local(27316)});
  EXPECT_EQ(map.shard_of(7629), nullptr);
  EXPECT_EQ(map.shard_of(16384), nullptr);
  EXPECT_FALSE(map.covers_all());
  EXPECT_FALSE(map.empty());
  EXPECT_EQ(map.primaries(), (std::vector{local(27311), local(27312), local(27313)}));
  EXPECT_EQ(map.nodes(),
            (std::vector{local(27311), local(27312), local(27313), local(27314), local(27315), local(27316)}));
}

TEST(SlotMap, UnknownHostsAreTheReplyingNode) {
  const auto r = reply::array({range(0, 16383, {node("?", 7001), node("", 7004)})});
  const auto map = slot_map::from_cluster_slots(r, "10.0.0.5");
  EXPECT_EQ(map.shard_of(42)->primary, (node_address{"10.0.0.5", 7001}));
  EXPECT_EQ(map.shard_of(42)->replicas, (std::vector<node_address>{{"10.0.0.5", 7004}}));
  EXPECT_TRUE(map.covers_all());
}

TEST(SlotMap, NodesOfOlderServersHaveOnlyHostAndPort) {
  const auto r = reply::array({range(0, 16383, {reply::array({reply::string("::1"), reply::integer(7001)})})});
  const auto map = slot_map::from_cluster_slots(r, "ignored");
  EXPECT_EQ(map.shard_of(16383)->primary, (node_address{"::1", 7001}));
  EXPECT_EQ(map.shard_of(16383)->primary.endpoint(), "::1:7001");
}

TEST(SlotMap, MalformedRepliesAreProtocolErrors) {
  const auto rejects = [](const reply& r) {
    EXPECT_THROW(slot_map::from_cluster_slots(r, "h"), rapyer::protocol_error) << r.to_debug_string();
  };
  rejects(reply::error("ERR This instance has cluster support disabled"));
  rejects(reply::array({reply::integer(0)}));
  rejects(reply::array({range(0, 10, {})}));
  rejects(reply::array({range(10, 9, {node("h", 1)})}));
  rejects(reply::array({range(0, 16384, {node("h", 1)})}));
  rejects(reply::array({range(-1, 3, {node("h", 1)})}));
  rejects(reply::array({range(0, 3, {node("h", 0)})}));
  rejects(reply::array({range(0, 3, {node("h", 65536)})}));
  rejects(reply::array({range(0, 3, {reply::array({reply::string("h"), reply::string("7001")})})}));
  rejects(reply::array({range(0, 3, {reply::array({reply::string("h")})})}));
  rejects(reply::array({reply::array({reply::string("0"), reply::integer(3), node("h", 1)})}));
}

TEST(SlotMap, EmptyUntilSlotsAreKnown) {
  const slot_map map;
  EXPECT_TRUE(map.empty());
  EXPECT_FALSE(map.covers_all());
  EXPECT_EQ(map.shard_of(0), nullptr);
  EXPECT_TRUE(map.primaries().empty());
  EXPECT_TRUE(slot_map::from_cluster_slots(reply::array({}), "h").empty());
}

TEST(SlotMap, MovedReassignsOneSlot) {
  auto map = slot_map::from_cluster_slots(three_primaries(), "h");
  ASSERT_TRUE(map.covers_all());
  map.assign(100, {"127.0.0.1", 7002});
  EXPECT_EQ(map.shard_of(100)->primary, (node_address{"127.0.0.1", 7002}));
  EXPECT_EQ(map.shard_of(99)->primary, (node_address{"127.0.0.1", 7001}));
  EXPECT_EQ(map.primaries().size(), 3U);
  // A node new to the map becomes a shard of its own, replicas unknown.
  map.assign(101, {"127.0.0.1", 7009});
  EXPECT_EQ(map.shard_of(101)->primary, (node_address{"127.0.0.1", 7009}));
  EXPECT_TRUE(map.shard_of(101)->replicas.empty());
  EXPECT_EQ(map.primaries().back(), (node_address{"127.0.0.1", 7009}));
  EXPECT_TRUE(map.covers_all());
}

TEST(SlotMap, MovedFillsUncoveredSlots) {
  auto map = slot_map::from_cluster_slots(parse(captured_cluster_slots), "127.0.0.1");
  map.assign(7629, local(27312));
  EXPECT_TRUE(map.covers_all());
  EXPECT_EQ(map.shard_of(7629)->replicas, std::vector{local(27315)});
}

TEST(SlotMap, APrimaryThatLostEverySlotIsNoLongerListed) {
  // A failover: every slot of 7001 moves to its former replica 7004.
  auto map = slot_map::from_cluster_slots(
      reply::array({range(0, 8191, {node("h", 7001), node("h", 7004)}), range(8192, 16383, {node("h", 7002)})}), "h");
  for (std::uint16_t slot = 0; slot <= 8191; ++slot) map.assign(slot, {"h", 7004});
  EXPECT_EQ(map.primaries(), (std::vector<node_address>{{"h", 7002}, {"h", 7004}}));
  EXPECT_EQ(map.nodes(), (std::vector<node_address>{{"h", 7002}, {"h", 7004}}));
  // The abandoned shard is reused for the next new node.
  map.assign(0, {"h", 7005});
  EXPECT_EQ(map.shard_of(0)->primary, (node_address{"h", 7005}));
  EXPECT_EQ(map.shard_of(1)->primary, (node_address{"h", 7004}));
  EXPECT_EQ(map.primaries().size(), 3U);
}

TEST(SlotMap, EndpointIsHostColonPort) { EXPECT_EQ(local(6380).endpoint(), "127.0.0.1:6380"); }

}  // namespace

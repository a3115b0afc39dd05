#include "rapyer/detail/cluster/slot_map.hpp"

#include <algorithm>
#include <limits>

#include "rapyer/detail/cluster/key_slot.hpp"
#include "rapyer/error.hpp"

namespace rapyer::detail::cluster {
namespace {

[[noreturn]] void malformed(const std::string& what) { throw protocol_error("CLUSTER SLOTS reply: " + what); }

long long integer_at(const reply& r, const char* what) {
  if (!r.is_integer()) malformed(std::string(what) + " is a " + std::string(to_string(r.type())) + ", not an integer");
  return r.as_integer();
}

node_address node_from(const reply& r, std::string_view replying_host) {
  if (!r.is_array() || r.as_array().size() < 2 || !r.as_array()[0].is_string()) {
    malformed("node is not [host, port, ...]: " + r.to_debug_string());
  }
  const auto& host = r.as_array()[0].as_string();
  const auto port = integer_at(r.as_array()[1], "port");
  if (port <= 0 || port > std::numeric_limits<std::uint16_t>::max()) malformed("port " + std::to_string(port));
  // Redis 7 announces "?" for a node whose endpoint it does not know, and an empty host means
  // "the address you reached me at".
  const bool unknown = host.empty() || host == "?";
  return {unknown ? std::string(replying_host) : host, static_cast<std::uint16_t>(port)};
}

void add_distinct(std::vector<node_address>& nodes, node_address node) {
  if (std::ranges::find(nodes, node) == nodes.end()) nodes.push_back(std::move(node));
}

std::vector<node_address> sorted_distinct(std::vector<node_address> nodes) {
  std::ranges::sort(nodes);
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  return nodes;
}

}  // namespace

std::string node_address::endpoint() const { return host + ":" + std::to_string(port); }

slot_map::slot_map() : shard_by_slot_(slot_count, no_shard) {}

slot_map slot_map::from_cluster_slots(const reply& cluster_slots, std::string_view replying_host) {
  if (!cluster_slots.is_array()) malformed("not an array: " + cluster_slots.to_debug_string());
  slot_map map;
  for (const auto& range : cluster_slots.as_array()) {
    if (!range.is_array() || range.as_array().size() < 3) {
      malformed("range is not [start, end, primary, ...]: " + range.to_debug_string());
    }
    const auto& fields = range.as_array();
    const auto start = integer_at(fields[0], "start slot");
    const auto end = integer_at(fields[1], "end slot");
    if (start < 0 || end < start || end >= slot_count) {
      malformed("slot range " + std::to_string(start) + "-" + std::to_string(end));
    }
    const auto index = map.shard_index(node_from(fields[2], replying_host));
    for (std::size_t i = 3; i < fields.size(); ++i) {
      add_distinct(map.shards_[index].replicas, node_from(fields[i], replying_host));
    }
    for (auto slot = start; slot <= end; ++slot) {
      auto& owner = map.shard_by_slot_[static_cast<std::size_t>(slot)];
      if (owner == no_shard) ++map.served_slots_;
      owner = index;
    }
  }
  return map;
}

const shard* slot_map::shard_of(std::uint16_t slot) const noexcept {
  if (slot >= slot_count || shard_by_slot_[slot] == no_shard) return nullptr;
  return &shards_[shard_by_slot_[slot]];
}

void slot_map::assign(std::uint16_t slot, const node_address& primary) {
  if (slot >= slot_count) throw usage_error("slot " + std::to_string(slot) + " is not a cluster slot");
  auto& owner = shard_by_slot_[slot];
  if (owner == no_shard) ++served_slots_;
  owner = shard_index(primary);
}

std::vector<node_address> slot_map::primaries() const {
  std::vector<node_address> result;
  for (const shard* s : serving_shards()) result.push_back(s->primary);
  return sorted_distinct(std::move(result));
}

std::vector<node_address> slot_map::nodes() const {
  std::vector<node_address> result;
  for (const shard* s : serving_shards()) {
    result.push_back(s->primary);
    result.insert(result.end(), s->replicas.begin(), s->replicas.end());
  }
  return sorted_distinct(std::move(result));
}

bool slot_map::covers_all() const noexcept { return served_slots_ == slot_count; }

bool slot_map::empty() const noexcept { return served_slots_ == 0; }

std::uint16_t slot_map::shard_index(const node_address& primary) {
  const auto found = std::ranges::find(shards_, primary, &shard::primary);
  if (found != shards_.end()) return static_cast<std::uint16_t>(found - shards_.begin());
  // A shard that MOVED redirections left without slots is reused, so the shards never outnumber
  // the slots and every index fits below no_shard.
  const auto serving = serving_flags();
  const auto unused = std::ranges::find(serving, false);
  if (unused != serving.end()) {
    const auto index = static_cast<std::size_t>(unused - serving.begin());
    shards_[index] = {primary, {}};
    return static_cast<std::uint16_t>(index);
  }
  shards_.push_back({primary, {}});
  return static_cast<std::uint16_t>(shards_.size() - 1);
}

std::vector<bool> slot_map::serving_flags() const {
  std::vector<bool> serving(shards_.size(), false);
  for (const auto index : shard_by_slot_) {
    if (index != no_shard) serving[index] = true;
  }
  return serving;
}

std::vector<const shard*> slot_map::serving_shards() const {
  const auto serving = serving_flags();
  std::vector<const shard*> result;
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    if (serving[i]) result.push_back(&shards_[i]);
  }
  return result;
}

}  // namespace rapyer::detail::cluster

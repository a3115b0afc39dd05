// Which node serves each hash slot: built from a CLUSTER SLOTS reply, corrected slot by slot by
// MOVED redirections until the next refresh. Sans-IO: replies in, lookups out.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/reply.hpp"

namespace rapyer::detail::cluster {

/// A node as the cluster announces it (host may be an IP address, IPv6 without brackets).
struct node_address {
  std::string host;
  std::uint16_t port = 0;

  /// "host:port", the form Redis uses in MOVED and ASK errors.
  std::string endpoint() const;

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 takes the defaulted comparison's 0 for a pointer
  friend auto operator<=>(const node_address&, const node_address&) = default;
};

/// A primary and the replicas that copy it.
struct shard {
  node_address primary;
  std::vector<node_address> replicas;
};

class slot_map {
 public:
  /// A map in which no slot is served (before the first CLUSTER SLOTS).
  slot_map();

  /// The map a CLUSTER SLOTS reply (RESP2) describes: per range [start, end, primary, replica...],
  /// each node [host, port, id?, metadata?]. An empty host or "?" stands for the node that sent the
  /// reply, `replying_host`. Throws protocol_error when the reply has another shape.
  static slot_map from_cluster_slots(const reply& cluster_slots, std::string_view replying_host);

  /// The shard serving `slot`; nullptr when no node serves it (or slot >= slot_count).
  const shard* shard_of(std::uint16_t slot) const noexcept;
  /// Records a MOVED redirection: `slot` is now served by `primary` (a shard without known
  /// replicas when the node is new to the map). Throws usage_error when slot >= slot_count.
  void assign(std::uint16_t slot, const node_address& primary);

  /// The primaries that serve at least one slot, each once, sorted.
  std::vector<node_address> primaries() const;
  /// The primaries and replicas of the shards that serve at least one slot, each once, sorted.
  std::vector<node_address> nodes() const;
  /// True when every slot is served.
  bool covers_all() const noexcept;
  /// True when no slot is served.
  bool empty() const noexcept;

 private:
  /// The index of the shard whose primary is `primary`, adding a shard without replicas if none.
  std::uint16_t shard_index(const node_address& primary);
  /// serving_flags()[i]: whether shards_[i] serves at least one slot.
  std::vector<bool> serving_flags() const;
  /// The shards that serve at least one slot.
  std::vector<const shard*> serving_shards() const;

  static constexpr std::uint16_t no_shard = 0xFFFF;

  std::vector<shard> shards_;
  std::vector<std::uint16_t> shard_by_slot_;  // index into shards_, or no_shard; slot_count entries
  std::size_t served_slots_ = 0;
};

}  // namespace rapyer::detail::cluster

// Splitting a request of several commands across cluster nodes, and putting the replies back in
// the caller's order. Sans-IO: the router sends the parts and feeds back what came.
//
// 1. plan_units() cuts the request into units: commands that must reach the same node, in order.
// 2. group_by_node() puts the units of each node into one part, sent as one request
//    (build_part_request()).
// 3. merge_replies() puts the parts' replies back in request order.
// 4. redirected_commands() says which commands of a part a redirection sends elsewhere; the router
//    resends them and overwrites their replies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/detail/cluster/command_keys.hpp"
#include "rapyer/detail/cluster/redirection.hpp"
#include "rapyer/reply.hpp"
#include "rapyer/request.hpp"

namespace rapyer::detail::cluster {

/// Commands of a request (indices into it, in order) that go to one node together.
struct batch_unit {
  std::optional<std::uint16_t> slot;  // nullopt only when no command of the request has a key
  std::vector<std::size_t> commands;
  bool transaction = false;  // a MULTI ... EXEC (or DISCARD) block, exactly

  friend bool operator==(const batch_unit&, const batch_unit&) = default;
};

/// The units of a request given as each command's arguments (name first, as split_commands()
/// returns them):
/// - a MULTI ... EXEC/DISCARD block is one transaction unit; its keys must share one slot;
/// - a keyless command (WAIT, PING, ...) goes with the command before it, or, at the start, with
///   the first command that has a key; a keyless transaction likewise takes its neighbour's slot;
/// - consecutive commands of the same slot outside transactions share a unit;
/// - a request without any key is one unit without a slot (keyless commands are never redirected),
///   a transaction unit only when it is a lone MULTI block.
/// Throws usage_error before anything is sent when a transaction's keys (or one command's) lie in
/// several slots, a MULTI has no EXEC or DISCARD, or the request holds WATCH, which needs the
/// connection of a lease and cannot be split.
std::vector<batch_unit> plan_units(const std::vector<std::vector<std::string_view>>& commands,
                                   const command_table& table);

/// The units one node receives, sent as one request.
struct batch_part {
  std::size_t node = 0;               // as node_index_of() numbered it
  std::vector<std::size_t> units;     // indices into the units, in request order
  std::vector<std::size_t> commands;  // request indices in send order: the units' commands

  friend bool operator==(const batch_part&, const batch_part&) = default;
};

/// One part per distinct node, in the order the nodes first appear. `node_index_of` names the node
/// serving a slot (nullopt: any node).
std::vector<batch_part> group_by_node(const std::vector<batch_unit>& units,
                                      const std::function<std::size_t(std::optional<std::uint16_t>)>& node_index_of);

/// The request of the commands at `indices`, in that order.
request build_part_request(const std::vector<std::vector<std::string_view>>& commands,
                           const std::vector<std::size_t>& indices);

/// The replies of `total` commands in request order, from each part's replies in send order.
/// Throws protocol_error when a part has another number of replies than commands.
std::vector<reply> merge_replies(std::size_t total, const std::vector<batch_part>& parts,
                                 std::vector<std::vector<reply>>&& part_replies);

/// A command that a redirection sends to another node (or to the same one, later).
struct redirected_command {
  std::size_t command = 0;    // request index
  redirection redirect{};     // how and where to send it again
  std::string error_message;  // the redirection error, for the message if the router gives up

  friend bool operator==(const redirected_command&, const redirected_command&) = default;
};

/// The commands of `part` to send again after its replies (`part_replies`, in send order), in
/// request order; `replying_host` is the host of the node that sent them.
/// - Outside transactions exactly the commands answered with MOVED, ASK, TRYAGAIN or CLUSTERDOWN:
///   the others ran, and sending them again would run them twice.
/// - A transaction whose EXEC failed with EXECABORT because a queued command was redirected ran
///   nothing: all its commands, MULTI to EXEC, go again with that command's redirection.
std::vector<redirected_command> redirected_commands(const std::vector<batch_unit>& units, const batch_part& part,
                                                    const std::vector<reply>& part_replies,
                                                    std::string_view replying_host);

}  // namespace rapyer::detail::cluster

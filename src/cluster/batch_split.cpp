#include "rapyer/detail/cluster/batch_split.hpp"

#include <algorithm>
#include <span>

#include "rapyer/detail/ascii.hpp"
#include "rapyer/detail/cluster/key_slot.hpp"
#include "rapyer/detail/command_arg.hpp"
#include "rapyer/error.hpp"

namespace rapyer::detail::cluster {
namespace {

using command_list = std::vector<std::vector<std::string_view>>;

bool named(const std::vector<std::string_view>& argv, std::string_view name) {
  return !argv.empty() && iequals(argv[0], name);
}

/// The transaction unit of the MULTI at `multi` up to its EXEC or DISCARD.
batch_unit transaction_unit(const command_list& commands, std::size_t multi, const command_table& table) {
  batch_unit unit{std::nullopt, {multi}, true};
  std::vector<std::string_view> keys;
  for (std::size_t i = multi + 1; i < commands.size(); ++i) {
    unit.commands.push_back(i);
    if (named(commands[i], "EXEC") || named(commands[i], "DISCARD")) {
      if (keys.empty()) return unit;
      unit.slot = key_slot(keys[0]);
      if (!std::ranges::all_of(keys, [&](std::string_view key) { return key_slot(key) == unit.slot; })) {
        throw usage_error("MULTI ... EXEC: keys in different hash slots cannot run in one transaction on a cluster: " +
                          describe_key_slots(keys) + " (a hash tag such as {user1} keeps keys in one slot)");
      }
      return unit;
    }
    const auto command_keys = table.keys_of(commands[i]);
    keys.insert(keys.end(), command_keys.begin(), command_keys.end());
  }
  throw usage_error("MULTI without EXEC or DISCARD in a request for a cluster");
}

/// Each transaction block, and each other command alone, as a unit.
std::vector<batch_unit> single_units(const command_list& commands, const command_table& table) {
  std::vector<batch_unit> units;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (named(commands[i], "WATCH")) {
      throw usage_error("WATCH in a request for a cluster: it needs a leased connection to one node");
    }
    if (named(commands[i], "MULTI")) {
      units.push_back(transaction_unit(commands, i, table));
      i = units.back().commands.back();
    } else {
      units.push_back({slot_of(commands[i], table), {i}, false});
    }
  }
  return units;
}

void require_reply_count(std::size_t replies, std::size_t commands) {
  if (replies != commands) {
    throw protocol_error("cluster: " + std::to_string(replies) + " replies to " + std::to_string(commands) +
                         " commands sent to one node");
  }
}

}  // namespace

std::vector<batch_unit> plan_units(const command_list& commands, const command_table& table) {
  auto units = single_units(commands, table);
  if (units.empty()) return units;
  const auto first_keyed = std::ranges::find_if(units, [](const batch_unit& u) { return u.slot.has_value(); });
  if (first_keyed == units.end()) {
    // Keyless commands are never redirected, so they may go anywhere together; the unit stays a
    // transaction only when it is exactly one MULTI block.
    if (units.size() == 1) return units;
    batch_unit all{std::nullopt, {}, false};
    for (const auto& unit : units) all.commands.insert(all.commands.end(), unit.commands.begin(), unit.commands.end());
    return {all};
  }
  // Keyless units go where their neighbour goes: the unit before, or for those at the start, the
  // first unit with a key.
  std::optional<std::uint16_t> previous = first_keyed->slot;
  for (auto& unit : units) {
    if (!unit.slot) unit.slot = previous;
    previous = unit.slot;
  }
  std::vector<batch_unit> merged;
  for (auto& unit : units) {
    if (!merged.empty() && !merged.back().transaction && !unit.transaction && merged.back().slot == unit.slot) {
      merged.back().commands.insert(merged.back().commands.end(), unit.commands.begin(), unit.commands.end());
    } else {
      merged.push_back(std::move(unit));
    }
  }
  return merged;
}

std::vector<batch_part> group_by_node(const std::vector<batch_unit>& units,
                                      const std::function<std::size_t(std::optional<std::uint16_t>)>& node_index_of) {
  std::vector<batch_part> parts;
  for (std::size_t u = 0; u < units.size(); ++u) {
    const auto node = node_index_of(units[u].slot);
    auto part = std::ranges::find(parts, node, &batch_part::node);
    if (part == parts.end()) part = parts.insert(parts.end(), batch_part{node, {}, {}});
    part->units.push_back(u);
    part->commands.insert(part->commands.end(), units[u].commands.begin(), units[u].commands.end());
  }
  return parts;
}

request build_part_request(const command_list& commands, const std::vector<std::size_t>& indices) {
  request part;
  std::vector<command_arg> argv;
  for (const auto index : indices) {
    argv.assign(commands.at(index).begin(), commands.at(index).end());
    part.push_argv(argv);
  }
  return part;
}

std::vector<reply> merge_replies(std::size_t total, const std::vector<batch_part>& parts,
                                 std::vector<std::vector<reply>>&& part_replies) {
  if (part_replies.size() != parts.size()) {
    throw protocol_error("cluster: replies of " + std::to_string(part_replies.size()) + " parts for " +
                         std::to_string(parts.size()) + " parts sent");
  }
  std::vector<reply> merged(total);
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const auto& indices = parts[p].commands;
    require_reply_count(part_replies[p].size(), indices.size());
    for (std::size_t i = 0; i < indices.size(); ++i) merged.at(indices[i]) = std::move(part_replies[p][i]);
  }
  return merged;
}

std::vector<redirected_command> redirected_commands(const std::vector<batch_unit>& units, const batch_part& part,
                                                    const std::vector<reply>& part_replies,
                                                    std::string_view replying_host) {
  const auto redirect_of = [&](const reply& r) -> std::optional<redirection> {
    return r.is_error() ? parse_redirection(r.error_message(), replying_host) : std::nullopt;
  };
  require_reply_count(part_replies.size(), part.commands.size());
  std::vector<redirected_command> result;
  std::size_t position = 0;  // of the unit's first reply in part_replies
  for (const auto u : part.units) {
    const auto& unit = units.at(u);
    const auto replies = std::span(part_replies).subspan(position, unit.commands.size());
    position += unit.commands.size();
    if (!unit.transaction) {
      for (std::size_t i = 0; i < replies.size(); ++i) {
        if (auto redirect = redirect_of(replies[i])) {
          result.push_back({unit.commands[i], std::move(*redirect), replies[i].error_message()});
        }
      }
      continue;
    }
    // Queued commands answer the redirection themselves; EXEC then aborts the whole block.
    const auto& exec = replies.back();
    if (!exec.is_error() || !exec.error_message().starts_with("EXECABORT")) continue;
    for (const auto& queued : replies) {
      if (auto redirect = redirect_of(queued)) {
        for (const auto command : unit.commands) result.push_back({command, *redirect, queued.error_message()});
        break;
      }
    }
  }
  std::ranges::sort(result, {}, &redirected_command::command);
  return result;
}

}  // namespace rapyer::detail::cluster

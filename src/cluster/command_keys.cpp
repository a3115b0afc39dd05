#include "rapyer/detail/cluster/command_keys.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "rapyer/detail/ascii.hpp"
#include "rapyer/detail/cluster/key_slot.hpp"
#include "rapyer/error.hpp"

namespace rapyer::detail::cluster {
namespace {

using arguments = std::vector<std::string_view>;

[[noreturn]] void malformed(const std::string& what) { throw protocol_error("COMMAND reply: " + what); }

// Key positions and steps are argument indices: a value beyond any argument count is a broken reply.
int small_integer(const reply& r, const char* what) {
  if (!r.is_integer()) malformed(std::string(what) + " is not an integer: " + r.to_debug_string());
  const auto value = r.as_integer();
  if (value < -65536 || value > 65536) malformed(std::string(what) + " out of range: " + std::to_string(value));
  return static_cast<int>(value);
}

// How a movablekeys command's keys are found: the rules of the server's *GetKeys functions.
enum class key_rule {
  numkeys_at_1,                  // ZUNION numkeys key... ; SINTERCARD, LMPOP, ...
  numkeys_at_2,                  // EVAL script numkeys key... ; BLMPOP timeout numkeys key...
  destination_and_numkeys_at_2,  // ZUNIONSTORE destination numkeys key...
  streams,                       // XREAD [COUNT n] [BLOCK ms] STREAMS key... id...
  migrate,                       // MIGRATE host port key|"" db timeout [...] [KEYS key...]
  sort,                          // SORT key [BY p] [LIMIT o c] [GET p]... [STORE destination]
  georadius                      // GEORADIUS key ... [STORE destination] [STOREDIST destination]
};

struct movable_command {
  std::string_view name;
  key_rule rule;
};

constexpr std::array<movable_command, 25> movable_commands{{
    {"EVAL", key_rule::numkeys_at_2},
    {"EVALSHA", key_rule::numkeys_at_2},
    {"EVAL_RO", key_rule::numkeys_at_2},
    {"EVALSHA_RO", key_rule::numkeys_at_2},
    {"FCALL", key_rule::numkeys_at_2},
    {"FCALL_RO", key_rule::numkeys_at_2},
    {"BLMPOP", key_rule::numkeys_at_2},
    {"BZMPOP", key_rule::numkeys_at_2},
    {"ZUNION", key_rule::numkeys_at_1},
    {"ZINTER", key_rule::numkeys_at_1},
    {"ZDIFF", key_rule::numkeys_at_1},
    {"ZINTERCARD", key_rule::numkeys_at_1},
    {"SINTERCARD", key_rule::numkeys_at_1},
    {"LMPOP", key_rule::numkeys_at_1},
    {"ZMPOP", key_rule::numkeys_at_1},
    {"ZUNIONSTORE", key_rule::destination_and_numkeys_at_2},
    {"ZINTERSTORE", key_rule::destination_and_numkeys_at_2},
    {"ZDIFFSTORE", key_rule::destination_and_numkeys_at_2},
    {"XREAD", key_rule::streams},
    {"XREADGROUP", key_rule::streams},
    {"MIGRATE", key_rule::migrate},
    {"SORT", key_rule::sort},
    {"SORT_RO", key_rule::sort},
    {"GEORADIUS", key_rule::georadius},
    {"GEORADIUSBYMEMBER", key_rule::georadius},
}};

/// argv[from, to) clamped to argv's end.
arguments slice(argv_view argv, std::size_t from, std::size_t to) {
  from = std::min(from, argv.size());
  to = std::clamp(to, from, argv.size());
  return {argv.begin() + static_cast<std::ptrdiff_t>(from), argv.begin() + static_cast<std::ptrdiff_t>(to)};
}

/// The keys counted by argv[at] and following it. A count that is not a number, or exceeds the
/// arguments, counts none, as the server's COMMAND GETKEYS: the server rejects such a command.
arguments counted_keys(argv_view argv, std::size_t at) {
  if (at >= argv.size()) return {};
  std::size_t count = 0;
  const auto text = argv[at];
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (ec != std::errc{} || end != text.data() + text.size() || count > argv.size() - at - 1) return {};
  return slice(argv, at + 1, at + 1 + count);
}

arguments stream_keys(argv_view argv) {
  // Options before STREAMS, as xreadGetKeys skips them; then half the rest are keys, half ids.
  for (std::size_t i = 1; i < argv.size(); ++i) {
    if (iequals(argv[i], "BLOCK") || iequals(argv[i], "COUNT")) {
      ++i;
    } else if (iequals(argv[i], "GROUP")) {
      i += 2;
    } else if (iequals(argv[i], "STREAMS")) {
      return slice(argv, i + 1, i + 1 + (argv.size() - i - 1) / 2);
    } else if (!iequals(argv[i], "NOACK")) {
      break;
    }
  }
  return {};
}

arguments migrate_keys(argv_view argv) {
  if (argv.size() > 3 && !argv[3].empty()) return {argv[3]};
  // Options after the timeout; a password could be spelled KEYS, so AUTH's arguments are skipped.
  for (std::size_t i = 6; i < argv.size(); ++i) {
    if (iequals(argv[i], "AUTH")) {
      ++i;
    } else if (iequals(argv[i], "AUTH2")) {
      i += 2;
    } else if (iequals(argv[i], "KEYS")) {
      return slice(argv, i + 1, argv.size());
    }
  }
  return {};
}

arguments sort_keys(argv_view argv) {
  if (argv.size() < 2) return {};
  arguments keys{argv[1]};
  std::optional<std::string_view> destination;
  for (std::size_t i = 2; i < argv.size(); ++i) {
    if (iequals(argv[i], "LIMIT")) {
      i += 2;
    } else if (iequals(argv[i], "BY") || iequals(argv[i], "GET")) {
      ++i;
    } else if (iequals(argv[i], "STORE") && i + 1 < argv.size()) {
      destination = argv[++i];  // the last STORE wins, as in the server
    }
  }
  if (destination) keys.push_back(*destination);
  return keys;
}

arguments georadius_keys(argv_view argv) {
  if (argv.size() < 2) return {};
  arguments keys{argv[1]};
  // From argument 5 on, as the server reads them: a member named STORE comes before it.
  for (std::size_t i = 5; i + 1 < argv.size(); ++i) {
    if (iequals(argv[i], "STORE") || iequals(argv[i], "STOREDIST")) keys.push_back(argv[++i]);
  }
  return keys;
}

bool has_key_rule(std::string_view name) {
  return std::ranges::any_of(movable_commands, [&](const auto& c) { return iequals(c.name, name); });
}

std::optional<arguments> keys_by_rule(argv_view argv) {
  const auto command = std::ranges::find_if(movable_commands, [&](const auto& c) { return iequals(c.name, argv[0]); });
  if (command == movable_commands.end()) return std::nullopt;
  switch (command->rule) {
    case key_rule::numkeys_at_1:
      return counted_keys(argv, 1);
    case key_rule::numkeys_at_2:
      return counted_keys(argv, 2);
    case key_rule::destination_and_numkeys_at_2: {
      auto keys = slice(argv, 1, 2);
      const auto sources = counted_keys(argv, 2);
      keys.insert(keys.end(), sources.begin(), sources.end());
      return keys;
    }
    case key_rule::streams:
      return stream_keys(argv);
    case key_rule::migrate:
      return migrate_keys(argv);
    case key_rule::sort:
      return sort_keys(argv);
    case key_rule::georadius:
      return georadius_keys(argv);
  }
  return std::nullopt;
}

}  // namespace

std::size_t command_table::name_hash::operator()(std::string_view name) const noexcept {
  std::size_t hash = 14695981039346656037ULL;  // FNV-1a of the upper-cased name
  for (const char c : name) hash = (hash ^ static_cast<unsigned char>(to_upper(c))) * 1099511628211ULL;
  return hash;
}

bool command_table::name_equal::operator()(std::string_view a, std::string_view b) const noexcept {
  return iequals(a, b);
}

command_table command_table::from_command_reply(const reply& command_reply) {
  if (!command_reply.is_array()) malformed("not an array: " + command_reply.to_debug_string());
  command_table table;
  for (const auto& entry : command_reply.as_array()) {
    if (!entry.is_nil()) table.add(entry);
  }
  return table;
}

void command_table::add(const reply& entry) {
  if (!entry.is_array() || entry.as_array().size() < 6 || !entry.as_array()[0].is_string() ||
      !entry.as_array()[2].is_array()) {
    malformed("entry is not [name, arity, flags, first, last, step, ...]: " + entry.to_debug_string());
  }
  const auto& fields = entry.as_array();
  command_info info;
  for (const auto& flag : fields[2].as_array()) {
    if (!flag.is_status() && !flag.is_string()) malformed("flag is not text: " + flag.to_debug_string());
    info.write = info.write || flag.as_string() == "write";
    info.readonly = info.readonly || flag.as_string() == "readonly";
  }
  info.first_key = small_integer(fields[3], "first key");
  info.last_key = small_integer(fields[4], "last key");
  info.step = small_integer(fields[5], "key step");
  info.keys_by_rule = has_key_rule(fields[0].as_string());
  constexpr std::size_t subcommands_field = 9;
  if (fields.size() > subcommands_field && fields[subcommands_field].is_array()) {
    for (const auto& subcommand : fields[subcommands_field].as_array()) add(subcommand);
    info.container = !fields[subcommands_field].as_array().empty();
  }
  commands_.insert_or_assign(fields[0].as_string(), info);
}

const command_table::command_info* command_table::find(std::string_view name) const {
  const auto found = commands_.find(name);
  return found == commands_.end() ? nullptr : &found->second;
}

bool command_table::known(std::string_view name) const { return find(name) != nullptr; }

bool command_table::is_write(std::string_view name) const {
  const auto* info = find(name);
  if (info == nullptr) return false;
  // Scripts and functions are not flagged write because they may only read; route them as writes.
  return info->write || iequals(name, "EVAL") || iequals(name, "EVALSHA") || iequals(name, "FCALL");
}

bool command_table::is_readonly(std::string_view name) const {
  const auto* info = find(name);
  return info != nullptr && info->readonly;
}

std::vector<std::string_view> command_table::keys_of(argv_view argv) const {
  if (argv.empty()) return {};
  const auto* info = find(argv[0]);
  if (info == nullptr) return {};
  if (info->container) {
    if (argv.size() < 2) return {};
    std::string full_name(argv[0]);
    full_name += '|';
    full_name += argv[1];
    info = find(full_name);
    if (info == nullptr) return {};
  } else if (auto keys = keys_by_rule(argv)) {
    return std::move(*keys);
  }
  const auto positions = positions_of(*info, argv.size());
  if (!positions) return {};
  std::vector<std::string_view> keys;
  for (std::size_t i = positions->first; i <= positions->last; i += positions->step) keys.push_back(argv[i]);
  return keys;
}

std::optional<command_table::key_positions> command_table::positions_of(const command_info& info,
                                                                        std::size_t argc) noexcept {
  const auto count = static_cast<int>(argc);
  const int last = std::min(info.last_key < 0 ? count + info.last_key : info.last_key, count - 1);
  if (info.first_key <= 0 || last < info.first_key) return std::nullopt;
  return key_positions{static_cast<std::size_t>(info.first_key), static_cast<std::size_t>(last),
                       static_cast<std::size_t>(std::max(info.step, 1))};
}

std::optional<command_table::key_positions> command_table::fixed_key_positions(argv_view argv) const {
  if (argv.empty()) return std::nullopt;
  const auto* info = find(argv[0]);
  if (info == nullptr || info->container || info->keys_by_rule) return std::nullopt;
  return positions_of(*info, argv.size());
}

std::optional<std::uint16_t> slot_of(argv_view argv, const command_table& table) {
  if (const auto positions = table.fixed_key_positions(argv)) {
    const auto slot = key_slot(argv[positions->first]);
    bool one_slot = true;
    for (std::size_t i = positions->first + positions->step; i <= positions->last && one_slot; i += positions->step) {
      one_slot = key_slot(argv[i]) == slot;
    }
    if (one_slot) return slot;  // else keys_of below names every key in the error
  }
  const auto keys = table.keys_of(argv);
  if (keys.empty()) return std::nullopt;
  const auto slot = key_slot(keys.front());
  const bool one_slot = std::ranges::all_of(keys, [&](std::string_view key) { return key_slot(key) == slot; });
  if (!one_slot) {
    throw usage_error(std::string(argv[0]) + ": keys in different hash slots cannot go to one cluster node: " +
                      describe_key_slots(keys) + " (a hash tag such as {user1} keeps keys in one slot)");
  }
  return slot;
}

std::optional<single_slot_request> single_slot(std::string_view payload, const command_table& table) {
  single_slot_request found;
  command_reader reader(payload);
  for (argv_buffer argv; reader.next(argv);) {
    if (argv.empty() || iequals(argv.front(), "WATCH")) return std::nullopt;
    const auto own = slot_of(argv, table);
    if (!own) continue;
    if (found.slot && *found.slot != *own) return std::nullopt;
    found.slot = own;
  }
  return found;
}

std::string describe_key_slots(const std::vector<std::string_view>& keys) {
  std::string text;
  for (const auto key : keys) {
    if (!text.empty()) text += ", ";
    text += key;
    text += " (slot " + std::to_string(key_slot(key)) + ")";
  }
  return text;
}

}  // namespace rapyer::detail::cluster

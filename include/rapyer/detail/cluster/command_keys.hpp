// Which arguments of a command are keys, and so which hash slot the command goes to. The table
// comes from the server's own COMMAND reply; the commands whose keys move with their arguments
// (movablekeys) are read by the same rules the server applies. Sans-IO.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rapyer/detail/command_reader.hpp"
#include "rapyer/reply.hpp"

namespace rapyer::detail::cluster {

class command_table {
 public:
  /// The table a COMMAND (or COMMAND INFO) reply in RESP2 describes: per entry [name, arity, flags,
  /// first key, last key, step, ...]; Redis 6.2 sends 7 fields, Redis 7 10 with the subcommands of
  /// container commands last, named "object|encoding". Nil entries (COMMAND INFO of an unknown
  /// name) are skipped. Throws protocol_error when the reply has another shape.
  static command_table from_command_reply(const reply& command_reply);

  /// Whether the server knows the command (any case).
  bool known(std::string_view name) const;
  /// The keys among `argv` (argv[0] is the command's name); empty for a command without keys or
  /// one the table does not know. A container command (OBJECT ENCODING k, XINFO STREAM k) uses its
  /// subcommand's entry.
  std::vector<std::string_view> keys_of(argv_view argv) const;
  /// Where the keys of `argv` are when they are at fixed positions (first, last, step from the
  /// table, last already resolved against argv's size): nullopt for a command without keys, an
  /// unknown one, a container command or one whose keys follow a rule (numkeys, STREAMS …). Lets
  /// the common case find its slot without building keys_of's vector.
  struct key_positions {
    std::size_t first = 0;
    std::size_t last = 0;  // inclusive, < argv.size()
    std::size_t step = 1;
  };
  std::optional<key_positions> fixed_key_positions(argv_view argv) const;
  /// Whether the command writes: the "write" flag, and EVAL, EVALSHA and FCALL, whose scripts may.
  bool is_write(std::string_view name) const;
  /// Whether the command has the "readonly" flag (so a replica may serve it).
  bool is_readonly(std::string_view name) const;

 private:
  struct command_info {
    int first_key = 0;
    int last_key = 0;  // negative: counted from the end, -1 being the last argument
    int step = 0;
    bool write = false;
    bool readonly = false;
    bool container = false;     // has subcommands, stored as "name|subcommand"
    bool keys_by_rule = false;  // movable keys: numkeys, STREAMS, STORE … (keys_of's rules)
  };

  /// Hashes and compares names without regard to ASCII case, so lookups need no lowered copy.
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept;
  };
  struct name_equal {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept;
  };

  void add(const reply& entry);
  const command_info* find(std::string_view name) const;
  static std::optional<key_positions> positions_of(const command_info& info, std::size_t argc) noexcept;

  std::unordered_map<std::string, command_info, name_hash, name_equal> commands_;
};

/// The hash slot of a command's keys; nullopt when it has none. Throws usage_error naming the
/// command and its keys with their slots when the keys lie in several slots, which no node serves.
std::optional<std::uint16_t> slot_of(argv_view argv, const command_table& table);

/// A request that one node can take as it is: all its commands with keys share `slot` (none: no
/// command has keys).
struct single_slot_request {
  std::optional<std::uint16_t> slot;
};
/// Whether the request in `payload` is a single_slot_request, read command by command from its
/// bytes (no allocation for commands of up to 16 arguments); nullopt when its commands lie in
/// several slots or it holds a WATCH, so that it must be split. Throws usage_error as slot_of does.
std::optional<single_slot_request> single_slot(std::string_view payload, const command_table& table);

/// "a (slot 15495), b (slot 3300)": keys with their slots, for errors about keys that must share a
/// slot.
std::string describe_key_slots(const std::vector<std::string_view>& keys);

}  // namespace rapyer::detail::cluster

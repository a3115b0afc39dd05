// The Lua scripts behind operations that need a read and a write in one atomic step, each with the
// one function that appends a call of it (EVALSHA, KEYS and ARGV in the script's order) to a
// request and returns the script it calls. The texts are src/lua/<name>.lua, embedded at build time
// with their SHA-1 (cmake/RapyerScripts.cmake); each file documents its KEYS and ARGV. They move
// strings and compute indices; user numbers are never parsed by Lua except where the script checks
// that they are integers within the exactly representable range (|n| < 2^53), and where an index
// scores a number field (a sorted-set score is a double; queries re-check exact values).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/detail/script.hpp"
#include "rapyer/request.hpp"

namespace rapyer::detail::scripts {

extern const script save;
extern const script remove;
extern const script reindex;
extern const script expire_all;
extern const script lock_release;
extern const script lock_extend;
extern const script field_command;
extern const script list_insert;
extern const script list_pop_at;
extern const script list_remove_range;
extern const script dict_pop;
extern const script dict_pop_item;
extern const script string_append;
extern const script integer_arithmetic;
extern const script float_arithmetic;
extern const script string_repeat;
extern const script datetime_add;
extern const script save_if_absent;
extern const script dict_pop_many;
extern const script set_algebra;

/// Every script above, to find the one a NOSCRIPT reply is about.
std::span<const script* const> all() noexcept;

/// The index section of reindex_function.lua for one model: its index keys (KEYS), and its spec
/// count, id and kind/path pairs (ARGV). See index_section_of() in index.hpp.
struct index_section {
  std::vector<std::string> keys;
  std::vector<std::string> args;

  /// The section of a model without indexes.
  static index_section none() { return {{}, {"0", ""}}; }
};

/// The items one collection key holds after a save: kind ('l' list, 'h' dict as field, value, ...,
/// 's' set).
struct collection_contents {
  std::string key;
  char kind = 'l';
  std::vector<std::string> items;
};

/// What save.lua writes.
struct save_arguments {
  std::string model_key;
  long long ttl_ms = 0;                                // 0 keeps the current TTL
  std::string version_field;                           // empty: no version check
  std::string expected_version;                        // compared as text with the stored one
  std::optional<std::vector<std::string>> hash_pairs;  // field, value, ...; nullopt leaves the hash alone
  std::vector<collection_contents> collections;        // each replaced whole
  index_section index = index_section::none();
};

const script* push_save(request& req, const save_arguments& args);
/// Deletes `model_keys` (the hash first) and the model's index entries.
const script* push_remove(request& req, std::span<const std::string> model_keys, const index_section& index);
/// Brings the index entries of the model at `model_key` up to date with its hash.
const script* push_reindex(request& req, std::string_view model_key, const index_section& index);
const script* push_expire_all(request& req, std::span<const std::string> keys, long long ttl_seconds);
const script* push_lock_release(request& req, std::string_view lock_key, std::string_view token);
const script* push_lock_extend(request& req, std::string_view lock_key, std::string_view token, long long ttl_ms);

// The scripts on a field of a model take the model's hash first: they write nothing and answer
// NOMODEL when it does not exist (model_guard.lua). For a scalar field it is the hash they work on.

/// `command <key> args...`, a plain command on the field of the model at `model_key` whose data is
/// at `key` (the model's hash for a scalar field, the collection's key for a collection field).
template <class... Args>
const script* push_field_command(request& req, std::string_view model_key, std::string_view command,
                                 std::string_view key, const Args&... args) {
  req.push("EVALSHA", field_command.sha, 2, model_key, key, command, args...);
  return &field_command;
}
const script* push_list_insert(request& req, std::string_view model_key, std::string_view list_key, long long index,
                               std::string_view value);
/// `tombstone`: a value no element has, which marks the element removed.
const script* push_list_pop_at(request& req, std::string_view model_key, std::string_view list_key, long long index,
                               std::string_view tombstone);
const script* push_list_remove_range(request& req, std::string_view model_key, std::string_view list_key,
                                     long long start, long long end, std::string_view tombstone);
const script* push_dict_pop(request& req, std::string_view model_key, std::string_view hash_key,
                            std::string_view field);
const script* push_dict_pop_item(request& req, std::string_view model_key, std::string_view hash_key);
/// Removes up to `count` entries; replies field, value, ...
const script* push_dict_pop_many(request& req, std::string_view model_key, std::string_view hash_key,
                                 std::size_t count);
/// `command`: SUNION, SINTER or SDIFF of the sets at `set_key` and `other_key` (their members), or
/// its STORE form writing them into `set_key` (their count). Both sets are fields of one model.
const script* push_set_algebra(request& req, std::string_view model_key, std::string_view set_key,
                               std::string_view other_key, std::string_view command);
const script* push_string_append(request& req, std::string_view hash_key, std::string_view field,
                                 std::string_view suffix);
/// `operation`: "mul", "floordiv", "mod" or "pow".
const script* push_integer_arithmetic(request& req, std::string_view hash_key, std::string_view field,
                                      std::string_view operation, long long operand);
/// `operation`: "mul", "div", "floordiv", "mod" or "pow".
const script* push_float_arithmetic(request& req, std::string_view hash_key, std::string_view field,
                                    std::string_view operation, double operand);
const script* push_string_repeat(request& req, std::string_view hash_key, std::string_view field, long long count);
const script* push_datetime_add(request& req, std::string_view hash_key, std::string_view field, long long delta_us);
/// push_save() that saves only when no model hash exists at args.model_key: the call returns 1 when
/// it saved, 0 when a model was stored (and nothing is written).
const script* push_save_if_absent(request& req, const save_arguments& args);

}  // namespace rapyer::detail::scripts

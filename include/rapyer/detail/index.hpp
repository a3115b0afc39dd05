// Secondary indexes on plain Redis, for queries on model fields (model_config::indexes, query.hpp).
// Per indexed field path of a class "<prefix><Name>":
//  - a number field (integers, floating point, bool, enums without names, rapyer::timestamp): the sorted set
//    "<prefix><Name>:index:<path>", member = model id, score = the value;
//  - a text field (strings, bytes, named enums, times as ISO-8601, which sorts chronologically): the
//    zero-score sorted set "<prefix><Name>:index:<path>" of members "<escaped text>\0\0<id>", read
//    with lexicographic ranges, and the hash "<prefix><Name>:index:<path>:members" id -> member,
//    so an update removes the previous member without knowing the previous value.
// Every write of an indexed field updates these in the same atomic step (the Lua function
// scripts::reindex_function); an absent or empty optional field has no entry. A model that expires
// leaves entries behind until a query meets them and removes them.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "rapyer/detail/type_traits.hpp"

namespace rapyer::detail {

enum class index_kind : char { number = 'n', text = 's' };

struct index_spec {
  std::string path;  // the hash field: "age", "address.city"
  index_kind kind;
};

/// How a field of type T is indexed, or nullopt when it cannot be (JSON values).
template <class T>
constexpr std::optional<index_kind> index_kind_of() {
  if constexpr (is_optional_v<T>) {
    return index_kind_of<typename T::value_type>();
  } else if constexpr (std::is_arithmetic_v<T> || (std::is_enum_v<T> && !is_described_enum_v<T>) ||
                       std::is_same_v<T, timestamp>) {
    return index_kind::number;
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bytes> || std::is_enum_v<T> ||
                       std::is_same_v<T, time_point>) {
    return index_kind::text;
  } else {
    return std::nullopt;
  }
}

/// "<class head>:index:<path>"; a text index also has index_key(...) + ":members".
std::string index_key(std::string_view class_head, std::string_view path);

/// Appends, for `specs` of the model with `id`, the index keys to `keys` and the index section of
/// scripts::reindex_function (count, id, kind/path pairs) to `args`.
void push_index_section(std::vector<std::string>& keys, std::vector<std::string>& args, std::string_view class_head,
                        const std::string& id, std::span<const index_spec> specs);

/// A text value as it sorts in a text index: NUL escaped as NUL 0x01.
std::string escape_index_text(std::string_view text);

/// The model id inside a text index member, or nullopt for a member not written by rapyer.
std::optional<std::string> id_of_index_member(std::string_view member);

/// ZRANGEBYLEX bounds over escaped text: inclusive lower bound for values >= text ...
std::string text_lower_bound(std::string_view encoded);
/// ... exclusive upper bound for values <= text ...
std::string text_upper_bound(std::string_view encoded);
/// ... exclusive upper bound for values starting with prefix, or "+" when there is none.
std::string text_prefix_end(std::string_view encoded_prefix);

}  // namespace rapyer::detail

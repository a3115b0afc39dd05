// Secondary indexes on plain Redis, for queries on model fields (model_config::indexes, query.hpp).
// Per indexed field path of a class, one shard per bucket of the class (key_layout::index_key:
// "<prefix><Name>:{<Name>#<b>}:index:<path>", in the slot of the bucket's models):
//  - a number field (integers, floating point, bool, enums without names, rapyer::timestamp): a
//    sorted set, member = model id, score = the value;
//  - a text field (strings, bytes, named enums, times as ISO-8601, which sorts chronologically): a
//    zero-score sorted set of members "<escaped text>\0\0<id>", read with lexicographic ranges,
//    and the hash "<shard>:members" id -> member, so an update removes the previous member without
//    knowing the previous value.
// Every write of an indexed field updates the model's shards in the same atomic step (the Lua
// function of src/lua/reindex_function.lua); an absent or empty optional field has no entry. A model
// that expires leaves entries behind until a query meets them and removes them. A query reads its
// ranges from every bucket and merges them (merge_index_hits) into the order of one index.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "rapyer/client.hpp"
#include "rapyer/detail/key_layout.hpp"
#include "rapyer/detail/scripts.hpp"
#include "rapyer/detail/type_traits.hpp"
#include "rapyer/reply.hpp"

namespace rapyer::detail {

enum class index_kind : char { number = 'n', text = 's' };

struct index_spec {
  std::string path;  // the hash field: "age", "address.city"
  index_kind kind;
  /// Every model has an entry: the field is neither optional nor floating point (NaN has none).
  bool every_model = false;
};

/// Whether every model of a class with a field of type T has an entry in its index.
template <class T>
constexpr bool indexed_in_every_model() {
  return !is_optional_v<T> && !std::is_floating_point_v<T>;
}

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

/// The index section of reindex_function.lua for `specs` of the model with `id`: the index shard
/// keys of its bucket, and count, id, kind/path pairs.
scripts::index_section index_section_of(const key_layout& layout, const std::string& id,
                                        std::span<const index_spec> specs);

/// The bounds of one condition, as ZRANGEBYSCORE (number) or ZRANGEBYLEX (text) takes them.
struct index_range {
  std::string path;
  index_kind kind;
  std::string min;
  std::string max;
};

/// The bounds below and above every entry of an index of `kind`.
inline std::string index_bottom(index_kind kind) { return kind == index_kind::number ? "-inf" : "-"; }
inline std::string index_top(index_kind kind) { return kind == index_kind::number ? "+inf" : "+"; }

/// The ids in each of `ranges`, from the shards of every bucket of an indexed class's `layout`,
/// merged (merge_index_hits). All ranges of all buckets go in one request, which a cluster client
/// sends as one round trip per node, in parallel.
awaitable<std::vector<std::vector<std::string>>> read_index_ranges(client& redis, const key_layout& layout,
                                                                   std::span<const index_range* const> ranges);

/// An entry of an index range, as one bucket's shard returned it.
struct index_hit {
  double score = 0;    // a text index's are all 0
  std::string member;  // a number index's is the id
};
/// Appends the entries of one shard's range reply: ZRANGEBYSCORE ... WITHSCORES (member, score
/// pairs) for a number index, ZRANGEBYLEX (members) for a text index.
void append_index_hits(index_kind kind, const reply& range, std::vector<index_hit>& hits);
/// The ids of the entries of one range gathered from every bucket, in the order one index holding
/// them all would list them: by score, then member (for a text index: by text, then id). Members
/// not written by rapyer are left out.
std::vector<std::string> merge_index_hits(index_kind kind, std::vector<index_hit> hits);

/// The candidate ids in the order of `index_ids` (the ids of a whole index, ascending), reversed
/// when `descending`; candidates absent from the index (models without the field) follow, in their
/// own order. Without an index, the candidates' own order, reversed when `descending`.
std::vector<std::string> order_candidates(std::vector<std::string> candidates,
                                          const std::optional<std::vector<std::string>>& index_ids, bool descending);

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

#include "rapyer/detail/index.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_set>

#include "rapyer/error.hpp"

namespace rapyer::detail {

scripts::index_section index_section_of(const key_layout& layout, const std::string& id,
                                        std::span<const index_spec> specs) {
  scripts::index_section section;
  auto& [keys, args] = section;
  args.push_back(std::to_string(specs.size()));
  args.push_back(id);
  const std::size_t bucket = layout.bucket_of(id);
  for (const auto& spec : specs) {
    args.emplace_back(1, static_cast<char>(spec.kind));
    args.push_back(spec.path);
    keys.push_back(layout.index_key(bucket, spec.path));
    if (spec.kind == index_kind::text) keys.push_back(keys.back() + ":members");
  }
  return section;
}

void append_index_hits(index_kind kind, const reply& range, std::vector<index_hit>& hits) {
  const auto& elements = range.as_array();
  if (kind == index_kind::text) {
    for (const auto& member : elements) hits.push_back({0, member.as_string()});
    return;
  }
  for (std::size_t i = 0; i + 1 < elements.size(); i += 2) {
    const std::string& score = elements[i + 1].as_string();
    double value = 0;
    // Redis writes scores as %.17g, "inf" or "-inf", which from_chars reads.
    if (std::from_chars(score.data(), score.data() + score.size(), value).ec != std::errc()) {
      throw protocol_error("an index score is not a number: " + score);
    }
    hits.push_back({value, elements[i].as_string()});
  }
}

awaitable<std::vector<std::vector<std::string>>> read_index_ranges(client& redis, const key_layout& layout,
                                                                   std::span<const index_range* const> ranges) {
  const std::size_t buckets = layout.buckets();
  request lookups;
  for (const auto* range : ranges) {
    for (std::size_t bucket = 0; bucket < buckets; ++bucket) {
      const std::string shard = layout.index_key(bucket, range->path);
      if (range->kind == index_kind::number) {
        lookups.push("ZRANGEBYSCORE", shard, range->min, range->max, "WITHSCORES");
      } else {
        lookups.push("ZRANGEBYLEX", shard, range->min, range->max);
      }
    }
  }
  const auto found = co_await redis.execute(lookups);
  std::vector<std::vector<std::string>> ids;
  ids.reserve(ranges.size());
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    std::vector<index_hit> hits;
    for (std::size_t bucket = 0; bucket < buckets; ++bucket) {
      const std::size_t at = i * buckets + bucket;
      found[at].throw_if_error(lookups.command_name(at) + " " + layout.index_key(bucket, ranges[i]->path));
      append_index_hits(ranges[i]->kind, found[at], hits);
    }
    ids.push_back(merge_index_hits(ranges[i]->kind, std::move(hits)));
  }
  co_return ids;
}

std::vector<std::string> merge_index_hits(index_kind kind, std::vector<index_hit> hits) {
  // A sorted set orders by score, then by member bytes (unsigned, as std::string compares).
  std::sort(hits.begin(), hits.end(), [](const index_hit& a, const index_hit& b) {
    return a.score != b.score ? a.score < b.score : a.member < b.member;
  });
  std::vector<std::string> ids;
  ids.reserve(hits.size());
  for (auto& hit : hits) {
    if (kind == index_kind::number) {
      ids.push_back(std::move(hit.member));
    } else if (auto id = id_of_index_member(hit.member)) {
      ids.push_back(std::move(*id));
    }
  }
  return ids;
}

std::vector<std::string> order_candidates(std::vector<std::string> candidates,
                                          const std::optional<std::vector<std::string>>& index_ids, bool descending) {
  if (!index_ids) {
    if (descending) std::reverse(candidates.begin(), candidates.end());
    return candidates;
  }
  std::unordered_set<std::string> pending(candidates.begin(), candidates.end());
  std::vector<std::string> ordered;
  ordered.reserve(candidates.size());
  const auto take = [&](const std::string& id) {
    if (pending.erase(id) > 0) ordered.push_back(id);
  };
  if (descending) {
    std::for_each(index_ids->rbegin(), index_ids->rend(), take);
  } else {
    std::for_each(index_ids->begin(), index_ids->end(), take);
  }
  for (auto& id : candidates)
    if (pending.contains(id)) ordered.push_back(std::move(id));
  return ordered;
}

std::string escape_index_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    out += c;
    if (c == '\0') out += '\x01';
  }
  return out;
}

std::optional<std::string> id_of_index_member(std::string_view member) {
  constexpr std::string_view separator("\0\0", 2);
  const auto at = member.find(separator);
  if (at == std::string_view::npos) return std::nullopt;
  return std::string(member.substr(at + separator.size()));
}

// Text index members are "<escaped text>\0\0<id>": a value's members lie in [text\0\0, text\0\1).
std::string text_lower_bound(std::string_view encoded) {
  std::string bound = "[";
  bound.append(encoded).append(std::string_view("\0\0", 2));
  return bound;
}

std::string text_upper_bound(std::string_view encoded) {
  std::string bound = "(";
  bound.append(encoded).append(std::string_view("\0\1", 2));
  return bound;
}

std::string text_prefix_end(std::string_view encoded_prefix) {
  std::string end(encoded_prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xFF) end.pop_back();
  if (end.empty()) return "+";
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return "(" + end;
}

}  // namespace rapyer::detail

#include "rapyer/detail/layout_migration.hpp"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "rapyer/detail/atomic_blocks.hpp"
#include "rapyer/detail/model_base.hpp"
#include "rapyer/detail/model_registry.hpp"

namespace rapyer::detail {
namespace {

/// Moves the models at `old_keys` (model keys of the unbucketed layout); returns how many existed.
awaitable<std::size_t> move_models(client& redis, const key_layout& layout, std::span<const std::string> old_keys,
                                   std::span<const std::string> key_suffixes, std::span<const index_spec> specs) {
  request dumps;
  for (const auto& key : old_keys) {
    for (const auto& suffix : key_suffixes) {
      dumps.push("DUMP", key + suffix);
      dumps.push("PTTL", key + suffix);
    }
  }
  const auto dumped = co_await redis.execute(dumps);
  // The DUMP reply of a model's key; its PTTL reply follows it.
  const auto dump_at = [&](std::size_t model, std::size_t key) { return (model * key_suffixes.size() + key) * 2; };
  std::vector<std::string> ids;
  std::vector<std::string> new_keys;
  std::size_t moved = 0;  // models whose hash was found
  for (std::size_t i = 0; i < old_keys.size(); ++i) {
    ids.push_back(*layout.unbucketed().id_of(old_keys[i]));
    new_keys.push_back(layout.model_key(ids.back()));
    for (std::size_t k = 0; k < key_suffixes.size(); ++k) {
      dumped[dump_at(i, k)].throw_if_error("DUMP " + old_keys[i] + key_suffixes[k]);
    }
    if (!dumped[dump_at(i, 0)].is_nil()) ++moved;
  }
  // A model's new keys appear at once, with its index entries; the old ones go afterwards, so an
  // interruption leaves a model in both places at worst, which the next run resolves. When the
  // reindex script was missing, only the index updates run again (noscript_rerun).
  atomic_blocks blocks(redis.is_cluster(), new_keys);
  const auto restore_block = [&](request& block, std::span<const std::size_t> members) {
    for (const std::size_t i : members) {
      for (std::size_t k = 0; k < key_suffixes.size(); ++k) {
        const std::size_t at = dump_at(i, k);
        if (dumped[at].is_nil()) continue;  // an empty collection, or a model that is gone
        const long long ttl_ms = std::max(dumped[at + 1].as_integer(), 0LL);
        block.push("RESTORE", new_keys[i] + key_suffixes[k], ttl_ms, dumped[at].as_string(), "REPLACE");
      }
      push_reindex_call(block, new_keys[i], layout, ids[i], specs);
    }
  };
  const auto restored = co_await blocks.execute(redis, restore_block);
  for (const auto* results : blocks.all_results(restored)) {
    for (const auto& r : *results) r.throw_if_error("moving a model into " + layout.head() + "'s buckets");
  }
  request deletes;
  for (const auto& key : old_keys) {
    std::vector<std::string> keys;
    for (const auto& suffix : key_suffixes) keys.push_back(key + suffix);
    deletes.push("DEL", keys);
  }
  for (const auto& r : co_await redis.execute(deletes)) r.throw_if_error("DEL");
  co_return moved;
}

}  // namespace

awaitable<std::size_t> migrate_to_buckets(client& redis, const key_layout& layout,
                                          std::span<const std::string> key_suffixes,
                                          std::span<const index_spec> specs) {
  const key_layout old_layout = layout.unbucketed();
  std::vector<std::string> old_keys;
  // The old pattern matches the bucketed keys too: they are left alone.
  for (auto& key : co_await scan_model_keys(redis, old_layout.scan_pattern(), std::nullopt)) {
    if (!layout.has_bucket_tag(key) && old_layout.id_of(key)) old_keys.push_back(std::move(key));
  }
  constexpr std::size_t batch = 256;
  std::size_t moved = 0;
  for (std::size_t first = 0; first < old_keys.size(); first += batch) {
    const std::span<const std::string> keys(old_keys.data() + first, std::min(batch, old_keys.size() - first));
    moved += co_await move_models(redis, layout, keys, key_suffixes, specs);
  }
  request drop;
  for (const auto& spec : specs) {
    drop.push("DEL", old_layout.index_key(0, spec.path));
    if (spec.kind == index_kind::text) drop.push("DEL", old_layout.index_key(0, spec.path) + ":members");
  }
  if (!drop.empty()) {
    for (const auto& r : co_await redis.execute(drop)) r.throw_if_error("DEL");
  }
  co_return moved;
}

}  // namespace rapyer::detail

// Moving an indexed class's models from the unbucketed layout of earlier versions ("<prefix><Name>:{<id>}",
// class-wide indexes "<prefix><Name>:index:<path>") to its index buckets (key_layout.hpp).
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "rapyer/client.hpp"
#include "rapyer/detail/index.hpp"
#include "rapyer/detail/key_layout.hpp"

namespace rapyer::detail {

/// Moves every model stored in `layout.unbucketed()` to its bucket, with its index entries, then
/// deletes the class-wide indexes; returns how many models moved. `key_suffixes`: the suffix of
/// each key of a model after its model key ("" for the hash, ":<field>" per collection). Per
/// model: DUMP and PTTL of its old keys; RESTORE of its new keys with its index entries in one
/// MULTI/EXEC; DEL of the old keys. Idempotent: run again after an interruption, it finishes.
awaitable<std::size_t> migrate_to_buckets(client& redis, const key_layout& layout,
                                          std::span<const std::string> key_suffixes, std::span<const index_spec> specs);

}  // namespace rapyer::detail

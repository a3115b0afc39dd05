// Per-model settings, with documented defaults. A model class customizes them with a static
// member function:  static rapyer::model_config redis_config() { return {.ttl = 3600s}; }
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace rapyer {

class client;

struct model_config {
  /// Prepended to the class name in every key: "<prefix><name>:{<id>}" (see key_layout.hpp). Default: none.
  std::string prefix;
  /// The class name used in keys and in the stored marker; empty: the C++ class name.
  std::string name;
  /// Expiry set on every save (on all of the model's keys); empty: save keeps any existing TTL.
  std::optional<std::chrono::seconds> ttl;
  /// Every field operation also resets the TTL (in the same atomic step). Needs ttl.
  bool refresh_ttl = false;
  /// The client to use; empty: the process-wide default set by rapyer::init.
  std::shared_ptr<client> redis;
  /// Fields (top-level names or dotted paths) that load as default instead of failing the whole
  /// load when their stored value does not decode; the failures are listed in load_errors().
  std::set<std::string> safe_load;
  /// Every field is safe-load.
  bool safe_load_all = false;
  /// Fields (top-level names or dotted paths of plain values: numbers, bool, enums, strings, bytes,
  /// times, optionals of those) kept in a secondary index, so that Model::afind(query) can find
  /// models by them. The index is sharded over index_buckets buckets; each model is stored in the
  /// slot of its bucket, with its index entries, so that every write updates them atomically, on
  /// a cluster too (README "Storage layout").
  std::set<std::string> indexes;
  /// Buckets of an indexed class (at least 1; fixed once data is stored: a model's key depends on
  /// it). More spread the class over more cluster nodes; a query reads every bucket.
  std::size_t index_buckets = 16;
};

}  // namespace rapyer

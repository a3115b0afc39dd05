// The keys of a model class, built and parsed here only (README "Storage layout"):
//  - an unindexed class: "<prefix><Name>:{<id>}". The id is the hash tag, so the models spread
//    over every slot of a cluster;
//  - an indexed class (model_config::indexes): "<prefix><Name>:{<Name>#<b>}:{<id>}", where the
//    bucket b = CRC16(id) mod model_config::index_buckets, and per bucket and indexed path the
//    index shard "<prefix><Name>:{<Name>#<b>}:index:<path>". A model and its index entries share
//    the slot of the tag "<Name>#<b>": every write and its index upkeep are one atomic step, on a
//    cluster too, while the buckets spread the class over the primaries;
//  - either: "<model key>:<field>" for each collection field.
// A standalone server holds every bucket, so the layout is the same on both.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rapyer::detail {

class key_layout {
 public:
  /// `buckets` 0: the unbucketed layout of an unindexed class.
  key_layout(std::string prefix, std::string name, std::size_t buckets);

  /// "<prefix><Name>": the class's key head, by which the registry finds it (key_head_of).
  const std::string& head() const noexcept { return head_; }
  std::size_t buckets() const noexcept { return buckets_; }
  /// The bucket of the model with `id` (0 when unbucketed).
  std::size_t bucket_of(std::string_view id) const noexcept;
  /// The key of the model with `id`, followed by ":<suffix>" when there is one (a collection key).
  std::string model_key(std::string_view id, std::string_view suffix = {}) const;
  /// The id in a model key of this layout, or nullopt for any other key (of another class or
  /// layout, a collection or index key, a bucket that is not the id's).
  std::optional<std::string> id_of(std::string_view key) const;
  /// The key a lookup of a class with a Key<T> field is given: `key_or_id` itself when it has the
  /// form of a model key of the class (of this layout, or of the one before buckets, whose lookup
  /// then fails naming the key), else the key of the model with that id. So an id that has that
  /// form itself ("User:{x}" as a User's id) is given as its full key ("User:{User:{x}}").
  std::string key_of(std::string_view key_or_id) const;
  /// Whether `key` carries a bucket tag of this class ("<prefix><Name>:{<Name>#"), whatever the
  /// bucket count: such a key is never one of the unbucketed layout.
  bool has_bucket_tag(std::string_view key) const;
  /// The index shard of `path` in `bucket`; unbucketed: the class-wide "<prefix><Name>:index:<path>"
  /// of layouts before buckets, which amigrate_layout() removes.
  std::string index_key(std::size_t bucket, std::string_view path) const;
  /// The SCAN MATCH pattern of the index keys of every bucket (shards and their ":members" hashes).
  std::string index_scan_pattern() const;
  /// The indexed path of an index key of a bucket of this layout ("age" for the shard
  /// ".../index:age" and its ".../index:age:members"), or nullopt for any other key.
  std::optional<std::string> index_path_of(std::string_view key) const;
  /// The SCAN MATCH pattern of the class's model keys (a text index's ":members" hash aside, only
  /// model hashes are hashes that match).
  std::string scan_pattern() const;
  /// This class's layout without buckets: where an indexed class's models were stored before.
  key_layout unbucketed() const { return {prefix_, name_, 0}; }

 private:
  /// Appends "{<Name>#<b>}", the hash tag of a bucket.
  void append_bucket_tag(std::string& key, std::size_t bucket) const;

  std::string prefix_;
  std::string name_;
  std::string head_;
  std::size_t buckets_;
};

/// The key head "<prefix><Name>" of a model key "<prefix><Name>:{...", or nullopt.
std::optional<std::string_view> key_head_of(std::string_view key);

}  // namespace rapyer::detail

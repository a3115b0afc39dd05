#include "rapyer/detail/scripts.hpp"

namespace rapyer::detail::scripts {
namespace {

/// Appends `EVALSHA <sha> <#keys> keys... args...`.
template <class... Args>
const script* push_call(request& req, const script& called, std::span<const std::string> keys, const Args&... args) {
  req.push("EVALSHA", called.sha, keys.size(), keys, args...);
  return &called;
}

/// A script on one key: KEYS = key; ARGV = args...
template <class... Args>
const script* push_on_key(request& req, const script& called, std::string_view key, const Args&... args) {
  req.push("EVALSHA", called.sha, 1, key, args...);
  return &called;
}

/// A script on a field of the model at `model_key` whose data is at `key`: KEYS = both.
template <class... Args>
const script* push_on_field(request& req, const script& called, std::string_view model_key, std::string_view key,
                            const Args&... args) {
  req.push("EVALSHA", called.sha, 2, model_key, key, args...);
  return &called;
}

/// A call of save.lua, or of a guard followed by it, with save.lua's KEYS and ARGV.
const script* push_save_call(request& req, const script& called, const save_arguments& args) {
  std::vector<std::string> keys(1, args.model_key);
  for (const auto& collection : args.collections) keys.push_back(collection.key);
  keys.insert(keys.end(), args.index.keys.begin(), args.index.keys.end());
  std::vector<std::string> collections;
  for (const auto& collection : args.collections) {
    collections.emplace_back(1, collection.kind);
    collections.push_back(std::to_string(collection.items.size()));
    collections.insert(collections.end(), collection.items.begin(), collection.items.end());
  }
  const auto pair_count = args.hash_pairs ? static_cast<long long>(args.hash_pairs->size() / 2) : -1LL;
  const std::vector<std::string> no_pairs;
  return push_call(req, called, keys, args.ttl_ms, args.version_field, args.expected_version, pair_count,
                   args.collections.size(), args.hash_pairs ? *args.hash_pairs : no_pairs, collections,
                   args.index.args);
}

}  // namespace

const script* push_save(request& req, const save_arguments& args) { return push_save_call(req, save, args); }

const script* push_remove(request& req, std::span<const std::string> model_keys, const index_section& index) {
  std::vector<std::string> keys(model_keys.begin(), model_keys.end());
  keys.insert(keys.end(), index.keys.begin(), index.keys.end());
  return push_call(req, remove, keys, model_keys.size(), index.args);
}

const script* push_reindex(request& req, std::string_view model_key, const index_section& index) {
  std::vector<std::string> keys(1, std::string(model_key));
  keys.insert(keys.end(), index.keys.begin(), index.keys.end());
  return push_call(req, reindex, keys, index.args);
}

const script* push_expire_all(request& req, std::span<const std::string> keys, long long ttl_seconds) {
  return push_call(req, expire_all, keys, ttl_seconds);
}

const script* push_lock_release(request& req, std::string_view lock_key, std::string_view token) {
  return push_on_key(req, lock_release, lock_key, token);
}

const script* push_lock_extend(request& req, std::string_view lock_key, std::string_view token, long long ttl_ms) {
  return push_on_key(req, lock_extend, lock_key, token, ttl_ms);
}

const script* push_list_insert(request& req, std::string_view model_key, std::string_view list_key, long long index,
                               std::string_view value) {
  return push_on_field(req, list_insert, model_key, list_key, index, value);
}

const script* push_list_pop_at(request& req, std::string_view model_key, std::string_view list_key, long long index,
                               std::string_view tombstone) {
  return push_on_field(req, list_pop_at, model_key, list_key, index, tombstone);
}

const script* push_list_remove_range(request& req, std::string_view model_key, std::string_view list_key,
                                     long long start, long long end, std::string_view tombstone) {
  return push_on_field(req, list_remove_range, model_key, list_key, start, end, tombstone);
}

const script* push_dict_pop(request& req, std::string_view model_key, std::string_view hash_key,
                            std::string_view field) {
  return push_on_field(req, dict_pop, model_key, hash_key, field);
}

const script* push_dict_pop_item(request& req, std::string_view model_key, std::string_view hash_key) {
  return push_on_field(req, dict_pop_item, model_key, hash_key);
}

const script* push_dict_pop_many(request& req, std::string_view model_key, std::string_view hash_key,
                                 std::size_t count) {
  return push_on_field(req, dict_pop_many, model_key, hash_key, count);
}

const script* push_set_algebra(request& req, std::string_view model_key, std::string_view set_key,
                               std::string_view other_key, std::string_view command) {
  req.push("EVALSHA", set_algebra.sha, 3, model_key, set_key, other_key, command);
  return &set_algebra;
}

const script* push_string_append(request& req, std::string_view hash_key, std::string_view field,
                                 std::string_view suffix) {
  return push_on_key(req, string_append, hash_key, field, suffix);
}

const script* push_integer_arithmetic(request& req, std::string_view hash_key, std::string_view field,
                                      std::string_view operation, long long operand) {
  return push_on_key(req, integer_arithmetic, hash_key, field, operation, operand);
}

const script* push_float_arithmetic(request& req, std::string_view hash_key, std::string_view field,
                                    std::string_view operation, double operand) {
  return push_on_key(req, float_arithmetic, hash_key, field, operation, operand);
}

const script* push_string_repeat(request& req, std::string_view hash_key, std::string_view field, long long count) {
  return push_on_key(req, string_repeat, hash_key, field, count);
}

const script* push_datetime_add(request& req, std::string_view hash_key, std::string_view field, long long delta_us) {
  return push_on_key(req, datetime_add, hash_key, field, delta_us);
}

const script* push_save_if_absent(request& req, const save_arguments& args) {
  return push_save_call(req, save_if_absent, args);
}

}  // namespace rapyer::detail::scripts

#include "rapyer/detail/model_registry.hpp"

#include <array>
#include <map>
#include <mutex>
#include <utility>

#include "rapyer/detail/atomic_blocks.hpp"
#include "rapyer/detail/collection_field.hpp"
#include "rapyer/detail/key_layout.hpp"
#include "rapyer/detail/model_layout.hpp"
#include "rapyer/error.hpp"
#include "rapyer/registry.hpp"

namespace rapyer::detail {
namespace {

struct registry {
  std::mutex mutex;
  std::map<std::string, model_class, std::less<>> classes;
};

registry& models() {
  static registry instance;
  return instance;
}

}  // namespace

void register_model(std::string key_head, const model_class& entry) {
  auto& r = models();
  const std::lock_guard lock(r.mutex);
  r.classes.insert_or_assign(std::move(key_head), entry);
}

std::optional<model_class> find_model_class(std::string_view key) {
  const auto head = key_head_of(key);
  if (!head) return std::nullopt;
  auto& r = models();
  const std::lock_guard lock(r.mutex);
  const auto it = r.classes.find(*head);
  if (it == r.classes.end()) return std::nullopt;
  return it->second;
}

std::string glob_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

namespace {

/// SCAN 0.. MATCH pattern (TYPE `type` unless empty) on every primary, until each cursor returns
/// to 0 or `limit` keys are found.
awaitable<std::vector<std::string>> scan_all(client& redis, std::string pattern, std::string type,
                                             std::optional<std::size_t> limit) {
  std::vector<std::string> keys;
  // A cluster's keys are spread over its primaries: each is scanned in turn.
  for (auto& node : co_await redis.primaries()) {
    std::string cursor = "0";
    do {
      std::vector<std::string> args = {cursor, "MATCH", pattern, "COUNT", "1000"};
      if (!type.empty()) args.insert(args.end(), {"TYPE", type});
      const reply page = co_await node.execute("SCAN", args);
      cursor = page.as_array().at(0).as_string();
      for (const auto& k : page.as_array().at(1).as_array()) {
        if (limit && keys.size() >= *limit) co_return keys;
        keys.push_back(k.as_string());
      }
    } while (cursor != "0");
  }
  co_return keys;
}

}  // namespace

awaitable<std::vector<std::string>> scan_model_keys(client& redis, std::string pattern,
                                                    std::optional<std::size_t> limit) {
  co_return co_await scan_all(redis, std::move(pattern), "hash", limit);
}

awaitable<std::vector<std::string>> scan_keys(client& redis, std::string pattern) {
  co_return co_await scan_all(redis, std::move(pattern), "", std::nullopt);
}

collection_read collection_read_of(collection_kind kind) {
  static constexpr std::array<std::string_view, 2> whole_list{"0", "-1"};
  switch (kind) {
    case collection_kind::list:
      return {"LRANGE", whole_list};
    case collection_kind::hash:
      return {"HGETALL", {}};
    case collection_kind::set:
      break;
  }
  return {"SMEMBERS", {}};
}

void push_collection_read(request& req, collection_kind kind, const std::string& key) {
  const collection_read read = collection_read_of(kind);
  req.push(read.command, key, read.arguments);
}

void check_read_shape(const reply& stored, collection_kind kind) {
  if (!stored.is_array())
    throw decode_failure("expected an array of strings, got " + stored.to_debug_string().substr(0, 64));
  const auto& elements = stored.as_array();
  for (const auto& element : elements) {
    if (!element.is_string())
      throw decode_failure("expected string elements, got " + element.to_debug_string().substr(0, 64));
  }
  if (kind == collection_kind::hash && elements.size() % 2 != 0)
    throw decode_failure("a hash read has an odd element count");
}

std::unordered_map<std::string_view, const std::string*> index_hash(const reply& hash) {
  std::unordered_map<std::string_view, const std::string*> out;
  const auto& flat = hash.as_array();
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) out.emplace(flat[i].as_string(), &flat[i + 1].as_string());
  return out;
}

std::string unqualified_name(std::string_view pretty) {
  auto at = pretty.find("T = ");
  if (at == std::string_view::npos) return std::string(pretty);
  std::string_view name = pretty.substr(at + 4);
  name = name.substr(0, name.find_first_of(";]"));
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '<') ++depth;
    if (name[i] == '>') --depth;
    if (depth == 0 && name[i] == ':' && i + 1 < name.size() && name[i + 1] == ':') start = i + 2;
  }
  return std::string(name.substr(start));
}

}  // namespace rapyer::detail

namespace rapyer {

awaitable<std::unique_ptr<any_model>> aget(std::string key) {
  std::vector<std::string> keys;
  keys.push_back(std::move(key));
  auto found = co_await afind(std::move(keys), missing_keys::raise);
  co_return std::move(found.front());
}

awaitable<bool> aexists(std::string key) {
  const auto found = detail::find_model_class(key);
  if (!found || !found->layout().id_of(key)) co_return false;
  const reply exists = co_await found->redis().execute("EXISTS", key);
  co_return exists.as_integer() == 1;
}

awaitable<std::vector<std::unique_ptr<any_model>>> afind(std::vector<std::string> keys, missing_keys missing) {
  std::vector<detail::model_class> classes;
  classes.reserve(keys.size());
  for (const auto& key : keys) {
    auto found = detail::find_model_class(key);
    if (!found) throw usage_error("no registered model class for key '" + key + "'");
    classes.push_back(*found);
  }
  std::vector<std::unique_ptr<any_model>> models(keys.size());
  std::vector<bool> done(keys.size(), false);
  // One round trip per client the classes use (one in the usual case of a single default client),
  // each model read consistently (detail::atomic_blocks).
  for (std::size_t first = 0; first < keys.size(); ++first) {
    if (done[first]) continue;
    client& redis = classes[first].redis();
    std::vector<std::size_t> batch;
    std::vector<std::string> batch_keys;
    for (std::size_t i = first; i < keys.size(); ++i) {
      if (done[i] || &classes[i].redis() != &redis) continue;
      batch.push_back(i);
      batch_keys.push_back(keys[i]);
      done[i] = true;
    }
    detail::atomic_blocks blocks(redis.is_cluster(), batch_keys);
    std::vector<std::size_t> offset(batch.size());  // of each model's replies in its block
    request req;
    blocks.append_to(req, [&](request& block, std::span<const std::size_t> members) {
      std::size_t at = 0;
      for (const std::size_t j : members) {
        classes[batch[j]].append_read(block, keys[batch[j]]);
        offset[j] = at;
        at += classes[batch[j]].read_size();
      }
      for (const std::size_t j : members) classes[batch[j]].append_read_refresh(block, keys[batch[j]]);
    });
    const auto replies = co_await redis.execute(req);
    for (std::size_t j = 0; j < batch.size(); ++j) {
      const std::size_t i = batch[j];
      const auto* results = blocks.results_of(replies, j).first;
      const std::span<const reply> parts(results->data() + offset[j], classes[i].read_size());
      const bool absent = parts.front().is_array() && parts.front().as_array().empty();
      if (absent && missing == missing_keys::raise) throw key_not_found(keys[i]);
      if (!absent) models[i] = classes[i].decode(keys[i], parts);
    }
  }
  std::erase(models, nullptr);
  co_return models;
}

}  // namespace rapyer

// RedisDict<K, V>: a dict field stored as a native Redis HASH (field = key text, value = plain text
// for scalars, JSON otherwise). Every operation is one atomic round trip.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "rapyer/detail/collection_field.hpp"

namespace rapyer {
namespace detail {
template <class K, class V>
struct dict_traits {
  static_assert(is_scalar_v<K>, "RedisDict keys must be strings, numbers, enums or times");
  using container_type = std::map<K, V>;
  static constexpr collection_kind kind = collection_kind::hash;
  static std::vector<std::string> encode_items(const container_type& items) {
    std::vector<std::string> out;
    out.reserve(items.size() * 2);
    for (const auto& [k, v] : items) {
      out.push_back(encode(k));
      out.push_back(encode(v));
    }
    return out;
  }
  static container_type decode_items(const reply& stored, const std::string& key, const std::string& field) {
    container_type out;
    const auto& flat = stored.as_array();
    for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
      out.emplace(decode_at<K>(flat[i].as_string(), key, field), decode_at<V>(flat[i + 1].as_string(), key, field));
    }
    return out;
  }
};
}  // namespace detail

template <class K, class V>
class RedisDict : public detail::collection_field<detail::dict_traits<K, V>> {
  using base = detail::collection_field<detail::dict_traits<K, V>>;
  using traits = detail::dict_traits<K, V>;

 public:
  using base::base;
  using base::operator=;

  const V& operator[](const K& k) const { return this->items_.at(k); }
  const V& at(const K& k) const { return this->items_.at(k); }
  bool contains(const K& k) const { return this->items_.contains(k); }
  /// Local only; save() or the a-operations write.
  V& operator[](const K& k) { return this->items_[k]; }

  // Each operation is one command; its reply handler updates the local copy (after EXEC inside
  // apipeline(), where the returned value is the local one).

  /// HSET one entry.
  awaitable<void> aset_item(K k, V v) {
    request req;
    this->push_command(req, "HSET", detail::encode(k), detail::encode(v));
    auto apply = [this, k = std::move(k), v = std::move(v)](const reply&) { this->items_.insert_or_assign(k, v); };
    co_await this->perform(std::move(req), std::move(apply));
  }

  /// HDEL; returns whether the entry existed on the server.
  awaitable<bool> adel_item(const K& k) {
    request req;
    this->push_command(req, "HDEL", detail::encode(k));
    auto apply = [this, k](const reply&) { this->items_.erase(k); };
    return this->perform_returning(std::move(req), std::move(apply), detail::counted_one);
  }

  /// HSET of every entry at once: aupdate(map) or aupdate(std::pair{"k", "v"}, ...). (GCC 12 cannot
  /// compile a braced list inside a co_await expression, hence the variadic form.)
  template <class... Entries>
  requires(sizeof...(Entries) > 0 &&
           (std::constructible_from<std::pair<K, V>, Entries> && ...)) awaitable<void> aupdate(Entries&&... entries) {
    const std::map<K, V> all{std::pair<K, V>(std::forward<Entries>(entries))...};
    co_await aupdate(all);
  }
  awaitable<void> aupdate(const std::map<K, V>& entries) {
    if (entries.empty()) co_return;
    request req;
    this->push_command(req, "HSET", traits::encode_items(entries));
    auto apply = [this, entries](const reply&) {
      for (const auto& [k, v] : entries) this->items_.insert_or_assign(k, v);
    };
    co_await this->perform(std::move(req), std::move(apply));
  }

  /// Removes and returns the value at k; nullopt when absent.
  awaitable<std::optional<V>> apop(const K& k) {
    const std::string key = this->key();
    request req;
    detail::scripts::push_dict_pop(req, this->model().key(), key, detail::encode(k));
    auto apply = [this, k](const reply&) { this->items_.erase(k); };
    return this->perform_returning(std::move(req), std::move(apply), this->template decoded_element<V>());
  }
  /// As apop(k), but `fallback` when absent.
  awaitable<V> apop(const K& k, V fallback) {
    auto value = co_await apop(k);
    co_return value ? std::move(*value) : std::move(fallback);
  }

  /// Removes and returns some entry; nullopt when the dict is empty (where Python's popitem()
  /// raises KeyError).
  awaitable<std::optional<std::pair<K, V>>> apopitem() {
    const std::string key = this->key();
    request req;
    detail::scripts::push_dict_pop_item(req, this->model().key(), key);
    const auto decode = [key, name = this->field_name()](const reply& r) -> std::optional<std::pair<K, V>> {
      if (r.is_nil()) return std::nullopt;
      const auto& pair = r.as_array();
      return std::make_pair(detail::decode_at<K>(pair.at(0).as_string(), key, name),
                            detail::decode_at<V>(pair.at(1).as_string(), key, name));
    };
    auto apply = [this, decode](const reply& r) {
      if (auto popped = decode(r)) this->items_.erase(popped->first);
    };
    return this->perform_returning(std::move(req), std::move(apply), decode);
  }

  /// Removes and returns up to n entries, any ones, as n calls of apopitem() would.
  awaitable<std::map<K, V>> apop_many(std::size_t n) {
    request req;
    detail::scripts::push_dict_pop_many(req, this->model().key(), this->key(), n);
    const auto decode = this->decoded_items();
    auto apply = [this, decode](const reply& r) {
      for (const auto& entry : decode(r)) this->items_.erase(entry.first);
    };
    return this->perform_returning(std::move(req), std::move(apply), decode);
  }

  // Reads of part of the dict, asked of the server; the local copy stays as it is.

  /// HGET: the value at k; nullopt when absent.
  awaitable<std::optional<V>> aget_item(const K& k) const {
    request req;
    this->push_command(req, "HGET", detail::encode(k));
    const auto decode = this->template decoded_element<V>();
    co_return decode(co_await this->read(std::move(req)));
  }

  /// HKEYS: every key, in no particular order.
  awaitable<std::vector<K>> akeys() const {
    request req;
    this->push_command(req, "HKEYS");
    const auto decode = this->template decoded_element<K>();
    const reply stored = co_await this->read(std::move(req));
    std::vector<K> keys;
    keys.reserve(stored.as_array().size());
    for (const auto& field : stored.as_array()) keys.push_back(*decode(field));
    co_return keys;
  }

  /// HLEN.
  awaitable<std::size_t> alen() const { return this->read_count("HLEN"); }
};

}  // namespace rapyer

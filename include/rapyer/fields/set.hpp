// RedisSet<T>: a set field stored as a native Redis SET. Every operation is one atomic round trip.
#pragma once

#include <memory>
#include <optional>
#include <ranges>
#include <set>
#include <string_view>
#include <vector>

#include "rapyer/detail/collection_field.hpp"

namespace rapyer {
namespace detail {
template <class T>
struct set_traits {
  using container_type = std::set<T>;
  static constexpr collection_kind kind = collection_kind::set;
  static std::vector<std::string> encode_items(const container_type& items) { return encode_each(items); }
  static container_type decode_items(const reply& stored, const std::string& key, const std::string& field) {
    container_type out;
    for (const auto& element : stored.as_array()) out.insert(decode_at<T>(element.as_string(), key, field));
    return out;
  }
};
}  // namespace detail

template <class T>
class RedisSet : public detail::collection_field<detail::set_traits<T>> {
  using base = detail::collection_field<detail::set_traits<T>>;

 public:
  using base::base;
  using base::operator=;

  bool contains(const T& value) const { return this->items_.contains(value); }
  /// Local only; save() or the a-operations write.
  void insert(T value) { this->items_.insert(std::move(value)); }

  // Each operation is one command; its reply handler updates the local copy (after EXEC inside
  // apipeline(), where the returned value is the local one).

  /// SADD; returns whether the element was new on the server.
  awaitable<bool> aadd(T value) {
    request req;
    this->push_command(req, "SADD", detail::encode(value));
    auto apply = [this, value = std::move(value)](const reply&) { this->items_.insert(value); };
    return this->perform_returning(std::move(req), std::move(apply), detail::counted_one);
  }

  /// SREM; returns whether the element was present on the server.
  awaitable<bool> aremove(const T& value) {
    request req;
    this->push_command(req, "SREM", detail::encode(value));
    auto apply = [this, value](const reply&) { this->items_.erase(value); };
    return this->perform_returning(std::move(req), std::move(apply), detail::counted_one);
  }

  /// SPOP: removes and returns some element; nullopt when empty.
  awaitable<std::optional<T>> apop() {
    request req;
    this->push_command(req, "SPOP");
    const auto decode = this->template decoded_element<T>();
    auto apply = [this, decode](const reply& r) {
      if (auto popped = decode(r)) this->items_.erase(*popped);
    };
    return this->perform_returning(std::move(req), std::move(apply), decode);
  }

  /// SADD of many elements at once: aadd_many(range) or aadd_many("a", "b", ...); returns how many
  /// were new on the server.
  template <std::ranges::input_range Range>
  requires std::convertible_to<std::ranges::range_value_t<Range>, T> awaitable<std::size_t> aadd_many(
      const Range& values) {
    std::vector<T> added(std::ranges::begin(values), std::ranges::end(values));
    if (added.empty()) co_return 0;
    request req;
    this->push_command(req, "SADD", detail::encode_each(added));
    auto apply = [this, added = std::move(added)](const reply&) { this->items_.insert(added.begin(), added.end()); };
    co_return co_await this->perform_returning(std::move(req), std::move(apply), detail::count_or_zero);
  }
  template <class... Values>
  requires(sizeof...(Values) > 0 &&
           (std::constructible_from<T, Values> && ...)) awaitable<std::size_t> aadd_many(Values&&... values) {
    const std::vector<T> all{T(std::forward<Values>(values))...};
    co_return co_await aadd_many(all);
  }

  /// SREM of many elements at once, in the forms of aadd_many; returns how many were present.
  template <std::ranges::input_range Range>
  requires std::convertible_to<std::ranges::range_value_t<Range>, T> awaitable<std::size_t> aremove_many(
      const Range& values) {
    std::vector<T> removed(std::ranges::begin(values), std::ranges::end(values));
    if (removed.empty()) co_return 0;
    request req;
    this->push_command(req, "SREM", detail::encode_each(removed));
    auto apply = [this, removed = std::move(removed)](const reply&) {
      for (const auto& value : removed) this->items_.erase(value);
    };
    co_return co_await this->perform_returning(std::move(req), std::move(apply), detail::count_or_zero);
  }
  template <class... Values>
  requires(sizeof...(Values) > 0 &&
           (std::constructible_from<T, Values> && ...)) awaitable<std::size_t> aremove_many(Values&&... values) {
    const std::vector<T> all{T(std::forward<Values>(values))...};
    co_return co_await aremove_many(all);
  }

  /// SPOP with a count: removes and returns up to n elements, any ones.
  awaitable<std::set<T>> apop_many(std::size_t n) {
    request req;
    this->push_command(req, "SPOP", n);
    const auto decode = this->decoded_items();
    auto apply = [this, decode](const reply& r) {
      for (const auto& value : decode(r)) this->items_.erase(value);
    };
    return this->perform_returning(std::move(req), std::move(apply), decode);
  }

  // Set algebra with `other`, another set field of the same model object (so in the same cluster
  // slot; any other is a usage_error). The plain forms read: the local copies stay as they are.
  // The _store forms replace this set with the result and return its size; the local copy becomes
  // the same algebra of the two local copies.

  /// SUNION: the elements of either set.
  awaitable<std::set<T>> aunion(const RedisSet& other) const { return algebra(other, "SUNION"); }
  /// SINTER: the elements of both sets.
  awaitable<std::set<T>> aintersect(const RedisSet& other) const { return algebra(other, "SINTER"); }
  /// SDIFF: the elements of this set not in `other`.
  awaitable<std::set<T>> adifference(const RedisSet& other) const { return algebra(other, "SDIFF"); }

  /// SUNIONSTORE into this set.
  awaitable<std::size_t> aunion_store(const RedisSet& other) {
    return algebra_store(other, "SUNIONSTORE",
                         [this, &other](const reply&) { this->items_.insert(other.begin(), other.end()); });
  }
  /// SINTERSTORE into this set.
  awaitable<std::size_t> aintersect_store(const RedisSet& other) {
    return algebra_store(other, "SINTERSTORE", [this, &other](const reply&) {
      std::erase_if(this->items_, [&other](const T& value) { return !other.contains(value); });
    });
  }
  /// SDIFFSTORE into this set.
  awaitable<std::size_t> adifference_store(const RedisSet& other) {
    return algebra_store(other, "SDIFFSTORE", [this, &other](const reply&) {
      std::erase_if(this->items_, [&other](const T& value) { return other.contains(value); });
    });
  }

  // Reads of the set, asked of the server; the local copy stays as it is.

  /// SISMEMBER.
  awaitable<bool> acontains(const T& value) const {
    request req;
    this->push_command(req, "SISMEMBER", detail::encode(value));
    co_return detail::counted_one(co_await this->read(std::move(req)));
  }

  /// SMEMBERS.
  awaitable<std::set<T>> amembers() const {
    request req;
    this->push_command(req, "SMEMBERS");
    const auto decode = this->decoded_items();
    co_return decode(co_await this->read(std::move(req)));
  }

  /// SCARD.
  awaitable<std::size_t> asize() const { return this->read_count("SCARD"); }

 private:
  /// A call of set_algebra.lua running `command` on this set and `other`.
  request algebra_call(const RedisSet& other, std::string_view command) const {
    if (&other.model() != &this->model()) {
      throw usage_error("set algebra needs two sets of one model: " + this->key() + " and " + other.key());
    }
    request req;
    detail::scripts::push_set_algebra(req, this->model().key(), this->key(), other.key(), command);
    return req;
  }
  awaitable<std::set<T>> algebra(const RedisSet& other, std::string_view command) const {
    request req = algebra_call(other, command);
    const auto decode = this->decoded_items();
    co_return decode(co_await this->read(std::move(req)));
  }
  template <class Apply>
  awaitable<std::size_t> algebra_store(const RedisSet& other, std::string_view command, Apply apply) {
    request req = algebra_call(other, command);
    co_return co_await this->perform_returning(std::move(req), std::move(apply), detail::count_or_zero);
  }
};

}  // namespace rapyer

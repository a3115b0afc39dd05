// RedisSet<T>: a set field stored as a native Redis SET. Every operation is one atomic round trip.
#pragma once

#include <memory>
#include <optional>
#include <set>

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
    const std::string key = this->key();
    request req;
    this->push_command(req, "SPOP");
    const auto decode = [key, name = this->field_name()](const reply& r) -> std::optional<T> {
      if (r.is_nil()) return std::nullopt;
      return detail::decode_at<T>(r.as_string(), key, name);
    };
    auto apply = [this, decode](const reply& r) {
      if (auto popped = decode(r)) this->items_.erase(*popped);
    };
    return this->perform_returning(std::move(req), std::move(apply), decode);
  }

  /// SISMEMBER, asked of the server.
  awaitable<bool> acontains(const T& value) const {
    request req;
    this->push_command(req, "SISMEMBER", detail::encode(value));
    co_return detail::counted_one(co_await this->read(std::move(req)));
  }
};

}  // namespace rapyer

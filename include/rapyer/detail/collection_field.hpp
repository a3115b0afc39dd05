// The common part of RedisList, RedisDict and RedisSet: a container mirrored locally, stored in a
// native Redis LIST / HASH / SET at "<model key>:<field name>", with field-level save() and aload().
#pragma once

#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rapyer/detail/codec.hpp"
#include "rapyer/detail/model_base.hpp"
#include "rapyer/detail/scripts.hpp"
#include "rapyer/error.hpp"

namespace rapyer::detail {

/// Marks proxies stored in a key of their own.
struct collection_field_tag {};

enum class collection_kind : char { list = 'l', hash = 'h', set = 's' };

/// Each element encoded, in order (the items of a list or set).
template <class Range>
std::vector<std::string> encode_each(const Range& items) {
  std::vector<std::string> out;
  out.reserve(std::ranges::size(items));
  for (const auto& item : items) out.push_back(encode(item));
  return out;
}

/// The command that reads a whole collection of a kind, and its arguments after the key.
struct collection_read {
  std::string_view command;
  std::span<const std::string_view> arguments;
};
collection_read collection_read_of(collection_kind kind);
/// Appends the command that reads a whole collection of this kind.
void push_collection_read(request& req, collection_kind kind, const std::string& key);
/// Throws decode_failure unless `stored` has the shape that reading a collection of this kind
/// returns: an array of strings, in field/value pairs for a hash.
void check_read_shape(const reply& stored, collection_kind kind);

/// `Traits` gives: container type, kind, encode_items(container) -> vector<string> (for a hash:
/// field, value, ...), decode_items(const reply&, key, field) -> container.
template <class Traits>
class collection_field : public field_proxy, public collection_field_tag {
 public:
  using traits_type = Traits;
  using container_type = typename Traits::container_type;
  using value_type = typename container_type::value_type;
  static constexpr collection_kind kind = Traits::kind;

  collection_field() = default;
  collection_field(container_type items) : items_(std::move(items)) {}  // NOLINT(google-explicit-constructor)
  collection_field(const collection_field&) = default;
  collection_field(collection_field&& other) noexcept : field_proxy(other), items_(std::move(other.items_)) {}
  collection_field& operator=(const collection_field& other) {
    items_ = other.items_;
    return *this;
  }
  collection_field& operator=(collection_field&& other) noexcept {
    items_ = std::move(other.items_);
    return *this;
  }
  collection_field& operator=(container_type items) {
    items_ = std::move(items);
    return *this;
  }

  operator const container_type&() const noexcept { return items_; }  // NOLINT(google-explicit-constructor)
  const container_type& value() const noexcept { return items_; }
  container_type& value() noexcept { return items_; }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  auto begin() const noexcept { return items_.begin(); }
  auto end() const noexcept { return items_.end(); }
  friend bool operator==(const collection_field& a, const container_type& b) { return a.items_ == b; }
  friend bool operator==(const collection_field& a, const collection_field& b) { return a.items_ == b.items_; }

  /// The key holding this collection: "<model key>:<field name>".
  std::string key() const { return model().collection_key(model().field_name_of(this)); }

  /// Replaces only this collection on the server, atomically, keeping the model's TTL;
  /// key_not_found when the model does not exist.
  awaitable<void> save() const {
    const model_base& owner = model();
    scripts::save_arguments args;  // no hash pairs: the hash stays; collections are never indexed
    args.model_key = owner.key();
    args.ttl_ms = owner.config().ttl ? owner.config().ttl->count() * 1000 : 0;
    args.collections.push_back({key(), static_cast<char>(kind), Traits::encode_items(items_)});
    request req;
    scripts::push_save(req, args);
    co_await perform(std::move(req));
  }

  /// Re-reads only this collection; key_not_found when the model does not exist.
  awaitable<void> aload() {
    const std::string k = key();
    request req;
    const collection_read whole = collection_read_of(kind);
    push_command(req, whole.command, whole.arguments);
    const reply stored = co_await read(std::move(req));
    items_ = Traits::decode_items(stored, k, field_name());
  }

  /// Deletes the whole collection (DEL) and empties the local copy.
  awaitable<void> aclear() {
    request req;
    push_command(req, "DEL");
    const auto apply = [this](const reply&) { items_.clear(); };
    co_await perform(std::move(req), apply);
  }

 protected:
  /// Appends `command <this collection's key> args...`, run only while the model exists.
  template <class... Args>
  void push_command(request& req, std::string_view command, const Args&... args) const {
    scripts::push_field_command(req, model().key(), command, key(), args...);
  }

  /// Decodes a reply of one element of type `Element` (a dict's key or value); nil: nullopt.
  template <class Element>
  auto decoded_element() const {
    return [k = key(), name = field_name()](const reply& r) -> std::optional<Element> {
      if (r.is_nil()) return std::nullopt;
      return decode_at<Element>(r.as_string(), k, name);
    };
  }
  /// Decodes a reply of elements read as aload() reads them; nil (an operation queued in
  /// apipeline()): none.
  auto decoded_items() const {
    return [k = key(), name = field_name()](const reply& r) {
      return r.is_nil() ? container_type() : Traits::decode_items(r, k, name);
    };
  }
  /// The size a reply counts (LLEN, HLEN, SCARD), read without loading the collection.
  awaitable<std::size_t> read_count(std::string_view command) const {
    request req;
    push_command(req, command);
    co_return count_or_zero(co_await read(std::move(req)));
  }

  container_type items_;
};

}  // namespace rapyer::detail

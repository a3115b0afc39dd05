// RedisList<T>: a list field stored as a native Redis LIST; elements are plain text for scalars
// and JSON text otherwise. Every operation is one atomic round trip.
#pragma once

#include <memory>
#include <optional>
#include <ranges>
#include <vector>

#include "rapyer/detail/collection_field.hpp"

namespace rapyer {
namespace detail {
template <class T>
struct list_traits {
  using container_type = std::vector<T>;
  static constexpr collection_kind kind = collection_kind::list;
  static std::vector<std::string> encode_items(const container_type& items) { return encode_each(items); }
  static container_type decode_items(const reply& stored, const std::string& key, const std::string& field) {
    container_type out;
    out.reserve(stored.as_array().size());
    for (const auto& element : stored.as_array()) out.push_back(decode_at<T>(element.as_string(), key, field));
    return out;
  }
};
}  // namespace detail

template <class T>
class RedisList : public detail::collection_field<detail::list_traits<T>> {
  using base = detail::collection_field<detail::list_traits<T>>;

 public:
  using base::base;
  using base::operator=;

  const T& operator[](std::size_t i) const { return this->items_.at(i); }
  const T& front() const { return this->items_.front(); }
  const T& back() const { return this->items_.back(); }
  /// Local only; save() or the a-operations write.
  void push_back(T value) { this->items_.push_back(std::move(value)); }

  // Each operation is one command. Its reply handler updates the local copy; inside apipeline()
  // that happens after EXEC, and the value returned here is the local one (0 or nullopt).

  /// RPUSH one element; returns the list's new length on the server.
  awaitable<std::size_t> aappend(T value) {
    request req;
    this->push_command(req, "RPUSH", detail::encode(value));
    auto apply = [this, value = std::move(value)](const reply&) { this->items_.push_back(value); };
    return this->perform_returning(std::move(req), std::move(apply), detail::count_or_zero);
  }

  /// RPUSH many elements at once: aextend(vector) or aextend("a", "b", ...). (GCC 12 cannot compile
  /// a braced list inside a co_await expression, hence the variadic form.)
  template <std::ranges::input_range Range>
  requires std::convertible_to<std::ranges::range_value_t<Range>, T> awaitable<std::size_t> aextend(
      const Range& values) {
    std::vector<T> added(std::ranges::begin(values), std::ranges::end(values));
    if (added.empty()) co_return this->items_.size();
    request req;
    this->push_command(req, "RPUSH", detail::list_traits<T>::encode_items(added));
    auto apply = [this, added = std::move(added)](const reply&) {
      this->items_.insert(this->items_.end(), added.begin(), added.end());
    };
    co_return co_await this->perform_returning(std::move(req), std::move(apply), detail::count_or_zero);
  }
  template <class... Values>
  requires(sizeof...(Values) > 0 &&
           (std::constructible_from<T, Values> && ...)) awaitable<std::size_t> aextend(Values&&... values) {
    const std::vector<T> all{T(std::forward<Values>(values))...};
    co_return co_await aextend(all);
  }

  /// Python's insert: before index i (negative counts from the end, out of range clamps).
  awaitable<void> ainsert(long long i, T value) {
    request req;
    detail::scripts::push_list_insert(req, this->model().key(), this->key(), i, detail::encode(value));
    auto apply = [this, i, value = std::move(value)](const reply&) {
      const auto size = static_cast<long long>(this->items_.size());
      const long long at = i < 0 ? std::max(i + size, 0LL) : std::min(i, size);
      this->items_.insert(this->items_.begin() + at, value);
    };
    co_await this->perform(std::move(req), std::move(apply));
  }

  /// Removes and returns the element at i (default: the last); nullopt when there is none.
  awaitable<std::optional<T>> apop(long long i = -1) {
    const std::string k = this->key();
    request req;
    if (i == -1) {
      this->push_command(req, "RPOP");
    } else if (i == 0) {
      this->push_command(req, "LPOP");
    } else {
      detail::scripts::push_list_pop_at(req, this->model().key(), k, i, "__rapyer_removed__:" + detail::new_uuid4());
    }
    const auto apply = [this, i](const reply& r) {
      if (r.is_nil()) return;
      const auto size = static_cast<long long>(this->items_.size());
      const long long at = i < 0 ? i + size : i;
      if (at >= 0 && at < size) this->items_.erase(this->items_.begin() + at);
    };
    const auto popped = [k, name = this->field_name()](const reply& r) -> std::optional<T> {
      if (r.is_nil()) return std::nullopt;
      return detail::decode_at<T>(r.as_string(), k, name);
    };
    return this->perform_returning(std::move(req), apply, popped);
  }

  /// LSET: replaces element i (negative counts from the end); server_error when out of range.
  awaitable<void> aset_item(long long i, T value) {
    request req;
    this->push_command(req, "LSET", i, detail::encode(value));
    auto apply = [this, i, value = std::move(value)](const reply&) {
      const auto size = static_cast<long long>(this->items_.size());
      const long long at = i < 0 ? i + size : i;
      if (at >= 0 && at < size) this->items_[static_cast<std::size_t>(at)] = value;
    };
    co_await this->perform(std::move(req), std::move(apply));
  }

  /// Python's del lst[start:end]; returns how many elements were removed.
  awaitable<std::size_t> aremove_range(long long start, long long end) {
    request req;
    detail::scripts::push_list_remove_range(req, this->model().key(), this->key(), start, end,
                                            "__rapyer_removed__:" + detail::new_uuid4());
    const auto apply = [this, start, end](const reply&) {
      const auto size = static_cast<long long>(this->items_.size());
      const long long first = start < 0 ? std::max(start + size, 0LL) : std::min(start, size);
      const long long last = end < 0 ? std::max(end + size, 0LL) : std::min(end, size);
      if (first < last) this->items_.erase(this->items_.begin() + first, this->items_.begin() + last);
    };
    return this->perform_returning(std::move(req), apply, detail::count_or_zero);
  }
};

}  // namespace rapyer

// RedisList<T>: a list field stored as a native Redis LIST; elements are plain text for scalars
// and JSON text otherwise. Every operation is one atomic round trip.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <ranges>
#include <utility>
#include <vector>

#include "rapyer/detail/collection_field.hpp"

namespace rapyer {
namespace detail {
/// Inclusive LRANGE / LTRIM bounds.
struct inclusive_range {
  long long start;
  long long stop;
};
/// The bounds selecting Python's slice [start:end]. LRANGE and LTRIM count negatives from the end
/// and clamp as Python does, so only the exclusive end moves back by one; an end of 0 (or the
/// lowest, below every index) selects nothing, which 1..0 does.
constexpr inclusive_range inclusive_range_of(long long start, long long end) {
  if (end == 0 || end == std::numeric_limits<long long>::min()) return {1, 0};
  return {start, end - 1};
}

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
    return this->perform_returning(std::move(req), apply, this->template decoded_element<T>());
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
      const auto [first, last] = slice_offsets(start, end);
      this->items_.erase(this->items_.begin() + first, this->items_.begin() + last);
    };
    return this->perform_returning(std::move(req), apply, detail::count_or_zero);
  }

  /// LREM: removes the first `count` elements equal to `value` (the last -count when negative,
  /// every one when 0; count 1 is Python's remove() without its ValueError); returns how many.
  awaitable<std::size_t> aremove(T value, long long count = 1) {
    request req;
    this->push_command(req, "LREM", count, detail::encode(value));
    auto apply = [this, count, value = std::move(value)](const reply&) { remove_locally(value, count); };
    return this->perform_returning(std::move(req), std::move(apply), detail::count_or_zero);
  }

  /// LTRIM to Python's lst[start:end]: keeps only that slice (none left deletes the key).
  awaitable<void> atrim(long long start, long long end) {
    const detail::inclusive_range kept = detail::inclusive_range_of(start, end);
    request req;
    this->push_command(req, "LTRIM", kept.start, kept.stop);
    const auto apply = [this, start, end](const reply&) {
      const auto [first, last] = slice_offsets(start, end);
      this->items_.erase(this->items_.begin() + last, this->items_.end());
      this->items_.erase(this->items_.begin(), this->items_.begin() + first);
    };
    co_await this->perform(std::move(req), apply);
  }

  /// RPOP with a count: removes up to n elements from the end, returned in the order popped (the
  /// last first), as n calls of apop() would. Needs Redis 6.2 or later.
  awaitable<std::vector<T>> apop_many(std::size_t n) {
    request req;
    this->push_command(req, "RPOP", n);
    const auto apply = [this](const reply& r) {
      const std::size_t popped = r.is_nil() ? 0 : r.as_array().size();
      this->items_.resize(this->items_.size() - std::min(popped, this->items_.size()));
    };
    return this->perform_returning(std::move(req), apply, this->decoded_items());
  }

  // Reads of part of the list, asked of the server; the local copy stays as it is.

  /// LINDEX: the element at i (negative counts from the end); nullopt when out of range.
  awaitable<std::optional<T>> aget_item(long long i) const {
    request req;
    this->push_command(req, "LINDEX", i);
    const auto decode = this->template decoded_element<T>();
    co_return decode(co_await this->read(std::move(req)));
  }

  /// LRANGE of Python's lst[start:end] (end exclusive, negatives count from the end, out of range
  /// clamps); without an end, to the end.
  awaitable<std::vector<T>> aslice(long long start, long long end = std::numeric_limits<long long>::max()) const {
    const detail::inclusive_range selected = detail::inclusive_range_of(start, end);
    request req;
    this->push_command(req, "LRANGE", selected.start, selected.stop);
    const auto decode = this->decoded_items();
    co_return decode(co_await this->read(std::move(req)));
  }

  /// LLEN.
  awaitable<std::size_t> alen() const { return this->read_count("LLEN"); }

 private:
  /// Python's lst[start:end] of the local copy as offsets [first, last), first <= last.
  std::pair<std::ptrdiff_t, std::ptrdiff_t> slice_offsets(long long start, long long end) const {
    const auto size = static_cast<long long>(this->items_.size());
    const long long first = start < 0 ? std::max(start + size, 0LL) : std::min(start, size);
    const long long last = end < 0 ? std::max(end + size, 0LL) : std::min(end, size);
    return {first, std::max(first, last)};
  }

  /// LREM's effect on the local copy.
  void remove_locally(const T& value, long long count) {
    auto& items = this->items_;
    // |count| without overflow for the lowest count; 0 removes every match.
    std::uint64_t left = count == 0  ? items.size()
                         : count < 0 ? 0 - static_cast<std::uint64_t>(count)
                                     : static_cast<std::uint64_t>(count);
    if (count >= 0) {
      for (auto it = items.begin(); it != items.end() && left > 0;) {
        if (*it == value) {
          it = items.erase(it);
          --left;
        } else {
          ++it;
        }
      }
      return;
    }
    for (std::size_t i = items.size(); i > 0 && left > 0; --i) {
      if (items[i - 1] == value) {
        items.erase(items.begin() + static_cast<std::ptrdiff_t>(i - 1));
        --left;
      }
    }
  }
};

}  // namespace rapyer

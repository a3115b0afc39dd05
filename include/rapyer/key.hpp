// Key<T>: marks the field whose value is the model's id (the Python original's Key[T]), so the
// model's key is "<prefix><Name>:{<value>}" instead of a generated uuid.
#pragma once

#include <compare>
#include <utility>

namespace rapyer {
namespace detail {
struct key_field_tag {};
}  // namespace detail

template <class T>
struct Key : detail::key_field_tag {
  using value_type = T;

  Key() = default;
  Key(T v) : stored(std::move(v)) {}  // NOLINT(google-explicit-constructor)
  Key& operator=(T v) {
    stored = std::move(v);
    return *this;
  }
  operator const T&() const noexcept { return stored; }  // NOLINT(google-explicit-constructor)
  const T& value() const noexcept { return stored; }
  T& value() noexcept { return stored; }
  friend bool operator==(const Key& a, const T& b) { return a.stored == b; }
  friend bool operator==(const Key&, const Key&) = default;

  T stored{};
};

}  // namespace rapyer

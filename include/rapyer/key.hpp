// Key<T> and Version. Key<T> marks the field whose value is the model's id (the Python original's Key[T]), so the
// model's id is <value> instead of a generated uuid (its key: "<prefix><Name>:{<value>}", see key_layout.hpp).
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
  // Not defaulted: the tag base has no ==, which would delete a defaulted one.
  friend bool operator==(const Key& a, const Key& b) { return a.stored == b.stored; }

  T stored{};
};

namespace detail {
struct version_field_tag {};
}  // namespace detail

/// An optimistic version: save() succeeds only when the stored version is still the one this copy
/// was loaded with (checked in the save script, one round trip), then increments it; otherwise it
/// throws version_conflict and changes nothing.
struct Version : detail::version_field_tag {
  long long value() const noexcept { return number; }
  long long& value() noexcept { return number; }
  mutable long long number = 0;  // advanced by save(), which is const
};

}  // namespace rapyer

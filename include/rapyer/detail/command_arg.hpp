// Turns a command argument (string-like, integer, floating point, or a range of those) into the
// bytes Redis receives. Numbers are written with std::to_chars: integers exactly, floating point
// in the shortest form that reads back to the same value (0.1 stays "0.1").
#pragma once

#include <charconv>
#include <concepts>
#include <cstddef>
#include <ranges>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace rapyer::detail {

class command_arg {
 public:
  command_arg(std::string_view text) noexcept
      : external_(text.data()), size_(text.size()) {}  // NOLINT(google-explicit-constructor)

  template <class Number>
  requires(std::is_arithmetic_v<Number> && !std::is_same_v<Number, bool> && !std::is_same_v<Number, char>)
      command_arg(Number value)
  noexcept {  // NOLINT(google-explicit-constructor)
    auto [end, ec] = std::to_chars(digits_, digits_ + sizeof digits_, value);
    size_ = ec == std::errc{} ? static_cast<std::size_t>(end - digits_) : 0;
  }

  command_arg(const command_arg& other) noexcept { *this = other; }
  command_arg& operator=(const command_arg& other) noexcept {
    if (this == &other) return *this;
    size_ = other.size_;
    external_ = other.external_;
    if (external_ == nullptr) std::char_traits<char>::copy(digits_, other.digits_, size_);
    return *this;
  }

  const char* data() const noexcept { return external_ != nullptr ? external_ : digits_; }
  std::size_t size() const noexcept { return size_; }
  std::string_view view() const noexcept { return {data(), size_}; }

 private:
  const char* external_ = nullptr;
  std::size_t size_ = 0;
  char digits_[32];
};

template <class T>
concept string_like = std::is_convertible_v<const T&, std::string_view>;

template <class T>
concept single_arg = string_like<T> ||(std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>);

/// A range whose elements are single arguments, e.g. std::vector<std::string>: expands in place
/// (a forward range: it is counted for the command header before it is written).
template <class T>
concept arg_range = !string_like<T> && std::ranges::forward_range<T> && single_arg<std::ranges::range_value_t<T>>;

template <class T>
concept command_argument = single_arg<std::remove_cvref_t<T>> || arg_range<std::remove_cvref_t<T>>;

}  // namespace rapyer::detail

// ASCII case handling for command names and keywords: Redis compares them without regard to case,
// and locale-dependent <cctype> calls would be both slower and wrong for bytes above 127.
#pragma once

#include <algorithm>
#include <string_view>

namespace rapyer::detail {

constexpr char to_upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

/// True when `a` and `b` differ at most in the case of ASCII letters.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) { return to_upper(x) == to_upper(y); });
}

}  // namespace rapyer::detail

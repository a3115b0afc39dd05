// Encoding of field values and collection elements to the exact text Redis stores, and back.
// Scalars are plain text: integers in decimal, floating point in shortest round-trip form, strings
// and bytes raw, enums by name when described, time points as ISO-8601 UTC with microseconds.
// Everything else is JSON text written by nlohmann (see json.hpp).
#pragma once

#include <charconv>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

#include "rapyer/detail/json.hpp"
#include "rapyer/detail/scalar_text.hpp"
#include "rapyer/detail/type_traits.hpp"
#include "rapyer/error.hpp"

namespace rapyer::detail {

template <class T>
std::string encode(const T& value) {
  if constexpr (std::is_same_v<T, std::string>) {
    return value;
  } else if constexpr (std::is_same_v<T, bytes>) {
    return std::string(reinterpret_cast<const char*>(value.data()), value.size());
  } else if constexpr (std::is_same_v<T, bool>) {
    return value ? "1" : "0";
  } else if constexpr (std::is_arithmetic_v<T>) {
    char buffer[64];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, end);
  } else if constexpr (std::is_enum_v<T>) {
    if constexpr (is_described_enum_v<T>) {
      return enum_name(value);
    } else {
      return encode(static_cast<std::underlying_type_t<T>>(value));
    }
  } else if constexpr (std::is_same_v<T, time_point>) {
    return format_time_point(value);
  } else if constexpr (std::is_same_v<T, timestamp>) {
    return format_epoch_seconds(value.time);
  } else {
    return dump_json(to_json_value(value));
  }
}

template <class T>
T decode(std::string_view text) {
  if constexpr (std::is_same_v<T, std::string>) {
    return std::string(text);
  } else if constexpr (std::is_same_v<T, bytes>) {
    bytes out(text.size());
    if (!text.empty()) std::memcpy(out.data(), text.data(), text.size());
    return out;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (text == "1" || text == "true") return true;
    if (text == "0" || text == "false") return false;
    throw decode_failure("'" + std::string(text.substr(0, 64)) + "' is not a boolean");
  } else if constexpr (std::is_arithmetic_v<T>) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
      throw decode_failure("'" + std::string(text.substr(0, 64)) + "' is not " +
                           (std::is_integral_v<T> ? "an integer in range" : "a number"));
    }
    return value;
  } else if constexpr (std::is_enum_v<T>) {
    if constexpr (is_described_enum_v<T>) {
      return enum_from_name<T>(text);
    } else {
      return static_cast<T>(decode<std::underlying_type_t<T>>(text));
    }
  } else if constexpr (std::is_same_v<T, time_point>) {
    return parse_time_point(text);
  } else if constexpr (std::is_same_v<T, timestamp>) {
    return timestamp(parse_epoch_seconds(text));
  } else {
    return from_json_value<T>(parse_json(text));
  }
}

/// decode<T>, reporting a failure as decode_error naming the key and field.
template <class T>
T decode_at(std::string_view text, const std::string& key, const std::string& field) {
  try {
    return decode<T>(text);
  } catch (const decode_failure& e) {
    throw decode_error(key, field, e.what());
  }
}

}  // namespace rapyer::detail

// JSON for values that have no plain text form: described structs, containers, optionals, and any
// type with nlohmann to_json/from_json (the counterpart of the Python original's pickle fallback).
// Numbers stay exact: integers as integers, floating point in nlohmann's shortest round-trip form.
#pragma once

#include <boost/mp11/algorithm.hpp>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "rapyer/detail/scalar_text.hpp"
#include "rapyer/detail/type_traits.hpp"

namespace rapyer::detail {

using json = nlohmann::json;

/// Throws encode_error for text that is not valid UTF-8.
std::string dump_json(const json& value);
/// Throws decode_failure for invalid JSON.
json parse_json(std::string_view text);

template <class T>
json to_json_value(const T& value);
template <class T>
T from_json_value(const json& value);

template <class T>
json to_json_value(const T& value) {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool> || std::is_arithmetic_v<T>) {
    return json(value);
  } else if constexpr (std::is_same_v<T, bytes>) {
    return json(base64_encode(std::string_view(reinterpret_cast<const char*>(value.data()), value.size())));
  } else if constexpr (std::is_enum_v<T>) {
    if constexpr (is_described_enum_v<T>) {
      return json(enum_name(value));
    } else {
      return json(static_cast<std::underlying_type_t<T>>(value));
    }
  } else if constexpr (std::is_same_v<T, time_point>) {
    return json(format_time_point(value));
  } else if constexpr (std::is_same_v<T, timestamp>) {
    return json(format_epoch_seconds(value.time));
  } else if constexpr (is_optional_v<T>) {
    return value ? to_json_value(*value) : json(nullptr);
  } else if constexpr (is_sequence_v<T> || is_set_v<T>) {
    json out = json::array();
    for (const auto& element : value) out.push_back(to_json_value(element));
    return out;
  } else if constexpr (is_map_v<T>) {
    static_assert(std::is_same_v<typename T::key_type, std::string>, "map fields need std::string keys");
    json out = json::object();
    for (const auto& [k, v] : value) out[k] = to_json_value(v);
    return out;
  } else if constexpr (is_described_struct_v<T>) {
    json out = json::object();
    boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
        [&](auto member) { out[member.name] = to_json_value(value.*member.pointer); });
    return out;
  } else {
    return json(value);  // the user's nlohmann to_json
  }
}

[[noreturn]] void throw_json_type(const json& value, std::string_view expected);

template <class T>
T from_json_value(const json& value) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) throw_json_type(value, "a boolean");
    return value.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!value.is_number_integer()) throw_json_type(value, "an integer");
    const auto in_range = [](auto v) {
      if (!std::in_range<T>(v)) throw decode_failure("integer out of the field's range");
      return static_cast<T>(v);
    };
    return value.is_number_unsigned() ? in_range(value.get<unsigned long long>()) : in_range(value.get<long long>());
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!value.is_number()) throw_json_type(value, "a number");
    return value.get<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string()) throw_json_type(value, "a string");
    return value.get<std::string>();
  } else if constexpr (std::is_same_v<T, bytes>) {
    if (!value.is_string()) throw_json_type(value, "a base64 string");
    const std::string raw = base64_decode(value.get_ref<const std::string&>());
    bytes out(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) out[i] = static_cast<std::byte>(raw[i]);
    return out;
  } else if constexpr (std::is_enum_v<T>) {
    if constexpr (is_described_enum_v<T>) {
      if (!value.is_string()) throw_json_type(value, "an enumerator name");
      return enum_from_name<T>(value.get_ref<const std::string&>());
    } else {
      return static_cast<T>(from_json_value<std::underlying_type_t<T>>(value));
    }
  } else if constexpr (std::is_same_v<T, time_point>) {
    if (!value.is_string()) throw_json_type(value, "an ISO-8601 time");
    return parse_time_point(value.get_ref<const std::string&>());
  } else if constexpr (std::is_same_v<T, timestamp>) {
    if (!value.is_string()) throw_json_type(value, "epoch seconds as text");
    return timestamp(parse_epoch_seconds(value.get_ref<const std::string&>()));
  } else if constexpr (is_optional_v<T>) {
    if (value.is_null()) return T{};
    return T{from_json_value<typename T::value_type>(value)};
  } else if constexpr (is_sequence_v<T> || is_set_v<T>) {
    if (!value.is_array()) throw_json_type(value, "an array");
    T out;
    for (const auto& element : value) out.insert(out.end(), from_json_value<typename T::value_type>(element));
    return out;
  } else if constexpr (is_map_v<T>) {
    if (!value.is_object()) throw_json_type(value, "an object");
    T out;
    for (const auto& [k, v] : value.items()) out.emplace(k, from_json_value<typename T::mapped_type>(v));
    return out;
  } else if constexpr (is_described_struct_v<T>) {
    if (!value.is_object()) throw_json_type(value, "an object");
    T out{};
    boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>([&](auto member) {
      const auto it = value.find(member.name);
      using member_type = std::remove_cvref_t<decltype(out.*member.pointer)>;
      if (it == value.end()) {
        if constexpr (!is_optional_v<member_type>)
          throw decode_failure(std::string("missing member '") + member.name + "'");
        return;
      }
      out.*member.pointer = from_json_value<member_type>(*it);
    });
    return out;
  } else {
    try {
      return value.get<T>();  // the user's nlohmann from_json
    } catch (const json::exception& e) {
      throw decode_failure(e.what());
    }
  }
}

}  // namespace rapyer::detail

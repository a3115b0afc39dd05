// Text forms shared by the plain and the JSON codecs: enums by name, time points in ISO-8601,
// bytes in base64 (inside JSON only), and the failure type every decoder throws.
#pragma once

#include <boost/describe/enum_from_string.hpp>
#include <boost/describe/enum_to_string.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "rapyer/detail/type_traits.hpp"

namespace rapyer::detail {

/// Thrown by decoders; the model layer turns it into decode_error naming the key and field.
class decode_failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// "2024-05-06T07:08:09.123456Z": UTC, microseconds kept (finer ticks are truncated).
std::string format_time_point(time_point value);
time_point parse_time_point(std::string_view text);

/// "1700000000.123456": epoch seconds, microseconds kept. Parsing rounds longer fractions (as
/// HINCRBYFLOAT writes them) to the nearest microsecond.
std::string format_epoch_seconds(time_point value);
time_point parse_epoch_seconds(std::string_view text);

std::string base64_encode(std::string_view raw);
std::string base64_decode(std::string_view text);

template <class E>
std::string enum_name(E value) {
  const char* name = boost::describe::enum_to_string(value, nullptr);
  if (name == nullptr) throw std::invalid_argument("enum value outside its described enumerators");
  return name;
}

template <class E>
E enum_from_name(std::string_view text) {
  E value{};
  const std::string name(text);
  if (!boost::describe::enum_from_string(name.c_str(), value)) {
    throw decode_failure("'" + name.substr(0, 64) + "' is not an enumerator of the field's enum");
  }
  return value;
}

}  // namespace rapyer::detail

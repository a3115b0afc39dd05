// Fuzz target: the pickle decoder on arbitrary bytes, as it reads values stored by other clients.
// Malformed input may only raise decode_failure; a value it decodes must survive encode and decode
// unchanged (NaN compared by its bits), and the base64 form must read back the same.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "rapyer/detail/pickle.hpp"

namespace {

using rapyer::detail::pickle::value;

bool same_value(const value& a, const value& b) {
  const auto* x = std::get_if<double>(&a);
  const auto* y = std::get_if<double>(&b);
  if (x != nullptr && y != nullptr) return std::bit_cast<std::uint64_t>(*x) == std::bit_cast<std::uint64_t>(*y);
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace pickle = rapyer::detail::pickle;
  value decoded;
  try {
    decoded = pickle::decode(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const rapyer::detail::decode_failure&) {
    return 0;
  }
  if (!same_value(pickle::decode(pickle::encode(decoded)), decoded)) std::abort();
  if (!same_value(pickle::decode_base64(pickle::encode_base64(decoded)), decoded)) std::abort();
  return 0;
}

// A Python pickle codec for single simple values: None, bool, int (64-bit), float, str and bytes.
// The Python original stores bool and bytes fields of its JSON documents as base64 text of a
// pickle; this writes exactly what CPython 3.11's pickle.dumps writes (protocol 4) and reads what
// protocols 2 to 5 write for those values. Anything else (a class reference such as an enum, a
// container, a call) is refused with decode_failure naming what was found.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "rapyer/detail/scalar_text.hpp"
#include "rapyer/detail/type_traits.hpp"

namespace rapyer::detail::pickle {

/// Python's None.
struct none {
  friend bool operator==(none, none) noexcept { return true; }
};

/// A Python value the codec handles: str is UTF-8 text as stored (not validated), bytes is raw.
using value = std::variant<none, bool, std::int64_t, double, std::string, bytes>;

/// The pickle CPython 3.11 writes for the value with pickle.dumps (protocol 4, framed as it frames).
std::string encode(const value& v);

/// Reads a pickle of protocol 2 to 5 holding one simple value. Throws decode_failure for anything
/// else: another opcode (the message names it), an int beyond 64 bits, truncated input, bytes
/// after STOP, lengths beyond the input.
value decode(std::string_view pickled);

/// The stored form: base64 (standard alphabet, padded) of encode(v).
std::string encode_base64(const value& v);
/// Reads the stored form; invalid base64 is a decode_failure too.
value decode_base64(std::string_view text);

}  // namespace rapyer::detail::pickle

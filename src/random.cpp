#include "rapyer/detail/random.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace rapyer::detail {

void random_bytes(std::span<std::byte> out) {
  while (!out.empty()) {
    const ssize_t n = ::getrandom(out.data(), out.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    out = out.subspan(static_cast<std::size_t>(n));
  }
}

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex(std::string& out, std::byte b) {
  out += hex_digits[std::to_integer<unsigned>(b) >> 4];
  out += hex_digits[std::to_integer<unsigned>(b) & 0xF];
}

}  // namespace

std::string new_uuid4() {
  std::array<std::byte, 16> bits{};
  random_bytes(bits);
  bits[6] = (bits[6] & std::byte{0x0F}) | std::byte{0x40};  // version 4
  bits[8] = (bits[8] & std::byte{0x3F}) | std::byte{0x80};  // variant 1 (RFC 4122)
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bits.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    append_hex(out, bits[i]);
  }
  return out;
}

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  random_bytes(std::as_writable_bytes(std::span(raw)));
  std::string out;
  out.reserve(2 * bytes);
  for (const char c : raw) append_hex(out, static_cast<std::byte>(c));
  return out;
}

std::int64_t random_between(std::int64_t low, std::int64_t high) {
  if (high <= low) return low;
  const auto span = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
  if (span == UINT64_MAX) {
    std::uint64_t any = 0;
    random_bytes(std::as_writable_bytes(std::span(&any, 1)));
    return static_cast<std::int64_t>(any);
  }
  // Rejection sampling: no modulo bias.
  const std::uint64_t range = span + 1;
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  std::uint64_t value = 0;
  do {
    random_bytes(std::as_writable_bytes(std::span(&value, 1)));
  } while (value >= limit);
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + value % range);
}

}  // namespace rapyer::detail

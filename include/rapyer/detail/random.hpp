// The library's one source of randomness: the kernel's CSPRNG (getrandom(2)). It holds no state
// in the process, so ids and tokens stay distinct across fork() and across a fleet of machines.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace rapyer::detail {

/// Fills `out` with cryptographically secure random bytes.
void random_bytes(std::span<std::byte> out);

/// A random version-4 UUID in its 36-character text form (122 random bits).
std::string new_uuid4();

/// `bytes` random bytes as lower-case hex: lock tokens (16 bytes = 128 bits).
std::string random_hex(std::size_t bytes);

/// A uniformly distributed integer in [low, high] (high < low gives low): retry jitter.
std::int64_t random_between(std::int64_t low, std::int64_t high);

/// A uniformly distributed duration in [low, high]: full-jitter backoff.
template <class Rep, class Period>
std::chrono::duration<Rep, Period> random_between(std::chrono::duration<Rep, Period> low,
                                                  std::chrono::duration<Rep, Period> high) {
  return std::chrono::duration<Rep, Period>(static_cast<Rep>(
      random_between(static_cast<std::int64_t>(low.count()), static_cast<std::int64_t>(high.count()))));
}

}  // namespace rapyer::detail

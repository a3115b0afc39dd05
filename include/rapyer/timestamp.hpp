// rapyer::timestamp: a UTC time stored as epoch seconds with a microsecond fraction
// ("1700000000.123456"), the storage of the Python original's RedisDatetimeTimestamp. Unlike a
// plain time_point (ISO-8601 text) it is a number in Redis: a numeric index orders it, and
// RedisTimestamp::aadd moves it with HINCRBYFLOAT, no script.
#pragma once

#include <chrono>
#include <compare>

namespace rapyer {

struct timestamp {
  std::chrono::system_clock::time_point time{};

  timestamp() = default;
  timestamp(std::chrono::system_clock::time_point t) : time(t) {}          // NOLINT(google-explicit-constructor)
  operator std::chrono::system_clock::time_point() const { return time; }  // NOLINT(google-explicit-constructor)
  friend auto operator<=>(const timestamp&, const timestamp&) = default;
};

}  // namespace rapyer

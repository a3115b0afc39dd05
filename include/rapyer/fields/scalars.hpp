// Proxies for scalar fields, each stored in one field of the model's hash and carrying its atomic
// server-side operations. Each is usable like the value it wraps.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/detail/scalar_field.hpp"
#include "rapyer/detail/scripts.hpp"

namespace rapyer {

/// A std::string field. aappend() appends server-side.
class RedisStr : public detail::scalar_field<std::string> {
 public:
  using scalar_field::scalar_field;
  using scalar_field::operator=;

  operator std::string_view() const noexcept { return value_; }  // NOLINT(google-explicit-constructor)
  std::size_t size() const noexcept { return value_.size(); }
  bool empty() const noexcept { return value_.empty(); }
  const char* c_str() const noexcept { return value_.c_str(); }
  char operator[](std::size_t i) const { return value_[i]; }
  auto begin() const noexcept { return value_.begin(); }
  auto end() const noexcept { return value_.end(); }
  RedisStr& operator+=(std::string_view suffix) {
    value_ += suffix;
    return *this;
  }

  /// Appends atomically; the local value becomes the server's result.
  awaitable<std::string> aappend(std::string_view suffix);
  /// Repeats the stored text `count` times (Python's str * n), server-side.
  awaitable<std::string> amultiply(long long count);
};

/// An integer field (int64). Arithmetic is server-side and atomic.
class RedisInt : public detail::scalar_field<long long> {
 public:
  using scalar_field::scalar_field;
  using scalar_field::operator=;
  RedisInt& operator+=(long long n) {
    value_ += n;
    return *this;
  }
  RedisInt& operator-=(long long n) {
    value_ -= n;
    return *this;
  }

  /// HINCRBY; returns the new value, which also becomes the local value.
  awaitable<long long> aincrease(long long amount = 1);
  /// Python-style *, //, %, ** computed server-side (exact within +-2^53, else server_error; a
  /// negative exponent is refused, as its result is not an integer).
  awaitable<long long> amultiply(long long factor);
  awaitable<long long> afloor_divide(long long divisor);
  awaitable<long long> amodulo(long long divisor);
  awaitable<long long> apower(long long exponent);

 private:
  awaitable<long long> arithmetic(std::string_view operation, long long operand);
};

/// A double field. aincrease uses HINCRBYFLOAT (Redis computes in long double).
class RedisFloat : public detail::scalar_field<double> {
 public:
  using scalar_field::scalar_field;
  using scalar_field::operator=;
  RedisFloat& operator+=(double n) {
    value_ += n;
    return *this;
  }
  awaitable<double> aincrease(double amount);
  /// Python-style *, /, //, %, ** computed server-side in doubles; division by zero and results
  /// that are not finite are refused with server_error, leaving the value.
  awaitable<double> amultiply(double factor);
  awaitable<double> adivide(double divisor);
  awaitable<double> afloor_divide(double divisor);
  awaitable<double> amodulo(double divisor);
  awaitable<double> apower(double exponent);

 private:
  awaitable<double> arithmetic(std::string_view operation, double operand);
};

/// A bool field, stored as "1" / "0".
class RedisBool : public detail::scalar_field<bool> {
 public:
  using scalar_field::scalar_field;
  using scalar_field::operator=;
  /// Sets locally and on the server (HSET) in one step.
  awaitable<void> aset(bool value);
};

/// Raw bytes, stored unchanged.
class RedisBytes : public detail::scalar_field<std::vector<std::byte>> {
 public:
  using scalar_field::scalar_field;
  using scalar_field::operator=;
  explicit RedisBytes(std::string_view raw) : scalar_field(detail::decode<std::vector<std::byte>>(raw)) {}
  std::size_t size() const noexcept { return value_.size(); }
  std::string_view view() const noexcept { return {reinterpret_cast<const char*>(value_.data()), value_.size()}; }
  /// Appends atomically; the local value becomes the server's result.
  awaitable<void> aappend(std::string_view raw);
};

/// A UTC time point, stored as ISO-8601 text with microseconds.
class RedisDatetime : public detail::scalar_field<std::chrono::system_clock::time_point> {
 public:
  using scalar_field::scalar_field;
  using scalar_field::operator=;
  /// Adds a duration server-side (microsecond precision); returns the new time.
  awaitable<std::chrono::system_clock::time_point> aadd(std::chrono::microseconds delta);
};

/// A UTC time point stored as epoch seconds ("1700000000.123456", see timestamp.hpp): indexed as a
/// number, moved server-side with HINCRBYFLOAT.
class RedisTimestamp : public detail::scalar_field<timestamp> {
 public:
  using scalar_field::scalar_field;
  using scalar_field::operator=;
  RedisTimestamp(std::chrono::system_clock::time_point t)
      : scalar_field(timestamp(t)) {}  // NOLINT(google-explicit-constructor)
  RedisTimestamp& operator=(std::chrono::system_clock::time_point t) {
    value_ = timestamp(t);
    return *this;
  }
  std::chrono::system_clock::time_point time() const noexcept { return value_.time; }
  /// Adds a duration server-side (microsecond precision); returns the new time.
  awaitable<timestamp> aadd(std::chrono::microseconds delta);
};

}  // namespace rapyer

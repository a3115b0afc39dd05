#include "rapyer/fields/scalars.hpp"

namespace rapyer {

using detail::scripts::datetime_add;
using detail::scripts::integer_arithmetic;
using detail::scripts::string_append;

namespace {

request script_call(const detail::script& s, const std::string& key, const auto&... args) {
  request req;
  s.push_call(req, std::initializer_list<std::string>{key}, args...);
  return req;
}

}  // namespace

awaitable<std::string> RedisStr::aappend(std::string_view suffix) {
  const auto result = co_await run(script_call(string_append, model().key(), field_name(), suffix), &string_append);
  value_ = result.as_string();
  co_return value_;
}

awaitable<long long> RedisInt::aincrease(long long amount) {
  request req;
  req.push("HINCRBY", model().key(), field_name(), amount);
  value_ = (co_await run(std::move(req))).as_integer();
  co_return value_;
}

awaitable<long long> RedisInt::arithmetic(std::string_view operation, long long operand) {
  const std::string key = model().key();
  const std::string name = field_name();
  const auto result = co_await run(script_call(integer_arithmetic, key, name, operation, operand), &integer_arithmetic);
  value_ = detail::decode_at<long long>(result.as_string(), key, name);
  co_return value_;
}

awaitable<long long> RedisInt::amultiply(long long factor) { return arithmetic("mul", factor); }
awaitable<long long> RedisInt::afloor_divide(long long divisor) { return arithmetic("floordiv", divisor); }
awaitable<long long> RedisInt::amodulo(long long divisor) { return arithmetic("mod", divisor); }

awaitable<double> RedisFloat::aincrease(double amount) {
  const std::string key = model().key();
  const std::string name = field_name();
  request req;
  req.push("HINCRBYFLOAT", key, name, amount);
  value_ = detail::decode_at<double>((co_await run(std::move(req))).as_string(), key, name);
  co_return value_;
}

awaitable<void> RedisBool::aset(bool value) {
  request req;
  req.push("HSET", model().key(), field_name(), detail::encode(value));
  co_await run(std::move(req));
  value_ = value;
}

awaitable<void> RedisBytes::aappend(std::string_view raw) {
  const auto result = co_await run(script_call(string_append, model().key(), field_name(), raw), &string_append);
  value_ = detail::decode<std::vector<std::byte>>(result.as_string());
}

awaitable<std::chrono::system_clock::time_point> RedisDatetime::aadd(std::chrono::microseconds delta) {
  const std::string key = model().key();
  const std::string name = field_name();
  const auto result = co_await run(script_call(datetime_add, key, name, delta.count()), &datetime_add);
  value_ = detail::decode_at<std::chrono::system_clock::time_point>(result.as_string(), key, name);
  co_return value_;
}

}  // namespace rapyer

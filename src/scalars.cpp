#include "rapyer/fields/scalars.hpp"

namespace rapyer {

using detail::scripts::datetime_add;
using detail::scripts::integer_arithmetic;
using detail::scripts::string_append;

namespace {

request script_call(const detail::script& s, const std::string& key, const auto&... args) {
  const std::vector<std::string> keys(1, key);
  request req;
  s.push_call(req, keys, args...);
  return req;
}

}  // namespace

// Each operation sends one command; the reply handler sets the local value to the server's result
// (after EXEC when inside apipeline(), where the returned value is still the local one).

awaitable<std::string> RedisStr::aappend(std::string_view suffix) {
  const detail::reply_handler apply = [this](const reply& r) { value_ = r.as_string(); };
  co_await perform(script_call(string_append, model().key(), field_name(), suffix), apply, &string_append);
  co_return value_;
}

awaitable<long long> RedisInt::aincrease(long long amount) {
  request req;
  req.push("HINCRBY", model().key(), field_name(), amount);
  const detail::reply_handler apply = [this](const reply& r) { value_ = r.as_integer(); };
  co_await perform(std::move(req), apply);
  co_return value_;
}

awaitable<long long> RedisInt::arithmetic(std::string_view operation, long long operand) {
  const std::string key = model().key();
  const std::string name = field_name();
  const detail::reply_handler apply = [this, key, name](const reply& r) {
    value_ = detail::decode_at<long long>(r.as_string(), key, name);
  };
  co_await perform(script_call(integer_arithmetic, key, name, operation, operand), apply, &integer_arithmetic);
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
  const detail::reply_handler apply = [this, key, name](const reply& r) {
    value_ = detail::decode_at<double>(r.as_string(), key, name);
  };
  co_await perform(std::move(req), apply);
  co_return value_;
}

awaitable<void> RedisBool::aset(bool value) {
  request req;
  req.push("HSET", model().key(), field_name(), detail::encode(value));
  const detail::reply_handler apply = [this, value](const reply&) { value_ = value; };
  co_await perform(std::move(req), apply);
}

awaitable<void> RedisBytes::aappend(std::string_view raw) {
  const detail::reply_handler apply = [this](const reply& r) {
    value_ = detail::decode<std::vector<std::byte>>(r.as_string());
  };
  co_await perform(script_call(string_append, model().key(), field_name(), raw), apply, &string_append);
}

awaitable<std::chrono::system_clock::time_point> RedisDatetime::aadd(std::chrono::microseconds delta) {
  const std::string key = model().key();
  const std::string name = field_name();
  const detail::reply_handler apply = [this, key, name](const reply& r) {
    value_ = detail::decode_at<std::chrono::system_clock::time_point>(r.as_string(), key, name);
  };
  co_await perform(script_call(datetime_add, key, name, delta.count()), apply, &datetime_add);
  co_return value_;
}

}  // namespace rapyer

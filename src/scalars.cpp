#include "rapyer/fields/scalars.hpp"

namespace rapyer {

using detail::scripts::push_datetime_add;
using detail::scripts::push_float_arithmetic;
using detail::scripts::push_integer_arithmetic;
using detail::scripts::push_string_append;
using detail::scripts::push_string_repeat;

// Each operation sends one command, which writes only while the model exists (key_not_found); the reply handler sets
// the local value to the server's result (after EXEC when inside apipeline(), where the returned value is still the
// local one).

awaitable<std::string> RedisStr::aappend(std::string_view suffix) {
  return update_by_script(push_string_append, suffix);
}
awaitable<std::string> RedisStr::amultiply(long long count) { return update_by_script(push_string_repeat, count); }

awaitable<long long> RedisInt::aincrease(long long amount) {
  request req;
  const std::string key = model().key();
  detail::scripts::push_field_command(req, key, "HINCRBY", key, field_name(), amount);
  return perform_returning(
      std::move(req), [this](const reply& r) { value_ = r.as_integer(); }, local_value());
}

awaitable<long long> RedisInt::arithmetic(std::string_view operation, long long operand) {
  return update_by_script(push_integer_arithmetic, operation, operand);
}

awaitable<long long> RedisInt::amultiply(long long factor) { return arithmetic("mul", factor); }
awaitable<long long> RedisInt::afloor_divide(long long divisor) { return arithmetic("floordiv", divisor); }
awaitable<long long> RedisInt::amodulo(long long divisor) { return arithmetic("mod", divisor); }
awaitable<long long> RedisInt::apower(long long exponent) { return arithmetic("pow", exponent); }

awaitable<double> RedisFloat::aincrease(double amount) { return update_by_command("HINCRBYFLOAT", amount); }

awaitable<double> RedisFloat::arithmetic(std::string_view operation, double operand) {
  return update_by_script(push_float_arithmetic, operation, operand);
}

awaitable<double> RedisFloat::amultiply(double factor) { return arithmetic("mul", factor); }
awaitable<double> RedisFloat::adivide(double divisor) { return arithmetic("div", divisor); }
awaitable<double> RedisFloat::afloor_divide(double divisor) { return arithmetic("floordiv", divisor); }
awaitable<double> RedisFloat::amodulo(double divisor) { return arithmetic("mod", divisor); }
awaitable<double> RedisFloat::apower(double exponent) { return arithmetic("pow", exponent); }

awaitable<void> RedisBool::aset(bool value) {
  request req;
  const std::string key = model().key();
  detail::scripts::push_field_command(req, key, "HSET", key, field_name(), detail::encode(value));
  const auto apply = [this, value](const reply&) { value_ = value; };
  return perform(std::move(req), apply);
}

awaitable<void> RedisBytes::aappend(std::string_view raw) { (void)co_await update_by_script(push_string_append, raw); }

awaitable<std::chrono::system_clock::time_point> RedisDatetime::aadd(std::chrono::microseconds delta) {
  return update_by_script(push_datetime_add, delta.count());
}

awaitable<timestamp> RedisTimestamp::aadd(std::chrono::microseconds delta) {
  return update_by_command("HINCRBYFLOAT", detail::format_epoch_seconds(std::chrono::system_clock::time_point(delta)));
}

}  // namespace rapyer

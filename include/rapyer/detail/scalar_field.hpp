// The common part of the scalar proxies (RedisStr, RedisInt, ...): a value of type T stored in one
// field of the model's hash, usable like a T, with field-level save() and aload().
#pragma once

#include <compare>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rapyer/detail/codec.hpp"
#include "rapyer/detail/model_base.hpp"
#include "rapyer/detail/scripts.hpp"
#include "rapyer/error.hpp"

namespace rapyer::detail {

/// Marks proxies stored in the model's hash.
struct scalar_field_tag {};

template <class T>
class scalar_field : public field_proxy, public scalar_field_tag {
 public:
  using value_type = T;

  scalar_field() = default;
  scalar_field(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  scalar_field(const scalar_field&) = default;
  scalar_field(scalar_field&& other) noexcept : field_proxy(other), value_(std::move(other.value_)) {}
  scalar_field& operator=(const scalar_field& other) {
    value_ = other.value_;
    return *this;
  }
  scalar_field& operator=(scalar_field&& other) noexcept {
    value_ = std::move(other.value_);
    return *this;
  }
  scalar_field& operator=(T value) {
    value_ = std::move(value);
    return *this;
  }

  operator const T&() const noexcept { return value_; }  // NOLINT(google-explicit-constructor)
  const T& value() const noexcept { return value_; }
  T& value() noexcept { return value_; }

  friend bool operator==(const scalar_field& a, const scalar_field& b) { return a.value_ == b.value_; }
  // Templates, so that `field == 25` matches exactly instead of competing with the built-in
  // comparison of the converted value.
  template <class U>
  requires(!std::is_base_of_v<scalar_field_tag, U> && std::equality_comparable_with<T, U>) friend bool operator==(
      const scalar_field& a, const U& b) {
    return a.value_ == b;
  }
  template <class U>
  requires(!std::is_base_of_v<scalar_field_tag, U> && std::three_way_comparable_with<T, U>) friend auto operator<=>(
      const scalar_field& a, const U& b) {
    return a.value_ <=> b;
  }
  friend std::ostream& operator<<(std::ostream& out, const scalar_field& field) requires
      requires(std::ostream& o, const T& v) {
    o << v;
  }
  { return out << field.value_; }

  /// Writes only this field (HSET), keeping the rest of the model; key_not_found when the model
  /// does not exist.
  awaitable<void> save() const {
    request req;
    const std::string key = model().key();
    scripts::push_field_command(req, key, "HSET", key, field_name(), encode(value_));
    return perform(std::move(req));
  }

  /// Re-reads only this field. Throws key_not_found when the model or the field is gone, and
  /// decode_error when the stored text does not fit T.
  awaitable<void> aload() {
    const std::string key = model().key();
    const std::string name = field_name();
    request req;
    scripts::push_field_command(req, key, "HGET", key, name);
    const reply stored = co_await read(std::move(req));
    if (stored.is_nil()) throw key_not_found(key + " field " + name);
    value_ = decode_at<T>(stored.as_string(), key, name);
  }

 protected:
  /// Runs the script call `push` appends (a scripts::push_... builder of a script on one hash
  /// field) for this field, with args...; the script returns the field's new text, which becomes
  /// the local value (after EXEC inside apipeline(), where the returned value is still the local
  /// one). The request is built before returning, so the arguments need not outlive the call.
  template <class... Params, class... Args>
  awaitable<T> update_by_script(const script* (*push)(request&, std::string_view, std::string_view, Params...),
                                const Args&... args) {
    request req;
    push(req, model().key(), field_name(), args...);
    return update(std::move(req));
  }
  /// The same for `command <model hash> <field> operand` (HINCRBY, HINCRBYFLOAT).
  template <class Operand>
  awaitable<T> update_by_command(std::string_view command, const Operand& operand) {
    request req;
    const std::string key = model().key();
    scripts::push_field_command(req, key, command, key, field_name(), operand);
    return update(std::move(req));
  }

 private:
  awaitable<T> update(request req) {
    const auto apply = [this, key = model().key(), name = field_name()](const reply& r) {
      value_ = decode_at<T>(r.as_string(), key, name);
    };
    return perform_returning(std::move(req), apply, local_value());
  }

 protected:
  /// An operation's value: the local value once the reply has updated it (still the old one
  /// inside apipeline()).
  auto local_value() const {
    return [this](const reply& /*result*/) { return value_; };
  }

  T value_{};
};

}  // namespace rapyer::detail

// An owned RESP2 reply: nil, integer, bulk string, status, error or array.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rapyer {

enum class reply_type : std::uint8_t { nil, integer, string, status, error, array };

/// Name of a reply type, for messages ("integer", "array", ...).
std::string_view to_string(reply_type type) noexcept;

class reply {
 public:
  reply() = default;  // nil

  static reply nil() { return {}; }
  static reply integer(long long value);
  static reply string(std::string value);
  static reply status(std::string value);
  static reply error(std::string message);
  static reply array(std::vector<reply> elements);

  reply_type type() const noexcept { return type_; }
  bool is_nil() const noexcept { return type_ == reply_type::nil; }
  bool is_integer() const noexcept { return type_ == reply_type::integer; }
  bool is_string() const noexcept { return type_ == reply_type::string; }
  bool is_status() const noexcept { return type_ == reply_type::status; }
  bool is_error() const noexcept { return type_ == reply_type::error; }
  bool is_array() const noexcept { return type_ == reply_type::array; }

  /// The integer of an integer reply; throws reply_type_error otherwise.
  long long as_integer() const;
  /// The text of a bulk string or status reply; throws reply_type_error otherwise.
  const std::string& as_string() const;
  /// nullopt for nil, else as_string().
  std::optional<std::string> as_optional_string() const;
  /// The elements of an array reply; throws reply_type_error otherwise.
  const std::vector<reply>& as_array() const;
  std::vector<reply>& as_array();
  /// The message of an error reply; throws reply_type_error otherwise.
  const std::string& error_message() const;

  /// Throws server_error(command, message) when this is an error reply.
  void throw_if_error(std::string_view command) const;

  /// A readable rendering for logs and test failures, e.g. `["a", 1, nil]`.
  std::string to_debug_string() const;

  friend bool operator==(const reply&, const reply&) = default;

 private:
  void require(reply_type expected) const;

  reply_type type_ = reply_type::nil;
  long long integer_ = 0;
  std::string text_;             // string, status or error
  std::vector<reply> elements_;  // array
};

}  // namespace rapyer

#include "rapyer/reply.hpp"

#include "rapyer/error.hpp"

namespace rapyer {

std::string_view to_string(reply_type type) noexcept {
  switch (type) {
    case reply_type::nil:
      return "nil";
    case reply_type::integer:
      return "integer";
    case reply_type::string:
      return "string";
    case reply_type::status:
      return "status";
    case reply_type::error:
      return "error";
    case reply_type::array:
      return "array";
  }
  return "unknown";
}

reply reply::integer(long long value) {
  reply r;
  r.type_ = reply_type::integer;
  r.integer_ = value;
  return r;
}

reply reply::string(std::string value) {
  reply r;
  r.type_ = reply_type::string;
  r.text_ = std::move(value);
  return r;
}

reply reply::status(std::string value) {
  reply r = string(std::move(value));
  r.type_ = reply_type::status;
  return r;
}

reply reply::error(std::string message) {
  reply r = string(std::move(message));
  r.type_ = reply_type::error;
  return r;
}

reply reply::array(std::vector<reply> elements) {
  reply r;
  r.type_ = reply_type::array;
  r.elements_ = std::move(elements);
  return r;
}

void reply::require(reply_type expected) const {
  if (type_ == expected) return;
  if (type_ == reply_type::error)
    throw reply_type_error("expected " + std::string(to_string(expected)) + " reply, got error: " + text_);
  throw reply_type_error("expected " + std::string(to_string(expected)) + " reply, got " +
                         std::string(to_string(type_)));
}

long long reply::as_integer() const {
  require(reply_type::integer);
  return integer_;
}

const std::string& reply::as_string() const {
  if (type_ == reply_type::status) return text_;
  require(reply_type::string);
  return text_;
}

std::optional<std::string> reply::as_optional_string() const {
  if (is_nil()) return std::nullopt;
  return as_string();
}

const std::vector<reply>& reply::as_array() const {
  require(reply_type::array);
  return elements_;
}

std::vector<reply>& reply::as_array() {
  require(reply_type::array);
  return elements_;
}

const std::string& reply::error_message() const {
  require(reply_type::error);
  return text_;
}

void reply::throw_if_error(std::string_view command) const {
  if (is_error()) throw server_error(std::string(command), text_);
}

std::string reply::to_debug_string() const {
  switch (type_) {
    case reply_type::nil:
      return "nil";
    case reply_type::integer:
      return std::to_string(integer_);
    case reply_type::string:
      return '"' + text_ + '"';
    case reply_type::status:
      return text_;
    case reply_type::error:
      return "(error) " + text_;
    case reply_type::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < elements_.size(); ++i) {
        if (i != 0) out += ", ";
        out += elements_[i].to_debug_string();
      }
      return out + "]";
    }
  }
  return {};
}

}  // namespace rapyer

#include "rapyer/detail/json_path.hpp"

#include <nlohmann/json.hpp>

#include "rapyer/error.hpp"

namespace rapyer::detail {
namespace {

bool is_identifier(std::string_view name) {
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (name.empty() || !letter(name.front())) return false;
  for (const char c : name) {
    if (!letter(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace

json_path json_path::member(std::string_view name) const {
  if (!is_identifier(name)) return key(name);
  return json_path(text_ + "." + std::string(name));
}

json_path json_path::key(std::string_view key) const {
  std::string literal;
  try {
    // nlohmann escapes '"', '\\' and control characters and keeps other UTF-8 as is.
    literal = nlohmann::json(std::string(key)).dump();
  } catch (const nlohmann::json::type_error& e) {
    throw encode_error("a JSON path key must be valid UTF-8: " + std::string(e.what()));
  }
  return json_path(text_ + "[" + literal + "]");
}

json_path json_path::index(std::int64_t position) const {
  return json_path(text_ + "[" + std::to_string(position) + "]");
}

}  // namespace rapyer::detail

// JSONPath text for the commands of the JSON module (JSON.GET, JSON.SET, JSON.NUMINCRBY, ...):
// "$" for the document, ".name" for a field, ["key"] for a dict entry, [3] or [-1] for a list
// element. A dict key may hold any character, so it always goes in brackets as a JSON string
// literal (valkey-json reads back keys with dots, brackets, quotes, backslashes, control
// characters, NUL and unicode written so; Redis's JSONPath takes the same bracket form).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace rapyer::detail {

class json_path {
 public:
  /// The document itself: "$".
  json_path() = default;

  /// A member of an object: ".name" when the name is an identifier (letters, digits and '_', not
  /// starting with a digit), otherwise in brackets like key().
  json_path member(std::string_view name) const;
  /// An entry of a dict: ["key"], the key escaped as a JSON string. Throws encode_error when the
  /// key is not valid UTF-8 (no JSON document can hold it).
  json_path key(std::string_view key) const;
  /// An element of a list: [3]; a negative position counts from the end ([-1] is the last).
  json_path index(std::int64_t position) const;

  const std::string& text() const noexcept { return text_; }

 private:
  explicit json_path(std::string text) : text_(std::move(text)) {}

  std::string text_ = "$";
};

}  // namespace rapyer::detail

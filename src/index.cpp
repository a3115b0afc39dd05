#include "rapyer/detail/index.hpp"

namespace rapyer::detail {

std::string index_key(std::string_view class_head, std::string_view path) {
  std::string key(class_head);
  key.append(":index:").append(path);
  return key;
}

void push_index_section(std::vector<std::string>& keys, std::vector<std::string>& args, std::string_view class_head,
                        const std::string& id, std::span<const index_spec> specs) {
  args.push_back(std::to_string(specs.size()));
  args.push_back(id);
  for (const auto& spec : specs) {
    args.emplace_back(1, static_cast<char>(spec.kind));
    args.push_back(spec.path);
    keys.push_back(index_key(class_head, spec.path));
    if (spec.kind == index_kind::text) keys.push_back(keys.back() + ":members");
  }
}

std::string escape_index_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    out += c;
    if (c == '\0') out += '\x01';
  }
  return out;
}

std::optional<std::string> id_of_index_member(std::string_view member) {
  constexpr std::string_view separator("\0\0", 2);
  const auto at = member.find(separator);
  if (at == std::string_view::npos) return std::nullopt;
  return std::string(member.substr(at + separator.size()));
}

// Text index members are "<escaped text>\0\0<id>": a value's members lie in [text\0\0, text\0\1).
std::string text_lower_bound(std::string_view encoded) {
  std::string bound = "[";
  bound.append(encoded).append(std::string_view("\0\0", 2));
  return bound;
}

std::string text_upper_bound(std::string_view encoded) {
  std::string bound = "(";
  bound.append(encoded).append(std::string_view("\0\1", 2));
  return bound;
}

std::string text_prefix_end(std::string_view encoded_prefix) {
  std::string end(encoded_prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xFF) end.pop_back();
  if (end.empty()) return "+";
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return "(" + end;
}

}  // namespace rapyer::detail

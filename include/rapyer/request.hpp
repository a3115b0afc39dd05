// A batch of commands encoded once and sent in a single write; its replies come back together.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/detail/command_arg.hpp"

namespace rapyer {

class request {
 public:
  /// Appends one command: `req.push("HSET", key, "field", 42)`. Arguments may be strings,
  /// string views, integers, floating point, or ranges of those (expanded in place).
  template <detail::command_argument... Args>
  request& push(std::string_view command, const Args&... args) {
    std::vector<detail::command_arg> argv;
    argv.reserve(1 + (count(args) + ... + 0));
    argv.emplace_back(command);
    (append(argv, args), ...);
    return push_argv(argv);
  }

  /// Appends one command given as its full argument vector (name first).
  request& push_argv(std::span<const detail::command_arg> argv);

  /// Appends every command of another request.
  request& append(const request& other) {
    commands_.insert(commands_.end(), other.commands_.begin(), other.commands_.end());
    payload_ += other.payload_;
    return *this;
  }

  /// Number of commands, which is the number of replies the request receives.
  std::size_t size() const noexcept { return commands_.size(); }
  bool empty() const noexcept { return commands_.empty(); }
  /// Name of the i-th command, for error messages.
  const std::string& command_name(std::size_t i) const { return commands_.at(i); }
  /// The RESP bytes of all commands.
  const std::string& payload() const noexcept { return payload_; }

 private:
  template <class T>
  static std::size_t count(const T& arg) {
    if constexpr (detail::arg_range<T>) {
      if constexpr (std::ranges::sized_range<T>) return std::ranges::size(arg);
      return 0;
    } else {
      return 1;
    }
  }

  template <class T>
  static void append(std::vector<detail::command_arg>& argv, const T& arg) {
    if constexpr (detail::arg_range<T>) {
      for (const auto& element : arg) argv.emplace_back(element);
    } else {
      argv.emplace_back(arg);
    }
  }

  std::vector<std::string> commands_;
  std::string payload_;
};

}  // namespace rapyer

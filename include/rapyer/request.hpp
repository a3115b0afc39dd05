// A batch of commands encoded once and sent in a single write; its replies come back together.
#pragma once

#include <boost/container/small_vector.hpp>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/detail/command_arg.hpp"

namespace rapyer {

/// Commands are written as RESP straight into one buffer that starts inside the object, so a
/// request of one short command needs no heap allocation: 256 bytes hold a field operation's script
/// call (EVALSHA, its 40-digit SHA-1, the model key twice, the command and its operands).
class request {
 public:
  /// Appends one command: `req.push("HSET", key, "field", 42)`. Arguments may be strings,
  /// string views, integers, floating point, or ranges of those (expanded in place).
  template <detail::command_argument... Args>
  request& push(std::string_view command, const Args&... args) {
    begin_command(command, (count(args) + ... + 0));
    (add(args), ...);
    return *this;
  }

  /// Appends one command given as its full argument vector (name first).
  request& push_argv(std::span<const detail::command_arg> argv);

  /// Appends every command of another request.
  request& append(const request& other);

  /// Number of commands, which is the number of replies the request receives.
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  /// Name of the i-th command, for error messages.
  std::string command_name(std::size_t i) const;
  /// The RESP bytes of all commands.
  std::string_view payload() const noexcept { return {payload_.data(), payload_.size()}; }

 private:
  /// Where a command's name lies in the payload.
  struct name_bytes {
    std::size_t offset;
    std::size_t size;
  };

  template <class T>
  static std::size_t count(const T& arg) {
    if constexpr (detail::arg_range<T>) {
      return static_cast<std::size_t>(std::ranges::distance(arg));
    } else {
      return 1;
    }
  }

  template <class T>
  void add(const T& arg) {
    if constexpr (detail::arg_range<T>) {
      for (const auto& element : arg) add_argument(detail::command_arg(element).view());
    } else {
      add_argument(detail::command_arg(arg).view());
    }
  }

  /// Writes the array header for the name and `arguments` more bulk strings, then the name.
  void begin_command(std::string_view name, std::size_t arguments);
  void add_argument(std::string_view bytes);

  void add_name(name_bytes name);

  boost::container::small_vector<char, 256> payload_;
  std::size_t size_ = 0;
  name_bytes first_name_{};
  std::vector<name_bytes> later_names_;  // of the commands after the first
};

}  // namespace rapyer

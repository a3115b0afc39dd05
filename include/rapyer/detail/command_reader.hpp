// The commands of a RESP-encoded request read back as their arguments, viewing the request's bytes.
// Routing and block-time decisions look at arguments by position; reading one command at a time
// into a small inline buffer lets the common request be looked at without any allocation. Sans-IO.
#pragma once

#include <boost/container/small_vector.hpp>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace rapyer::detail {

/// A command's arguments, its name first.
using argv_view = std::span<const std::string_view>;
/// Where command_reader puts one command's arguments: inline up to 16 of them.
using argv_buffer = boost::container::small_vector<std::string_view, 16>;

/// Reads commands (arrays of bulk strings, as requests encode them) one after another.
class command_reader {
 public:
  explicit command_reader(std::string_view payload) noexcept : payload_(payload) {}

  /// The next command's arguments into `argv` (cleared first); false at the end of the payload or
  /// at bytes that are not a command.
  bool next(argv_buffer& argv);

 private:
  std::string_view payload_;
  std::size_t at_ = 0;
};

/// The arguments of every command in `payload`, for code that needs them all at once.
std::vector<std::vector<std::string_view>> split_commands(std::string_view payload);

}  // namespace rapyer::detail

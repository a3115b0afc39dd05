#include "rapyer/detail/command_reader.hpp"

#include <charconv>

namespace rapyer::detail {
namespace {

// Reads "<prefix><digits>\r\n" at `at`; false on anything else.
bool read_header(std::string_view payload, std::size_t& at, char prefix, std::size_t& value) {
  if (at >= payload.size() || payload[at] != prefix) return false;
  const auto end = payload.find("\r\n", at);
  if (end == std::string_view::npos) return false;
  const auto [ptr, ec] = std::from_chars(payload.data() + at + 1, payload.data() + end, value);
  if (ec != std::errc{} || ptr != payload.data() + end) return false;
  at = end + 2;
  return true;
}

}  // namespace

bool command_reader::next(argv_buffer& argv) {
  argv.clear();
  std::size_t count = 0;
  if (!read_header(payload_, at_, '*', count)) return false;
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t length = 0;
    if (!read_header(payload_, at_, '$', length) || length > payload_.size() - at_ ||
        payload_.size() - at_ - length < 2) {
      at_ = payload_.size();  // nothing after a truncated command is read
      return false;
    }
    argv.push_back(payload_.substr(at_, length));
    at_ += length + 2;
  }
  return true;
}

std::vector<std::vector<std::string_view>> split_commands(std::string_view payload) {
  std::vector<std::vector<std::string_view>> commands;
  command_reader reader(payload);
  for (argv_buffer argv; reader.next(argv);) commands.emplace_back(argv.begin(), argv.end());
  return commands;
}

}  // namespace rapyer::detail

#include "rapyer/detail/blocking_command.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "rapyer/detail/ascii.hpp"
#include "rapyer/detail/command_reader.hpp"

namespace rapyer::detail {
namespace {

// Where a command keeps its time, and in which unit.
enum class time_at { last, second, third, fourth, block_option };

struct blocking_command {
  std::string_view name;
  time_at position;
  bool in_seconds;  // else milliseconds
};

constexpr std::array<blocking_command, 12> blocking_commands{{
    {"BLPOP", time_at::last, true},
    {"BRPOP", time_at::last, true},
    {"BLMOVE", time_at::last, true},
    {"BRPOPLPUSH", time_at::last, true},
    {"BZPOPMIN", time_at::last, true},
    {"BZPOPMAX", time_at::last, true},
    {"BLMPOP", time_at::second, true},
    {"BZMPOP", time_at::second, true},
    {"XREAD", time_at::block_option, false},
    {"XREADGROUP", time_at::block_option, false},
    {"WAIT", time_at::third, false},
    {"WAITAOF", time_at::fourth, false},
}};

const blocking_command* find(std::string_view name) noexcept {
  for (const auto& command : blocking_commands) {
    if (iequals(name, command.name)) return &command;
  }
  return nullptr;
}

std::optional<std::string_view> time_argument(const blocking_command& command, argv_view argv) {
  const auto at = [&](std::size_t i) -> std::optional<std::string_view> {
    if (i < argv.size()) return argv[i];
    return std::nullopt;
  };
  switch (command.position) {
    case time_at::last:
      return argv.size() > 1 ? std::optional(argv.back()) : std::nullopt;
    case time_at::second:
      return at(1);
    case time_at::third:
      return at(2);
    case time_at::fourth:
      return at(3);
    case time_at::block_option:
      // Options come before STREAMS; the keys and ids after it may be named BLOCK too.
      for (std::size_t i = 1; i + 1 < argv.size(); ++i) {
        if (iequals(argv[i], "STREAMS")) break;
        if (iequals(argv[i], "BLOCK")) return argv[i + 1];
      }
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> parse_time(std::string_view text, bool in_seconds) {
  if (in_seconds) {
    const std::string copy(text);
    char* end = nullptr;
    const double seconds = std::strtod(copy.c_str(), &end);
    if (copy.empty() || end != copy.c_str() + copy.size() || !std::isfinite(seconds) || seconds < 0) {
      return std::nullopt;
    }
    return std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000)));
  }
  long long ms = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec != std::errc{} || end != text.data() + text.size() || ms < 0) return std::nullopt;
  return std::chrono::milliseconds(ms);
}

}  // namespace

bool may_block(std::string_view command_name) noexcept {
  // Every blocking command starts with B, W or X: most names are ruled out by one comparison.
  if (command_name.empty()) return false;
  const char first = to_upper(command_name.front());
  return (first == 'B' || first == 'W' || first == 'X') && find(command_name) != nullptr;
}

std::optional<block_time> block_time_of(argv_view argv) {
  if (argv.empty()) return std::nullopt;
  const blocking_command* command = find(argv.front());
  if (command == nullptr) return std::nullopt;
  const auto text = time_argument(*command, argv);
  if (!text) return std::nullopt;
  const auto time = parse_time(*text, command->in_seconds);
  if (!time) return std::nullopt;
  return block_time{*time, time->count() == 0};
}

std::optional<block_time> block_time_of(const request& req) {
  bool any = false;
  for (std::size_t i = 0; i < req.size() && !any; ++i) any = may_block(req.command_name(i));
  if (!any) return std::nullopt;
  std::optional<block_time> total;
  command_reader reader(req.payload());
  for (argv_buffer argv; reader.next(argv);) {
    const auto one = block_time_of(argv);
    if (!one) continue;
    if (!total) total.emplace();
    total->forever = total->forever || one->forever;
    total->limit += one->limit;
  }
  return total;
}

}  // namespace rapyer::detail

#include "rapyer/detail/script.hpp"

#include <algorithm>

#include "rapyer/detail/ascii.hpp"
#include "rapyer/detail/command_arg.hpp"
#include "rapyer/detail/command_reader.hpp"
#include "rapyer/detail/scripts.hpp"

namespace rapyer::detail {
namespace {

using argv = std::vector<std::string_view>;

/// The known script an EVALSHA calls, or null.
const script* script_called(const argv& command) {
  if (command.size() < 2 || !iequals(command[0], "EVALSHA")) return nullptr;
  const auto all = scripts::all();
  const auto found = std::ranges::find_if(all, [&](const script* s) { return iequals(s->sha, command[1]); });
  return found == all.end() ? nullptr : *found;
}

/// Commands that set state from what is stored, so that running them again after the command they
/// follow is right: an index update, a TTL.
bool repeats_safely(const argv& command) {
  if (iequals(command.front(), "EXPIRE") || iequals(command.front(), "PEXPIRE")) return true;
  const script* called = script_called(command);
  return called == &scripts::reindex || called == &scripts::expire_all;
}

void push_command(request& req, const argv& command) {
  const std::vector<command_arg> args(command.begin(), command.end());
  req.push_argv(args);
}

}  // namespace

bool is_noscript(const reply& r) { return r.is_error() && r.error_message().starts_with("NOSCRIPT"); }

bool has_noscript(const std::vector<reply>& replies) {
  for (const auto& r : replies) {
    if (is_noscript(r)) return true;
    if (r.is_array()) {
      for (const auto& element : r.as_array()) {
        if (is_noscript(element)) return true;
      }
    }
  }
  return false;
}

std::optional<noscript_rerun> noscript_rerun::plan(const request& sent, const std::vector<reply>& replies,
                                                   noscript_blocks blocks) {
  const auto commands = split_commands(sent.payload());
  std::vector<const script*> missing;
  // Whether the command failed for want of a script rapyer knows, which is then noted as missing.
  const auto failed_for_script = [&](const argv& command, const reply& result) {
    const script* called = is_noscript(result) ? script_called(command) : nullptr;
    if (called != nullptr && std::ranges::find(missing, called) == missing.end()) missing.push_back(called);
    return called != nullptr;
  };
  struct rerun_unit {
    std::size_t reply;                  // the command's reply, or the block's EXEC reply
    std::size_t first_command;          // of the block's commands in `commands`
    std::vector<std::size_t> elements;  // empty for a plain command
  };
  std::vector<rerun_unit> units;
  for (std::size_t i = 0; i < commands.size() && i < replies.size(); ++i) {
    if (!iequals(commands[i].front(), "MULTI")) {
      if (failed_for_script(commands[i], replies[i])) units.push_back({i, i, {}});
      continue;
    }
    std::size_t exec = i + 1;
    while (exec < commands.size() && !iequals(commands[exec].front(), "EXEC") &&
           !iequals(commands[exec].front(), "DISCARD")) {
      ++exec;
    }
    if (exec >= replies.size()) break;
    // The EXEC array holds one result per queued command, in order (an aborted block has none).
    if (iequals(commands[exec].front(), "EXEC") && replies[exec].is_array()) {
      const auto& results = replies[exec].as_array();
      rerun_unit block{exec, i + 1, {}};
      bool failed = false;
      for (std::size_t e = 0; e < results.size() && i + 1 + e < exec; ++e) {
        const argv& command = commands[i + 1 + e];
        const bool this_failed = failed_for_script(command, results[e]);
        const bool again = this_failed || blocks == noscript_blocks::rerun_whole || (failed && repeats_safely(command));
        if (again) block.elements.push_back(e);
        failed = failed || this_failed;
      }
      if (failed && blocks != noscript_blocks::load_only) units.push_back(std::move(block));
    }
    i = exec;
  }
  if (missing.empty()) return std::nullopt;

  noscript_rerun rerun;
  push_script_loads(rerun.again_, missing);
  rerun.loads_ = missing.size();
  for (const auto& unit : units) {
    if (unit.elements.empty()) {
      rerun.reruns_.push_back({unit.reply, std::nullopt, rerun.again_.size(), std::nullopt});
      push_command(rerun.again_, commands[unit.reply]);
      continue;
    }
    rerun.again_.push("MULTI");
    const std::size_t exec = rerun.again_.size() + unit.elements.size();
    for (std::size_t n = 0; n < unit.elements.size(); ++n) {
      rerun.reruns_.push_back({unit.reply, unit.elements[n], exec, n});
      push_command(rerun.again_, commands[unit.first_command + unit.elements[n]]);
    }
    rerun.again_.push("EXEC");
  }
  return rerun;
}

void noscript_rerun::merge(std::vector<reply>& replies, std::vector<reply> again_replies) const {
  throw_if_load_failed(std::span<const reply>(again_replies).first(loads_));
  for (const auto& r : reruns_) {
    reply& result = again_replies.at(r.again_reply);
    // An aborted rerun block (EXECABORT) gives its error to each of its commands.
    reply value = r.again_element && result.is_array() ? std::move(result.as_array().at(*r.again_element)) : result;
    if (r.element) {
      replies.at(r.reply).as_array().at(*r.element) = std::move(value);
    } else {
      replies.at(r.reply) = std::move(value);
    }
  }
}

void push_script_loads(request& req, std::span<const script* const> used) {
  for (const script* s : used) req.push("SCRIPT", "LOAD", s->source);
}

std::vector<const script*> scripts_called(const request& req) {
  std::vector<const script*> used;
  for (const auto& command : split_commands(req.payload())) {
    const script* called = script_called(command);
    if (called != nullptr && std::ranges::find(used, called) == used.end()) used.push_back(called);
  }
  return used;
}

void throw_if_load_failed(std::span<const reply> load_replies) {
  for (const auto& r : load_replies) r.throw_if_error("SCRIPT LOAD");
}

}  // namespace rapyer::detail

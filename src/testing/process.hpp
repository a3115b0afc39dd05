// Child processes of the test support: the servers, and the tools run against them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace rapyer::testing::detail {

/// Starts arguments[0] (looked up in PATH) with `arguments`; its stdout and stderr go to
/// `output_file` when one is given (the parent's otherwise). Returns the pid; throws
/// connection_error when it cannot start.
int spawn_process(const std::vector<std::string>& arguments, const std::string& output_file = {});

/// Waits for the child `pid` to exit and reaps it: its waitpid status, or nullopt when it is
/// still running after `timeout`.
std::optional<int> wait_for_exit(int pid, std::chrono::milliseconds timeout);

}  // namespace rapyer::testing::detail

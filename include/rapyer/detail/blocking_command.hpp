// Which commands block the connection on the server, and for how long: a blocking command's
// deadline is its own block time plus the command timeout, and one that blocks forever has none.
// Sans-IO: works on the RESP bytes of a request.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "rapyer/detail/command_reader.hpp"
#include "rapyer/request.hpp"

namespace rapyer::detail {

/// How long a blocking command may wait on the server before it answers by itself.
struct block_time {
  std::chrono::milliseconds limit{0};
  bool forever = false;

  friend bool operator==(const block_time&, const block_time&) = default;
};

/// True for the names of commands that may block (any case): BLPOP, BRPOP, BLMOVE, BRPOPLPUSH,
/// BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP, XREAD, XREADGROUP, WAIT, WAITAOF.
bool may_block(std::string_view command_name) noexcept;

/// The block time of one command given as its arguments (name first); nullopt when it does not
/// block (not a blocking command, or XREAD without BLOCK). A malformed time counts as not
/// blocking: the server rejects the command at once.
std::optional<block_time> block_time_of(argv_view argv);

/// The total block time of a request's commands (they run one after another); nullopt when none
/// blocks. Looks at the bytes only when a command's name says it may block.
std::optional<block_time> block_time_of(const request& req);

}  // namespace rapyer::detail

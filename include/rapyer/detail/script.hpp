// Lua scripts called by SHA-1 (EVALSHA), and the one way their calls are sent. The text and SHA-1 of
// each script are fixed at build time (scripts.hpp), so a call needs no SCRIPT LOAD round trip and
// no source is sent while the server has the script. When it has not (first use, SCRIPT FLUSH,
// restart, a new node), the call answers NOSCRIPT: execute_calling_scripts() then loads the
// missing scripts on the connection or node that answered and sends again only what failed.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "rapyer/detail/command_interface.hpp"

namespace rapyer::detail {

struct script {
  std::string_view name;    // the file's name in src/lua, for messages
  std::string_view source;  // the exact text the SHA-1 is computed over
  std::string_view sha;     // lowercase hex, as Redis names the script
};

/// True when the reply is a NOSCRIPT error.
bool is_noscript(const reply& r);
/// True when the reply, or an element of an EXEC array, is a NOSCRIPT error.
bool has_noscript(const std::vector<reply>& replies);

/// What a MULTI/EXEC block whose EXEC results hold NOSCRIPT is sent again as.
enum class noscript_blocks {
  /// The commands that failed (and the ones after them that repeat safely), in a new MULTI/EXEC.
  rerun,
  /// Nothing: the scripts are loaded and the caller retries the whole block itself (a block under
  /// WATCH, whose EXEC ended the WATCH: a rerun would no longer be guarded).
  load_only,
  /// Every command of the block, in a new MULTI/EXEC: for a block whose commands read what its
  /// scripts write (aget_or_create), so that the reads follow the scripts again. Only for blocks
  /// whose commands before a script call repeat safely.
  rerun_whole,
};

/// Appends SCRIPT LOAD of each script in `used`.
void push_script_loads(request& req, std::span<const script* const> used);
/// The known scripts the commands of `req` call (EVALSHA), each once, in order of first call.
std::vector<const script*> scripts_called(const request& req);
/// Throws server_error naming SCRIPT LOAD when one of these replies to SCRIPT LOADs is an error, so
/// that a script the server refuses (ACL, out of memory) is reported as such, not as NOSCRIPT.
void throw_if_load_failed(std::span<const reply> load_replies);

/// The second round trip after NOSCRIPT replies (sans-IO): SCRIPT LOAD of each missing script, once,
/// then, in their order, each plain command that answered NOSCRIPT and, per MULTI/EXEC block with
/// NOSCRIPT results, a new MULTI/EXEC of the commands that failed.
///
/// Why a rerun never applies a write twice: a command that answered NOSCRIPT did nothing, and the
/// other commands of its MULTI/EXEC did run, so only the failed ones are sent again. Among the
/// commands after the first failure, those that bring state in line with what is stored (an index
/// update by the reindex script, a TTL set by EXPIRE, PEXPIRE or the expire_all script) go again
/// too: they may have run before the command they follow. A block whose commands all call one
/// script (bulk saves and deletes) failed whole, so it runs again whole, still atomically. A mixed
/// block would see its failed commands run after the others, out of order: apipeline therefore
/// loads its scripts ahead of its block (push_script_loads).
class noscript_rerun {
 public:
  /// Null when no reply to `sent` is a NOSCRIPT error of a known script.
  static std::optional<noscript_rerun> plan(const request& sent, const std::vector<reply>& replies,
                                            noscript_blocks blocks);

  /// The request to send on the same target as the first one.
  const request& again() const noexcept { return again_; }
  /// Puts the replies to again() in place of the NOSCRIPT replies of `replies`; throws as
  /// throw_if_load_failed when a SCRIPT LOAD of again() failed.
  void merge(std::vector<reply>& replies, std::vector<reply> again_replies) const;

 private:
  struct rerun_command {
    std::size_t reply;                   // in the first replies
    std::optional<std::size_t> element;  // of that EXEC array, for a command of a block
    std::size_t again_reply;             // in the replies to again()
    std::optional<std::size_t> again_element;
  };
  request again_;
  std::size_t loads_ = 0;  // SCRIPT LOADs at the front of again_
  std::vector<rerun_command> reruns_;
};

/// How many times execute_calling_scripts() repairs NOSCRIPT replies of one request.
inline constexpr int noscript_repairs = 3;

/// Executes `req` on `target` (a client, connection or lease) and repairs NOSCRIPT replies with one
/// more round trip (noscript_rerun). On a cluster client, the scripts are loaded on every node the
/// failed commands go to, which are the nodes that answered NOSCRIPT, unless a slot moves or fails
/// over in between: the rerun then meets NOSCRIPT on its new node and is repaired again there (at
/// most noscript_repairs times; a NOSCRIPT reply did nothing, so each rerun is safe).
template <class Target>
awaitable<std::vector<reply>> execute_calling_scripts(Target& target, const request& req,
                                                      noscript_blocks blocks = noscript_blocks::rerun) {
  auto replies = co_await target.execute(req);
  for (int repair = 0; repair < noscript_repairs && has_noscript(replies); ++repair) {
    const auto rerun = noscript_rerun::plan(req, replies, blocks);
    if (!rerun) break;
    rerun->merge(replies, co_await target.execute(rerun->again()));
    if (blocks == noscript_blocks::load_only) break;  // the caller retries the whole block itself
  }
  co_return replies;
}

}  // namespace rapyer::detail

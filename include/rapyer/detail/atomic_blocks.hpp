// How bulk model operations frame their commands: one MULTI/EXEC block per group of keys that can
// be atomic together. On a standalone server that is one block for the whole batch; on a cluster
// one block per hash slot (each model's keys share a slot, so each model stays all-or-nothing),
// and the client sends the blocks to their nodes in parallel.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rapyer/client.hpp"
#include "rapyer/detail/script.hpp"
#include "rapyer/reply.hpp"
#include "rapyer/request.hpp"

namespace rapyer::detail {

class atomic_blocks {
 public:
  /// `by_slot`: the client is on a cluster.
  atomic_blocks(bool by_slot, const std::vector<std::string>& keys);

  /// Appends, for each group, MULTI, `body(req, members)` (the indices of the group's keys, in
  /// order) and EXEC.
  template <class Body>
  void append_to(request& req, Body&& body) {
    for (auto& block : groups_) {
      req.push("MULTI");
      body(req, std::span<const std::size_t>(block.members));
      req.push("EXEC");
      block.exec_reply = req.size() - 1;
    }
  }

  /// Sends the blocks in one round trip (one per node on a cluster) and returns the replies. The
  /// commands of a block that met NOSCRIPT run again as noscript_rerun says: a block whose commands
  /// all call one script (bulk saves, deletes) ran nothing and runs again whole.
  template <class Body>
  awaitable<std::vector<reply>> execute(client& redis, Body&& body) {
    request req;
    append_to(req, body);
    co_return co_await execute_calling_scripts(redis, req);
  }

  /// The EXEC results of the block holding key `key_index` (throws server_error when the block
  /// was aborted), and the key's rank among its group's members.
  std::pair<const std::vector<reply>*, std::size_t> results_of(const std::vector<reply>& replies,
                                                               std::size_t key_index) const;
  /// Each block's EXEC results, checked, in order.
  std::vector<const std::vector<reply>*> all_results(const std::vector<reply>& replies) const;

 private:
  struct group {
    std::vector<std::size_t> members;
    std::size_t exec_reply = 0;  // position of the block's EXEC reply in the request
  };
  std::vector<group> groups_;
  std::vector<std::pair<std::size_t, std::size_t>> placement_;  // per key: group, rank
};

/// What must be atomic as a whole (a transaction over several models) needs all its keys in one
/// hash slot on a cluster: otherwise usage_error naming `operation`, the keys and their slots,
/// before anything is sent.
void require_one_slot(const std::vector<std::string>& keys, std::string_view operation);

}  // namespace rapyer::detail

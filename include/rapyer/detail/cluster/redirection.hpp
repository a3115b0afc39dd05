// Redis Cluster's redirection errors (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) and what to do about
// them. Sans-IO: error messages in, decisions out; the router does the sending and the waiting.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/detail/cluster/slot_map.hpp"

namespace rapyer::detail::cluster {

enum class redirect_kind {
  moved,        // the slot lives on another node now
  ask,          // the slot is migrating: this one command goes to the target, after ASKING
  try_again,    // a multi-key command met a slot in the middle of a migration
  cluster_down  // the cluster cannot serve the slot at the moment
};

struct redirection {
  redirect_kind kind;
  std::uint16_t slot = 0;  // MOVED and ASK only
  node_address target{};   // MOVED and ASK only

  friend bool operator==(const redirection&, const redirection&) = default;
};

/// The redirection an error reply's message asks for, or nullopt for any other error (or a
/// malformed MOVED/ASK). "MOVED 3999 127.0.0.1:6381" and "ASK 3999 127.0.0.1:6381" name the target;
/// its port follows the last colon (IPv6 hosts have colons too, "MOVED 1 ::1:6380"), and an empty
/// host ("MOVED 3999 :6381") is the node that replied, `replying_host`.
std::optional<redirection> parse_redirection(std::string_view error_message, std::string_view replying_host);

struct redirect_limits {
  int max_redirects = 16;  // per command, counting every kind of redirection
  std::chrono::milliseconds min_backoff{10};
  std::chrono::milliseconds max_backoff{500};
};

enum class redirect_action {
  resend_to_target,     // MOVED: update the slot map, resend to the target, schedule a map refresh
  ask_target,           // ASK: send ASKING and the commands to the target, the map stays
  retry_after_backoff,  // TRYAGAIN, CLUSTERDOWN: wait backoff(), then resend where the map says
  give_up               // max_redirects reached: fail with describe_redirect_failure()
};

/// What to do about a redirection after `redirects_so_far` earlier ones of the same command.
redirect_action decide(const redirection& redirect, int redirects_so_far, const redirect_limits& limits) noexcept;

/// How long to wait before retry `attempt` (0 for the first): min_backoff doubled per attempt,
/// never more than max_backoff. Deterministic; the caller adds jitter if it wants any.
std::chrono::milliseconds backoff(int attempt, const redirect_limits& limits) noexcept;

/// The message of the error that ends a command the cluster kept redirecting, e.g.
/// "GET: slot 12182 still redirected after 16 attempts (nodes tried: 127.0.0.1:7001,
/// 127.0.0.1:7002); last error: CLUSTERDOWN Hash slot not served". `nodes_tried` in the order they
/// were tried, repeats named once.
std::string describe_redirect_failure(std::string_view command, std::uint16_t slot, int attempts,
                                      const std::vector<node_address>& nodes_tried, std::string_view last_error);

}  // namespace rapyer::detail::cluster

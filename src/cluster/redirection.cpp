#include "rapyer/detail/cluster/redirection.hpp"

#include <algorithm>
#include <charconv>

#include "rapyer/detail/cluster/key_slot.hpp"

namespace rapyer::detail::cluster {
namespace {

/// The whole of `text` as an unsigned number no greater than `max`.
std::optional<unsigned> parse_number(std::string_view text, unsigned max) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

/// Reads "<slot> <host>:<port>", the rest of a MOVED or ASK message.
std::optional<redirection> parse_target(redirect_kind kind, std::string_view rest, std::string_view replying_host) {
  const auto space = rest.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto endpoint = rest.substr(space + 1);
  const auto colon = endpoint.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto slot = parse_number(rest.substr(0, space), slot_count - 1);
  const auto port = parse_number(endpoint.substr(colon + 1), 65535);
  if (!slot || !port || *port == 0) return std::nullopt;
  const auto host = endpoint.substr(0, colon);
  return redirection{kind,
                     static_cast<std::uint16_t>(*slot),
                     {std::string(host.empty() ? replying_host : host), static_cast<std::uint16_t>(*port)}};
}

}  // namespace

std::optional<redirection> parse_redirection(std::string_view error_message, std::string_view replying_host) {
  const auto code = error_message.substr(0, error_message.find(' '));
  const auto rest = error_message.substr(std::min(code.size() + 1, error_message.size()));
  if (code == "MOVED") return parse_target(redirect_kind::moved, rest, replying_host);
  if (code == "ASK") return parse_target(redirect_kind::ask, rest, replying_host);
  if (code == "TRYAGAIN") return redirection{redirect_kind::try_again};
  if (code == "CLUSTERDOWN") return redirection{redirect_kind::cluster_down};
  return std::nullopt;
}

redirect_action decide(const redirection& redirect, int redirects_so_far, const redirect_limits& limits) noexcept {
  if (redirects_so_far >= limits.max_redirects) return redirect_action::give_up;
  switch (redirect.kind) {
    case redirect_kind::moved:
      return redirect_action::resend_to_target;
    case redirect_kind::ask:
      return redirect_action::ask_target;
    case redirect_kind::try_again:
    case redirect_kind::cluster_down:
      return redirect_action::retry_after_backoff;
  }
  return redirect_action::give_up;
}

std::chrono::milliseconds backoff(int attempt, const redirect_limits& limits) noexcept {
  auto wait = limits.min_backoff;
  // Doubling stops at the cap (or at a zero minimum), so no attempt number overflows or spins.
  for (int i = 0; i < attempt && wait.count() > 0 && wait < limits.max_backoff; ++i) wait *= 2;
  return std::min(wait, limits.max_backoff);
}

std::string describe_redirect_failure(std::string_view command, std::uint16_t slot, int attempts,
                                      const std::vector<node_address>& nodes_tried, std::string_view last_error) {
  std::string text(command);
  text += ": slot " + std::to_string(slot) + " still redirected after " + std::to_string(attempts) + " attempts";
  std::vector<node_address> named;
  for (const auto& node : nodes_tried) {
    if (std::ranges::find(named, node) != named.end()) continue;
    text += named.empty() ? " (nodes tried: " : ", ";
    text += node.endpoint();
    named.push_back(node);
  }
  if (!named.empty()) text += ")";
  text += "; last error: ";
  text += last_error;
  return text;
}

}  // namespace rapyer::detail::cluster

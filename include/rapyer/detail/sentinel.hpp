// Redis Sentinel without I/O: the commands sent to sentinels and data nodes, and what their replies
// mean. The connection (src/connection.cpp) and the switch-master watch do the talking.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rapyer/config.hpp"
#include "rapyer/reply.hpp"
#include "rapyer/request.hpp"

namespace rapyer::detail {

/// The pub/sub channel on which sentinels announce a new primary.
inline constexpr std::string_view switch_master_channel = "+switch-master";

/// Settings for a short-lived connection to one sentinel: its address, the sentinel credentials and
/// TLS, the data connection's timeouts; no database, no reconnects, no health checks.
connection_config sentinel_node_config(const connection_config& data, const host_port& sentinel);

/// `SENTINEL GET-MASTER-ADDR-BY-NAME <name>`, or `SENTINEL REPLICAS <name>` for replica reads.
request node_lookup_request(const sentinel_config& sentinel);

/// The addresses a sentinel's reply to node_lookup_request offers, best first: the primary, or the
/// replicas that are up and linked to their primary. Throws connection_error with the reason
/// (unknown master, an error reply, no healthy replica, a malformed reply).
std::vector<host_port> offered_nodes(const sentinel_config& sentinel, const reply& lookup);

/// Sent last in the data node's handshake when sentinel-managed: ROLE.
request role_request();
/// Throws connection_error unless the (non-error) ROLE reply says what `sentinel` asked for: master,
/// or a replica (`slave`) with read_from_replica.
void check_role(const sentinel_config& sentinel, const reply& role);

/// The new primary announced by a `+switch-master` message, when it is about our master:
/// "<master name> <old ip> <old port> <new ip> <new port>".
std::optional<host_port> switched_primary(std::string_view master_name, std::string_view message);

/// A failed resolution: one line per sentinel tried, with why it did not lead to a usable node.
std::string resolution_failure(const sentinel_config& sentinel,
                               const std::vector<std::pair<host_port, std::string>>& attempts);

}  // namespace rapyer::detail

#include "rapyer/detail/sentinel.hpp"

#include <algorithm>
#include <charconv>

#include "rapyer/error.hpp"

namespace rapyer::detail {
namespace {

[[noreturn]] void malformed(std::string_view what, const reply& r) {
  throw connection_error("malformed " + std::string(what) + " reply: " + r.to_debug_string());
}

std::optional<std::uint16_t> to_port(std::string_view text) {
  std::uint16_t port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc{} || end != text.data() + text.size() || port == 0) return std::nullopt;
  return port;
}

// A field of one `SENTINEL REPLICAS` entry: a flat list of name/value pairs.
std::string_view field(const std::vector<reply>& entry, std::string_view name) {
  for (std::size_t i = 0; i + 1 < entry.size(); i += 2) {
    if (entry[i].is_string() && entry[i].as_string() == name && entry[i + 1].is_string()) {
      return entry[i + 1].as_string();
    }
  }
  return {};
}

// Sentinel's flags of a replica it cannot use: down in its own or the quorum's view, or unreachable.
bool usable_replica(const std::vector<reply>& entry) {
  const std::string_view flags = field(entry, "flags");
  for (const std::string_view bad : {"s_down", "o_down", "disconnected"}) {
    if (flags.find(bad) != std::string_view::npos) return false;
  }
  return field(entry, "master-link-status") == "ok";
}

std::vector<host_port> master_address(const sentinel_config& sentinel, const reply& lookup) {
  if (lookup.is_nil()) throw connection_error("does not know master '" + sentinel.master_name + "'");
  if (!lookup.is_array() || lookup.as_array().size() != 2 || !lookup.as_array()[0].is_string() ||
      !lookup.as_array()[1].is_string()) {
    malformed("SENTINEL GET-MASTER-ADDR-BY-NAME", lookup);
  }
  const auto port = to_port(lookup.as_array()[1].as_string());
  if (!port) malformed("SENTINEL GET-MASTER-ADDR-BY-NAME", lookup);
  return {host_port{lookup.as_array()[0].as_string(), *port}};
}

std::vector<host_port> replica_addresses(const sentinel_config& sentinel, const reply& lookup) {
  if (!lookup.is_array()) malformed("SENTINEL REPLICAS", lookup);
  std::vector<host_port> replicas;
  for (const reply& entry : lookup.as_array()) {
    if (!entry.is_array()) malformed("SENTINEL REPLICAS", lookup);
    if (!usable_replica(entry.as_array())) continue;
    const auto port = to_port(field(entry.as_array(), "port"));
    const std::string_view ip = field(entry.as_array(), "ip");
    if (!port || ip.empty()) malformed("SENTINEL REPLICAS", lookup);
    replicas.push_back(host_port{std::string(ip), *port});
  }
  if (replicas.empty()) throw connection_error("knows no healthy replica of '" + sentinel.master_name + "'");
  return replicas;
}

}  // namespace

connection_config sentinel_node_config(const connection_config& data, const host_port& sentinel) {
  connection_config config;
  config.host = sentinel.host;
  config.port = sentinel.port;
  config.username = data.sentinel.username;
  config.password = data.sentinel.password;
  config.tls = data.sentinel.tls;
  config.client_name = data.client_name;
  config.connect_timeout = data.connect_timeout;
  config.command_timeout = data.connect_timeout;  // part of the data connection's connect
  config.auto_reconnect = false;
  config.health_check_interval = std::chrono::milliseconds{0};
  config.tcp_keepalive = data.tcp_keepalive;
  return config;
}

request node_lookup_request(const sentinel_config& sentinel) {
  request req;
  if (sentinel.read_from_replica) {
    req.push("SENTINEL", "REPLICAS", sentinel.master_name);
  } else {
    req.push("SENTINEL", "GET-MASTER-ADDR-BY-NAME", sentinel.master_name);
  }
  return req;
}

std::vector<host_port> offered_nodes(const sentinel_config& sentinel, const reply& lookup) {
  if (lookup.is_error()) throw connection_error("answered " + lookup.error_message());
  return sentinel.read_from_replica ? replica_addresses(sentinel, lookup) : master_address(sentinel, lookup);
}

request role_request() {
  request req;
  req.push("ROLE");
  return req;
}

void check_role(const sentinel_config& sentinel, const reply& role) {
  if (!role.is_array() || role.as_array().empty() || !role.as_array().front().is_string()) malformed("ROLE", role);
  const std::string& actual = role.as_array().front().as_string();
  const std::string_view wanted = sentinel.read_from_replica ? "slave" : "master";
  if (actual != wanted) {
    throw connection_error("ROLE is " + actual + ", not " + std::string(wanted) + " (failover in progress?)");
  }
}

std::optional<host_port> switched_primary(std::string_view master_name, std::string_view message) {
  // The name may contain spaces: the four addresses are taken from the end.
  std::string_view rest = message;
  std::string_view words[4];
  for (auto& word : words) {
    const auto space = rest.rfind(' ');
    if (space == std::string_view::npos) return std::nullopt;
    word = rest.substr(space + 1);
    rest = rest.substr(0, space);
  }
  // words: new port, new ip, old port, old ip.
  const auto port = to_port(words[0]);
  if (rest != master_name || !port || words[1].empty()) return std::nullopt;
  return host_port{std::string(words[1]), *port};
}

std::string resolution_failure(const sentinel_config& sentinel,
                               const std::vector<std::pair<host_port, std::string>>& attempts) {
  std::string text = "sentinel: no usable " + std::string(sentinel.read_from_replica ? "replica" : "primary") +
                     " for master '" + sentinel.master_name + "'";
  for (const auto& [address, reason] : attempts) text += "; sentinel " + to_string(address) + ": " + reason;
  return text;
}

}  // namespace rapyer::detail

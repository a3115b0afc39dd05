// Connection and client settings: plain structs with documented defaults, or parsed from a URL.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/logging.hpp"

namespace rapyer {

/// One server address.
struct host_port {
  std::string host;
  std::uint16_t port = 6379;

  friend bool operator==(const host_port&, const host_port&) = default;
};

/// "host:port", or "[ipv6]:port".
std::string to_string(const host_port& address);

/// TLS settings (Redis 6+ `tls-port`, managed Redis services). Verification is on by default.
struct tls_config {
  /// Talk TLS on the TCP connection; set by `rediss://` URLs.
  bool enabled = false;
  /// Check the server's certificate chain against the trusted CAs and that it names the server.
  /// Turn off only for self-signed test setups: without it anyone on the path can read the traffic.
  bool verify_peer = true;
  /// PEM file of trusted CA certificates; empty: the system store (OpenSSL's default paths).
  std::string ca_file;
  /// Client certificate chain and its private key (PEM), for servers with `tls-auth-clients yes`.
  std::string cert_file;
  std::string key_file;
  /// Name checked against the certificate and sent as SNI; empty: the connection's host.
  std::string server_name;
};

/// Redis Sentinel: the primary (or a replica) of a named master is asked of the sentinels on every
/// connect and reconnect, instead of connecting to connection_config::host/port.
struct sentinel_config {
  /// Asked in this order until one answers.
  std::vector<host_port> sentinels;
  /// The master's name in the sentinels' configuration (`sentinel monitor <name> …`).
  std::string master_name;
  /// Credentials for the sentinels themselves (`requirepass` / ACL user of the sentinels); the data
  /// nodes use connection_config::username/password.
  std::string username;
  std::string password;
  /// TLS to the sentinels.
  tls_config tls;
  /// Connect to a replica of the master instead of the primary, for a read-only client.
  bool read_from_replica = false;

  bool enabled() const noexcept { return !master_name.empty(); }
};

struct connection_config {
  /// TCP host name or address. Ignored when unix_socket is set.
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  /// Path of a Unix domain socket; when non-empty it is used instead of host/port.
  std::string unix_socket;
  /// ACL user name; empty means the "default" user (AUTH with the password alone).
  std::string username;
  /// Password sent with AUTH on every (re)connect; empty means no AUTH.
  std::string password;
  /// Logical database chosen with SELECT on every (re)connect.
  int database = 0;
  /// Name set with CLIENT SETNAME, visible in CLIENT LIST; empty skips the command.
  std::string client_name = "rapyer";
  /// Limit for resolving, connecting and the AUTH/SELECT handshake.
  std::chrono::milliseconds connect_timeout{5000};
  /// Limit for each command or batch, from the call until its last reply; zero disables it.
  std::chrono::milliseconds command_timeout{5000};
  /// After a lost connection, reconnect in the background with exponential backoff between
  /// these bounds.
  bool auto_reconnect = true;
  std::chrono::milliseconds reconnect_min_delay{20};
  std::chrono::milliseconds reconnect_max_delay{2000};
  /// While reconnecting, a new command waits for the connection to come back (until its own
  /// deadline) instead of failing at once with connection_error. Commands already sent on the lost
  /// connection always fail: they may have been applied, so they are never resent.
  bool wait_for_reconnect = true;
  /// After this long without traffic the connection sends PING; a PING (or any reply awaited)
  /// missing for as long again declares the connection dead: its requests fail and it reconnects.
  /// Zero disables the check.
  std::chrono::milliseconds health_check_interval{1000};
  /// SO_KEEPALIVE on TCP connections, so the kernel notices a peer that vanished.
  bool tcp_keepalive = true;
  /// Sends READONLY in the handshake, so that a Redis Cluster replica serves reads of its
  /// primary's slots; the client sets it with cluster_config::read_from_replicas.
  bool readonly = false;
  /// Where connects, reconnects, timeouts, health-check failures and errors are reported.
  log_sink logger;
  /// TLS over TCP (not used with unix_socket).
  tls_config tls;
  /// More nodes of a Redis Cluster, after host/port, to discover it from: the rest of the host list
  /// of `redis://h1:p1,h2:p2,h3:p3`.
  std::vector<host_port> seeds;
  /// When enabled(), host/port are ignored: every (re)connect asks the sentinels for the address.
  sentinel_config sentinel;

  /// Parses `redis://[user[:password]@]host[:port][,host2[:port2]…][/db][?params]`, `rediss://…`
  /// (TLS), `unix:///path/to.sock[?db=N&user=…&password=…]` or
  /// `redis-sentinel://[user[:password]@]sentinel1[:port][,sentinel2[:port]…][/db][?params]#master`
  /// (`rediss-sentinel://`: TLS to the sentinels and the data nodes, with the same ssl_* parameters;
  /// sentinel port 26379 by default; the credentials are the data nodes'). user, password, the
  /// master name and parameter values may be percent-encoded. Hosts after the first of a redis://
  /// URL are the cluster seeds. Parameters set the fields of the same name: `client_name`, durations
  /// `connect_timeout`, `command_timeout`, `health_check_interval`, `reconnect_min_delay`,
  /// `reconnect_max_delay` (a plain number is milliseconds; `250ms` and `5s` also work) and
  /// booleans `auto_reconnect`, `wait_for_reconnect`, `tcp_keepalive` (true/false, 1/0, yes/no).
  /// `rediss://` takes the parameters of redis-py: `ssl_ca_certs`, `ssl_certfile`, `ssl_keyfile`,
  /// `ssl_cert_reqs=none|required` and `ssl_server_hostname`. Sentinel URLs take
  /// `sentinel_username`, `sentinel_password` and `read_from_replica`. Throws config_error on a malformed
  /// URL, a bad value (naming the parameter), an unknown parameter, and a client_config parameter
  /// such as `pool_size` (those need client_config::from_url).
  static connection_config from_url(std::string_view url);
  /// The address without credentials, for messages: "127.0.0.1:6379", "unix:/path" or
  /// "sentinel mymaster (127.0.0.1:26379,127.0.0.1:26380)".
  std::string endpoint() const;
};

/// Redis Cluster behaviour of rapyer::client (used only when the server is a cluster node).
struct cluster_config {
  /// Redirections (MOVED, ASK) and retries (TRYAGAIN, CLUSTERDOWN, a node down) one request may
  /// follow before it fails with cluster_error; command_timeout bounds them too.
  int max_redirects = 16;
  /// The slot map is read again this often (and after MOVED or a lost connection); 0: never
  /// periodically.
  std::chrono::milliseconds refresh_interval{30000};
  /// A request of read-only commands (GET, HGETALL, …, no MULTI) goes to a replica of its slot's
  /// primary, in turn; it may read slightly stale data. Off: everything goes to primaries.
  bool read_from_replicas = false;
};

struct client_config {
  connection_config connection;
  /// Connections shared by all requests; each request goes to the least loaded one.
  std::size_t pool_size = 2;
  /// At most this many leased connections exist at once (in use or idle); lease() waits for one
  /// to come back when all are in use. A lease closed instead of reused frees its place too.
  std::size_t max_leases = 64;
  /// How long lease() waits when max_leases are in use, then throws pool_exhausted. Waiters are
  /// served in the order they came.
  std::chrono::milliseconds lease_wait_timeout{5000};
  /// An idle leased connection unused for this long is closed.
  std::chrono::milliseconds lease_idle_timeout{60000};
  /// Durability: when above 0, every request with a write (a command the server flags as a
  /// write, or a script call) is followed in the same round trip by `WAIT wait_replicas
  /// wait_timeout`; fewer replicas acknowledging in time throws replication_error. The WAIT holds
  /// its pipelined connection until the replicas answer, at most wait_timeout.
  int wait_replicas = 0;
  std::chrono::milliseconds wait_timeout{1000};
  /// Used when the server is a cluster node.
  cluster_config cluster{};

  /// connection_config::from_url's URLs, whose parameters may also set `pool_size` and
  /// `max_leases` (whole numbers, at least 1), `lease_wait_timeout`, `lease_idle_timeout` and
  /// `wait_timeout` (durations), `wait_replicas` (at least 0), and the cluster settings
  /// `cluster_max_redirects` (at least 0) and `cluster_refresh_interval` (a duration).
  static client_config from_url(std::string_view url);
};

}  // namespace rapyer

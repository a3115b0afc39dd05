// A private Redis Sentinel setup for tests: one primary, one replica and three sentinels, each an
// embedded_server (running default_server_executable()) on a free loopback port with persistence
// off.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rapyer/testing/embedded_server.hpp"

namespace rapyer::testing {

struct embedded_sentinel_options {
  std::string master_name = "mymaster";
  /// requirepass of the data nodes (also their masterauth, and the sentinels' auth-pass); empty: none.
  std::string password;
  /// requirepass of the sentinels; empty: none.
  std::string sentinel_password;
  /// TLS everywhere: data nodes and sentinels also listen for TLS and talk TLS to each other
  /// (`tls-replication yes`); the sentinels name the TLS ports, and url() is a rediss-sentinel://
  /// URL trusting tls->ca_file. The setup itself checks readiness on the plain ports.
  std::optional<embedded_server_tls> tls;
  /// How long a primary may stay silent before the sentinels consider it down.
  std::chrono::milliseconds down_after{500};
  /// Sentinel's failover-timeout: among others, how soon a failed failover may be retried.
  std::chrono::milliseconds failover_timeout{2000};
  /// How long construction waits for every sentinel to see the primary, the replica and the other
  /// sentinels, and for the replica to be in sync.
  std::chrono::milliseconds start_timeout{20000};
};

class embedded_sentinel {
 public:
  explicit embedded_sentinel(embedded_sentinel_options options = {});
  /// Stops the sentinels, then the data nodes.
  ~embedded_sentinel();
  embedded_sentinel(const embedded_sentinel&) = delete;
  embedded_sentinel& operator=(const embedded_sentinel&) = delete;

  /// redis-sentinel://[:<password>@]127.0.0.1:<s1>,127.0.0.1:<s2>,127.0.0.1:<s3>
  /// [?sentinel_password=<sentinel password>]#<master name> (passwords as given, not encoded), or
  /// rediss-sentinel://…?ssl_ca_certs=<CA file>… with options.tls.
  std::string url() const;
  const std::string& master_name() const noexcept { return options_.master_name; }
  /// Ports as clients reach them (the TLS ports with options.tls).
  /// The data node that is primary: the first one at the start, then the one wait_for_failover found.
  std::uint16_t primary_port() const noexcept;
  /// The other data node (the replica, until a failover).
  std::uint16_t replica_port() const noexcept;
  std::vector<std::uint16_t> sentinel_ports() const;

  /// SIGKILLs the primary, as a crash would.
  void kill_primary();
  /// SENTINEL FAILOVER on the first sentinel: promotes the replica without waiting for an outage.
  /// Throws connection_error with the sentinel's refusal.
  void failover();
  /// Waits until every sentinel names another node than primary_port() as the primary and that
  /// node's ROLE says master; returns its port, which primary_port() then reports. Throws
  /// timeout_error after `timeout`.
  std::uint16_t wait_for_failover(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  /// After wait_for_failover(): starts the killed primary again (empty: persistence is off), points
  /// it at the new primary as an operator would, and returns once it streams from it.
  void restart_old_primary();

 private:
  std::uint16_t reachable_port(const embedded_server& server) const noexcept;
  bool replica_streaming() const;
  void wait_until_ready();

  embedded_sentinel_options options_;
  std::vector<std::unique_ptr<embedded_server>> nodes_;  // data nodes: [0] starts as primary
  std::size_t primary_ = 0;                              // index in nodes_
  std::vector<std::unique_ptr<embedded_server>> sentinels_;
};

}  // namespace rapyer::testing

// A private redis-server child process on a free loopback port with persistence off: what the
// examples run against when REDIS_URL is unset, and what the tests run against. RAPYER_TEST_SERVER
// names another server executable for all of them (e.g. valkey-server).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rapyer::testing {

/// TLS for an embedded server: it then also listens on tls_port() with these PEM files.
struct embedded_server_tls {
  std::string cert_file;
  std::string key_file;
  /// CA that signed the clients' certificates (Redis needs one even when it does not ask for them).
  std::string ca_file;
  /// `tls-auth-clients yes`: refuse clients without a certificate signed by ca_file.
  bool require_client_certificate = false;
};

/// The server executable embedded servers run unless told otherwise: RAPYER_TEST_SERVER when set
/// (a path, or a name looked up in PATH, e.g. valkey-server), else redis-server.
std::string default_server_executable();

struct embedded_server_options {
  /// The server binary (looked up in PATH unless a path).
  std::string executable = default_server_executable();
  /// Modules to load at start (`--loadmodule <path>` each), e.g. a JSON module.
  std::vector<std::string> modules;
  /// Port to listen on; 0 picks a free loopback port.
  std::uint16_t port = 0;
  /// With port 0, pick one whose Redis Cluster bus port (port + 10000) is free as well.
  bool cluster_bus_port = false;
  /// Also listen on a Unix socket in a private temporary directory.
  bool unix_socket = false;
  /// Also listen for TLS on a second free loopback port (the plain port stays open).
  std::optional<embedded_server_tls> tls;
  /// Run as a Redis Sentinel (`--sentinel`) with a config file of its own in the private directory,
  /// which the sentinel rewrites with what it learns; its `--sentinel …` directives go in
  /// extra_arguments.
  bool sentinel = false;
  /// Extra `--name value` arguments, e.g. {"--requirepass", "secret"}.
  std::vector<std::string> extra_arguments;
  /// How long to wait for the server to answer PING.
  std::chrono::milliseconds start_timeout{10000};
};

/// A loopback port nobody listens on at the moment of the call (an ephemeral one, never 6379).
std::uint16_t free_loopback_port();

class embedded_server {
 public:
  explicit embedded_server(embedded_server_options options = {});
  /// Stops the server (SIGTERM, then SIGKILL if it lingers) and removes its directory.
  ~embedded_server();
  embedded_server(const embedded_server&) = delete;
  embedded_server& operator=(const embedded_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// The TLS port; 0 without options.tls.
  std::uint16_t tls_port() const noexcept { return tls_port_; }
  const std::string& unix_socket_path() const noexcept { return socket_path_; }
  /// The server's private working directory (its log, a cluster's nodes.conf); it survives
  /// kill(), stop() and start().
  const std::string& directory() const noexcept { return directory_; }
  /// The server's process id; -1 while it is not running.
  int pid() const noexcept { return pid_; }
  /// redis://127.0.0.1:<port>
  std::string url() const;
  /// rediss://127.0.0.1:<tls port>
  std::string tls_url() const;

  /// Kills the process at once (SIGKILL), as a crash would.
  void kill();
  /// Stops gracefully and waits for the process to exit.
  void stop();
  /// Starts again on the same port after kill() or stop().
  void start();
  /// SIGSTOP / SIGCONT: the server stays connected but answers nothing while paused.
  void pause();
  void resume();
  bool running() const noexcept { return pid_ > 0; }

  /// REDIS_URL when set; otherwise starts `server` and returns its URL. The examples' default.
  static std::string url_from_environment(std::unique_ptr<embedded_server>& server);

 private:
  std::string sentinel_config_path() const { return directory_ + "/sentinel.conf"; }
  void wait_until_ready();
  void signal_and_wait(int signal);

  embedded_server_options options_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  std::string directory_;
  std::string socket_path_;
  int pid_ = -1;
};

}  // namespace rapyer::testing

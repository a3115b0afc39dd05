#include "rapyer/testing/embedded_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <thread>

#include "process.hpp"
#include "rapyer/error.hpp"

namespace rapyer::testing {
namespace {

int loopback_socket(std::uint16_t port, bool listen_on_it, bool& ok) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ok = false;
  if (fd < 0) return fd;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto* raw = reinterpret_cast<sockaddr*>(&address);
  ok = listen_on_it ? ::bind(fd, raw, sizeof address) == 0 : ::connect(fd, raw, sizeof address) == 0;
  return fd;
}

bool port_is_free(std::uint16_t port) {
  bool ok = false;
  const int fd = loopback_socket(port, true, ok);
  if (fd >= 0) ::close(fd);
  return ok;
}

// A cluster node also listens on port + 10000, the cluster bus.
std::uint16_t free_loopback_port_with_cluster_bus() {
  constexpr std::uint16_t bus_offset = 10000;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::uint16_t port = free_loopback_port();
    if (port <= 65535 - bus_offset && port != 6379 && port_is_free(static_cast<std::uint16_t>(port + bus_offset)))
      return port;
  }
  throw connection_error("embedded_server: found no loopback port whose cluster bus port (+10000) is free");
}

// A blocking PING, so readiness does not depend on the library under test.
bool answers_ping(std::uint16_t port) {
  bool ok = false;
  const int fd = loopback_socket(port, false, ok);
  if (!ok) {
    if (fd >= 0) ::close(fd);
    return false;
  }
  constexpr std::string_view ping = "*1\r\n$4\r\nPING\r\n";
  bool pong = ::write(fd, ping.data(), ping.size()) == static_cast<ssize_t>(ping.size());
  char buffer[64] = {};
  pong = pong && ::read(fd, buffer, sizeof buffer - 1) > 0;
  ::close(fd);
  // "-LOADING" or "-NOAUTH" still prove the server is up and serving.
  return pong && (buffer[0] == '+' || buffer[0] == '-');
}

}  // namespace

std::string default_server_executable() {
  const char* executable = std::getenv("RAPYER_TEST_SERVER");
  return executable != nullptr && *executable != '\0' ? executable : "redis-server";
}

std::uint16_t free_loopback_port() {
  bool ok = false;
  const int fd = loopback_socket(0, true, ok);
  if (!ok) {
    if (fd >= 0) ::close(fd);
    throw connection_error("embedded_server: cannot bind a loopback port");
  }
  sockaddr_in address{};
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

embedded_server::embedded_server(embedded_server_options options) : options_(std::move(options)) {
  if (options_.port != 0) {
    port_ = options_.port;
  } else {
    port_ = options_.cluster_bus_port ? free_loopback_port_with_cluster_bus() : free_loopback_port();
  }
  if (options_.tls) {
    do {
      tls_port_ = free_loopback_port();
    } while (tls_port_ == port_);
  }
  char templ[] = "/tmp/rapyer-redis-XXXXXX";
  if (::mkdtemp(templ) == nullptr) throw connection_error("embedded_server: cannot create a temporary directory");
  directory_ = templ;
  if (options_.unix_socket) socket_path_ = directory_ + "/redis.sock";
  if (options_.sentinel) std::ofstream{sentinel_config_path()};  // an empty file the sentinel fills
  start();
}

embedded_server::~embedded_server() {
  if (running()) signal_and_wait(SIGTERM);
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

std::string embedded_server::url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
std::string embedded_server::tls_url() const { return "rediss://127.0.0.1:" + std::to_string(tls_port_); }

void embedded_server::start() {
  if (running()) return;
  std::vector<std::string> args = {options_.executable};
  if (options_.sentinel) args.insert(args.end(), {sentinel_config_path(), "--sentinel"});
  args.insert(args.end(), {"--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                           "--dir", directory_, "--daemonize", "no", "--loglevel", "warning", "--logfile",
                           directory_ + "/redis.log", "--enable-debug-command", "local"});
  if (!socket_path_.empty()) {
    args.insert(args.end(), {"--unixsocket", socket_path_, "--unixsocketperm", "700"});
  }
  if (const auto& tls = options_.tls) {
    args.insert(args.end(), {"--tls-port", std::to_string(tls_port_), "--tls-cert-file", tls->cert_file,
                             "--tls-key-file", tls->key_file, "--tls-ca-cert-file", tls->ca_file, "--tls-auth-clients",
                             tls->require_client_certificate ? "yes" : "no"});
  }
  for (const auto& module : options_.modules) args.insert(args.end(), {"--loadmodule", module});
  args.insert(args.end(), options_.extra_arguments.begin(), options_.extra_arguments.end());
  pid_ = detail::spawn_process(args);
  wait_until_ready();
}

void embedded_server::wait_until_ready() {
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw connection_error("embedded_server: " + options_.executable + " exited at start; see " + directory_ +
                             "/redis.log");
    }
    if (answers_ping(port_)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  signal_and_wait(SIGKILL);
  throw timeout_error("embedded_server: " + options_.executable + " did not answer within the start timeout");
}

void embedded_server::signal_and_wait(int signal) {
  if (!running()) return;
  ::kill(pid_, SIGCONT);  // a paused server cannot act on SIGTERM
  ::kill(pid_, signal);
  if (!detail::wait_for_exit(pid_, std::chrono::seconds(10))) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

void embedded_server::kill() { signal_and_wait(SIGKILL); }
void embedded_server::stop() { signal_and_wait(SIGTERM); }

void embedded_server::pause() {
  if (running()) ::kill(pid_, SIGSTOP);
}

void embedded_server::resume() {
  if (running()) ::kill(pid_, SIGCONT);
}

std::string embedded_server::url_from_environment(std::unique_ptr<embedded_server>& server) {
  if (const char* url = std::getenv("REDIS_URL"); url != nullptr && *url != '\0') return url;
  server = std::make_unique<embedded_server>();
  return server->url();
}

}  // namespace rapyer::testing

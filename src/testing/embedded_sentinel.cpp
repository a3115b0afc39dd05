#include "rapyer/testing/embedded_sentinel.hpp"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string_view>
#include <thread>

#include "rapyer/error.hpp"

namespace rapyer::testing {
namespace {

constexpr std::size_t sentinel_count = 3;
constexpr const char* quorum = "2";
constexpr std::chrono::milliseconds poll_interval{50};

struct reply_deleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

struct context_deleter {
  void operator()(redisContext* c) const { redisFree(c); }
};

// One command on a fresh blocking hiredis connection (after AUTH with a non-empty password), so that
// the setup does not depend on the library under test; nullptr when the node does not answer.
reply_ptr command(std::uint16_t port, const std::string& password, const std::vector<std::string>& args) {
  const timeval timeout{1, 0};
  const std::unique_ptr<redisContext, context_deleter> context(redisConnectWithTimeout("127.0.0.1", port, timeout));
  if (!context || context->err != 0 || redisSetTimeout(context.get(), timeout) != REDIS_OK) return nullptr;
  if (!password.empty()) {
    const reply_ptr auth(static_cast<redisReply*>(redisCommand(context.get(), "AUTH %s", password.c_str())));
    if (!auth || auth->type == REDIS_REPLY_ERROR) return nullptr;
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& arg : args) {
    argv.push_back(arg.c_str());
    lengths.push_back(arg.size());
  }
  return reply_ptr(static_cast<redisReply*>(
      redisCommandArgv(context.get(), static_cast<int>(argv.size()), argv.data(), lengths.data())));
}

std::string_view text(const redisReply* r) {
  if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)) return {};
  return {r->str, r->len};
}

// A field of a flat name/value list, as SENTINEL MASTER answers.
std::string_view field(const redisReply* r, std::string_view name) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY) return {};
  for (std::size_t i = 0; i + 1 < r->elements; i += 2) {
    if (text(r->element[i]) == name) return text(r->element[i + 1]);
  }
  return {};
}

// The first element of ROLE: "master", "slave" or "sentinel".
std::string_view role_of(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_ARRAY && r->elements > 0 ? text(r->element[0]) : std::string_view{};
}

// Sentinels announce and recognise each other by these: fixed ids let them know each other from
// the start instead of discovering each other through hello messages over a few seconds.
std::string sentinel_id(std::uint16_t port) {
  char id[41];
  std::snprintf(id, sizeof id, "%040u", static_cast<unsigned>(port));
  return id;
}

std::vector<std::uint16_t> distinct_free_ports(std::size_t count) {
  std::vector<std::uint16_t> ports;
  while (ports.size() < count) {
    const auto port = free_loopback_port();
    if (std::find(ports.begin(), ports.end(), port) == ports.end()) ports.push_back(port);
  }
  return ports;
}

}  // namespace

embedded_sentinel::embedded_sentinel(embedded_sentinel_options options) : options_(std::move(options)) {
  // Either node may serve a full sync after a failover: at once, not after Redis's 5 s default delay.
  embedded_server_options data_node;
  data_node.tls = options_.tls;
  data_node.extra_arguments = {"--repl-diskless-sync-delay", "0"};
  if (options_.tls) data_node.extra_arguments.insert(data_node.extra_arguments.end(), {"--tls-replication", "yes"});
  if (!options_.password.empty()) {
    data_node.extra_arguments.insert(data_node.extra_arguments.end(),
                                     {"--requirepass", options_.password, "--masterauth", options_.password});
  }
  nodes_.push_back(std::make_unique<embedded_server>(data_node));
  const std::string primary_port = std::to_string(reachable_port(*nodes_[0]));
  data_node.extra_arguments.insert(data_node.extra_arguments.end(), {"--replicaof", "127.0.0.1", primary_port});
  nodes_.push_back(std::make_unique<embedded_server>(data_node));
  const auto ports = distinct_free_ports(sentinel_count);
  const std::string& name = options_.master_name;
  for (const auto port : ports) {
    embedded_server_options sentinel;
    sentinel.port = port;
    sentinel.sentinel = true;
    sentinel.tls = options_.tls;
    sentinel.extra_arguments = {"--sentinel",
                                "myid",
                                sentinel_id(port),
                                "--sentinel",
                                "monitor",
                                name,
                                "127.0.0.1",
                                primary_port,
                                quorum,
                                "--sentinel",
                                "down-after-milliseconds",
                                name,
                                std::to_string(options_.down_after.count()),
                                "--sentinel",
                                "failover-timeout",
                                name,
                                std::to_string(options_.failover_timeout.count()),
                                "--sentinel",
                                "known-replica",
                                name,
                                "127.0.0.1",
                                std::to_string(reachable_port(*nodes_[1]))};
    if (!options_.password.empty()) {
      sentinel.extra_arguments.insert(sentinel.extra_arguments.end(),
                                      {"--sentinel", "auth-pass", name, options_.password});
    }
    if (!options_.sentinel_password.empty()) {
      // Sentinels also use it to authenticate with each other.
      sentinel.extra_arguments.insert(sentinel.extra_arguments.end(), {"--requirepass", options_.sentinel_password});
    }
    if (options_.tls) {
      sentinel.extra_arguments.insert(sentinel.extra_arguments.end(), {"--tls-replication", "yes"});
    }
    // Their TLS ports are only picked when they start: with TLS, sentinels find each other through
    // hello messages, in about two seconds.
    for (const auto other : ports) {
      if (other == port || options_.tls) continue;
      sentinel.extra_arguments.insert(
          sentinel.extra_arguments.end(),
          {"--sentinel", "known-sentinel", name, "127.0.0.1", std::to_string(other), sentinel_id(other)});
    }
    sentinels_.push_back(std::make_unique<embedded_server>(sentinel));
  }
  wait_until_ready();
}

embedded_sentinel::~embedded_sentinel() {
  sentinels_.clear();  // first, so that they do not fail over while the data nodes stop
  nodes_.clear();
}

// After its initial sync a replica receives the primary's writes only once it has acknowledged
// the sync, up to a second later: until then a write acknowledged by the primary is not on its way
// to the replica. A PUBLISH goes down the replication stream without touching the data.
bool embedded_sentinel::replica_streaming() const {
  (void)command(nodes_[primary_]->port(), options_.password, {"PUBLISH", "embedded_sentinel:replication_probe", "1"});
  const auto info = command(nodes_[1 - primary_]->port(), options_.password, {"INFO", "replication"});
  const std::string_view lines = text(info.get());
  constexpr std::string_view offset_field = "\r\nslave_repl_offset:";
  const auto at = lines.find(offset_field);
  if (at == std::string_view::npos) return false;
  const auto offset = lines.substr(at + offset_field.size());
  return !offset.starts_with("0\r") && !offset.starts_with("-");
}

void embedded_sentinel::wait_until_ready() {
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  const auto ready = [&] {
    if (!replica_streaming()) return false;
    return std::all_of(sentinels_.begin(), sentinels_.end(), [&](const auto& sentinel) {
      const auto master =
          command(sentinel->port(), options_.sentinel_password, {"SENTINEL", "MASTER", options_.master_name});
      return field(master.get(), "flags") == "master" && field(master.get(), "num-slaves") == "1" &&
             field(master.get(), "num-other-sentinels") == std::to_string(sentinel_count - 1);
    });
  };
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw timeout_error(
          "embedded_sentinel: the sentinels did not see the primary, the replica and each other "
          "within the start timeout");
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

std::string embedded_sentinel::url() const {
  std::string url = options_.tls ? "rediss-sentinel://" : "redis-sentinel://";
  if (!options_.password.empty()) url += ":" + options_.password + "@";
  std::string hosts;
  for (const auto port : sentinel_ports())
    hosts += (hosts.empty() ? "127.0.0.1:" : ",127.0.0.1:") + std::to_string(port);
  url += hosts;
  std::vector<std::string> parameters;
  if (!options_.sentinel_password.empty()) parameters.push_back("sentinel_password=" + options_.sentinel_password);
  if (options_.tls) parameters.push_back("ssl_ca_certs=" + options_.tls->ca_file);
  for (const auto& parameter : parameters) url += (&parameter == &parameters.front() ? "?" : "&") + parameter;
  return url + "#" + options_.master_name;
}

std::uint16_t embedded_sentinel::reachable_port(const embedded_server& server) const noexcept {
  return options_.tls ? server.tls_port() : server.port();
}

std::uint16_t embedded_sentinel::primary_port() const noexcept { return reachable_port(*nodes_[primary_]); }
std::uint16_t embedded_sentinel::replica_port() const noexcept { return reachable_port(*nodes_[1 - primary_]); }

std::vector<std::uint16_t> embedded_sentinel::sentinel_ports() const {
  std::vector<std::uint16_t> ports;
  for (const auto& sentinel : sentinels_) ports.push_back(reachable_port(*sentinel));
  return ports;
}

void embedded_sentinel::kill_primary() { nodes_[primary_]->kill(); }

void embedded_sentinel::failover() {
  const auto answer =
      command(sentinels_.front()->port(), options_.sentinel_password, {"SENTINEL", "FAILOVER", options_.master_name});
  if (text(answer.get()) != "OK") {
    throw connection_error("embedded_sentinel: SENTINEL FAILOVER refused: " +
                           std::string(answer ? text(answer.get()) : "no answer"));
  }
}

void embedded_sentinel::restart_old_primary() {
  embedded_server& old_primary = *nodes_[1 - primary_];
  old_primary.start();
  // The sentinels would convert it themselves, but only after their 10 s INFO period plus 8 s of
  // it reporting itself a primary: longer than a test should wait.
  const auto answer =
      command(old_primary.port(), options_.password, {"REPLICAOF", "127.0.0.1", std::to_string(primary_port())});
  if (text(answer.get()) != "OK") {
    throw connection_error("embedded_sentinel: REPLICAOF refused by the restarted old primary: " +
                           std::string(answer ? text(answer.get()) : "no answer"));
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (!replica_streaming()) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw timeout_error("embedded_sentinel: the restarted old primary did not become a streaming replica within " +
                          std::to_string(options_.start_timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

std::uint16_t embedded_sentinel::wait_for_failover(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string old_port = std::to_string(primary_port());
  // The port every sentinel names as the primary, when they agree on one.
  const auto agreed_primary = [&]() -> std::optional<std::string> {
    std::optional<std::string> agreed;
    for (const auto& sentinel : sentinels_) {
      const auto address = command(sentinel->port(), options_.sentinel_password,
                                   {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", options_.master_name});
      if (!address || address->type != REDIS_REPLY_ARRAY || address->elements != 2) return std::nullopt;
      const std::string port(text(address->element[1]));
      if (agreed && *agreed != port) return std::nullopt;
      agreed = port;
    }
    return agreed;
  };
  while (std::chrono::steady_clock::now() < deadline) {
    const auto port = agreed_primary();
    if (port && *port != old_port) {
      const std::size_t promoted = 1 - primary_;
      if (std::to_string(reachable_port(*nodes_[promoted])) == *port &&
          role_of(command(nodes_[promoted]->port(), options_.password, {"ROLE"}).get()) == "master") {
        primary_ = promoted;
        return primary_port();
      }
    }
    std::this_thread::sleep_for(poll_interval);
  }
  throw timeout_error("embedded_sentinel: no failover of " + options_.master_name + " away from port " + old_port +
                      " within " + std::to_string(timeout.count()) + " ms");
}

}  // namespace rapyer::testing

#include "rapyer/testing/embedded_cluster.hpp"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string_view>
#include <thread>
#include <utility>

#include "process.hpp"
#include "rapyer/error.hpp"

namespace rapyer::testing {
namespace {

constexpr std::size_t slot_count = 16384;
constexpr std::chrono::milliseconds poll_interval{10};
// Keys moved per MIGRATE while resharding, as redis-cli's default pipeline.
constexpr std::string_view migrate_batch = "100";
constexpr std::string_view migrate_timeout_ms = "5000";

struct reply_deleter {
  void operator()(redisReply* reply) const { ::freeReplyObject(reply); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

struct context_deleter {
  void operator()(redisContext* context) const { ::redisFree(context); }
};

std::string node_name(std::size_t node, std::uint16_t port) {
  return "embedded_cluster: node " + std::to_string(node) + " (127.0.0.1:" + std::to_string(port) + ")";
}

// One blocking connection to one node: the cluster's own view of its state, independent of the
// library under test.
class node_connection {
 public:
  node_connection(std::size_t node, std::uint16_t port) : name_(node_name(node, port)) {
    // Longer than MIGRATE's own timeout, so a slow MIGRATE reports its own error.
    const timeval timeout{10, 0};
    context_.reset(::redisConnectWithTimeout("127.0.0.1", port, timeout));
    if (!context_ || context_->err != 0) {
      throw connection_error(name_ + ": cannot connect: " + (context_ ? context_->errstr : "out of memory"));
    }
    ::redisSetTimeout(context_.get(), timeout);
  }

  reply_ptr run(const std::vector<std::string>& argv) {
    std::vector<const char*> arguments;
    std::vector<std::size_t> lengths;
    for (const auto& argument : argv) {
      arguments.push_back(argument.data());
      lengths.push_back(argument.size());
    }
    reply_ptr reply(static_cast<redisReply*>(
        ::redisCommandArgv(context_.get(), static_cast<int>(argv.size()), arguments.data(), lengths.data())));
    if (!reply) throw connection_error(name_ + ": " + argv.at(0) + ": " + context_->errstr);
    if (reply->type == REDIS_REPLY_ERROR)
      throw server_error(name_ + ": " + argv.at(0), std::string(reply->str, reply->len));
    return reply;
  }

  std::string run_for_text(const std::vector<std::string>& argv) {
    const auto reply = run(argv);
    return std::string(reply->str, reply->len);
  }

 private:
  std::string name_;
  std::unique_ptr<redisContext, context_deleter> context_;
};

// ROLE: ["master", offset, replicas] or ["slave", host, port, link state, offset].
struct node_role {
  bool primary = false;
  bool in_sync = false;
};

node_role role_of(node_connection& connection) {
  const auto reply = connection.run({"ROLE"});
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2)
    throw protocol_error("embedded_cluster: unexpected ROLE reply");
  if (std::string_view(reply->element[0]->str) == "master") return {true, true};
  return {false, reply->elements >= 4 && std::string_view(reply->element[3]->str) == "connected"};
}

void render(const redisReply& reply, std::string& text) {
  switch (reply.type) {
    case REDIS_REPLY_INTEGER:
      text += std::to_string(reply.integer);
      break;
    case REDIS_REPLY_NIL:
      text += "(nil)";
      break;
    case REDIS_REPLY_ARRAY:
      for (std::size_t i = 0; i < reply.elements; ++i) {
        if (i > 0) text += '\n';
        render(*reply.element[i], text);
      }
      break;
    default:
      text.append(reply.str, reply.len);
  }
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t end = std::min(text.find(separator, begin), text.size());
    if (end > begin) parts.emplace_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return parts;
}

}  // namespace

// One line of CLUSTER NODES: <id> <ip:port@bus> <flags> <primary id or -> <ping> <pong> <epoch>
// <link> <slot or range>... (ranges in brackets are slots being migrated, which the owner keeps).
struct embedded_cluster::node_view {
  std::string id;
  std::vector<std::string> flags;
  std::string primary_id;
  std::vector<std::pair<std::size_t, std::size_t>> slot_ranges;

  explicit node_view(const std::string& line) {
    const auto fields = split(line, ' ');
    if (fields.size() < 8) throw protocol_error("embedded_cluster: unexpected CLUSTER NODES line: " + line);
    id = fields[0];
    flags = split(fields[2], ',');
    primary_id = fields[3];
    for (std::size_t i = 8; i < fields.size(); ++i) {
      if (fields[i].front() == '[') continue;
      const auto bounds = split(fields[i], '-');
      const std::size_t first = std::stoul(bounds.at(0));
      slot_ranges.emplace_back(first, bounds.size() > 1 ? std::stoul(bounds[1]) : first);
    }
  }

  bool has_flag(std::string_view flag) const { return std::find(flags.begin(), flags.end(), flag) != flags.end(); }
  bool primary() const { return has_flag("master"); }
  bool failing() const { return has_flag("fail") || has_flag("fail?"); }
  bool serves(std::size_t slot) const {
    return std::any_of(slot_ranges.begin(), slot_ranges.end(),
                       [&](const auto& range) { return range.first <= slot && slot <= range.second; });
  }
  std::size_t slots() const {
    std::size_t total = 0;
    for (const auto& [first, last] : slot_ranges) total += last - first + 1;
    return total;
  }
};

embedded_cluster::embedded_cluster(embedded_cluster_options options) : options_(std::move(options)) {
  if (options_.primaries < 3) throw usage_error("embedded_cluster: a cluster needs at least 3 primaries");
  embedded_server_options node_options;
  node_options.executable = options_.executable;
  node_options.cluster_bus_port = true;
  node_options.start_timeout = options_.start_timeout;
  node_options.extra_arguments = {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                                  "--cluster-node-timeout", std::to_string(options_.node_timeout.count()),
                                  // A disk-based sync streams writes to the replica right after the
                                  // snapshot; a diskless one holds them until the replica's first ACK,
                                  // up to a second, so a primary killed meanwhile would lose them.
                                  "--repl-diskless-sync", "no",
                                  // The sync's snapshot must not be loaded again by a restart.
                                  "--rdb-del-sync-files", "yes"};
  node_options.extra_arguments.insert(node_options.extra_arguments.end(), options_.extra_arguments.begin(),
                                      options_.extra_arguments.end());
  const std::size_t nodes = options_.primaries * (1 + options_.replicas_per_primary);
  for (std::size_t node = 0; node < nodes; ++node) nodes_.push_back(std::make_unique<embedded_server>(node_options));
  create_cluster();
  for (std::size_t node = 0; node < nodes; ++node) {
    ids_.push_back(node_connection(node, port(node)).run_for_text({"CLUSTER", "MYID"}));
  }
  wait_until_ok();
}

embedded_cluster::~embedded_cluster() = default;

void embedded_cluster::create_cluster() const {
  std::vector<std::string> arguments = {options_.cli, "--cluster", "create"};
  for (std::size_t node = 0; node < size(); ++node) arguments.push_back("127.0.0.1:" + std::to_string(port(node)));
  arguments.insert(arguments.end(),
                   {"--cluster-replicas", std::to_string(options_.replicas_per_primary), "--cluster-yes"});
  const std::string log = nodes_.front()->directory() + "/cluster-create.log";
  const int pid = detail::spawn_process(arguments, log);
  const auto status = detail::wait_for_exit(pid, options_.start_timeout);
  if (!status) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw timeout_error("embedded_cluster: " + options_.cli +
                        " --cluster create did not finish within the start timeout");
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    std::ifstream file(log);
    const std::string output((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    throw connection_error("embedded_cluster: " + options_.cli + " --cluster create failed:\n" + output);
  }
}

std::uint16_t embedded_cluster::port(std::size_t node) const {
  check_node(node);
  return nodes_[node]->port();
}

int embedded_cluster::pid(std::size_t node) const {
  check_node(node);
  return nodes_[node]->pid();
}

bool embedded_cluster::running(std::size_t node) const {
  check_node(node);
  return nodes_[node]->running();
}

std::string embedded_cluster::url() const {
  std::string seeds;
  for (const auto& node : nodes_)
    seeds += (seeds.empty() ? "redis://127.0.0.1:" : ",127.0.0.1:") + std::to_string(node->port());
  return seeds;
}

std::string embedded_cluster::node_url(std::size_t node) const {
  check_node(node);
  return nodes_[node]->url();
}

void embedded_cluster::check_node(std::size_t node) const {
  if (node >= nodes_.size()) {
    throw usage_error("embedded_cluster: no node " + std::to_string(node) + "; the cluster has " +
                      std::to_string(nodes_.size()));
  }
}

std::size_t embedded_cluster::node_of_id(const std::string& id) const {
  const auto found = std::find(ids_.begin(), ids_.end(), id);
  if (found == ids_.end()) throw error("embedded_cluster: unknown cluster node id " + id);
  return static_cast<std::size_t>(found - ids_.begin());
}

const embedded_cluster::node_view& embedded_cluster::view_of(const std::vector<node_view>& views,
                                                             std::size_t node) const {
  const auto found = std::find_if(views.begin(), views.end(), [&](const node_view& v) { return v.id == ids_[node]; });
  if (found == views.end()) throw error(node_name(node, port(node)) + ": unknown to the cluster");
  return *found;
}

std::size_t embedded_cluster::any_running_node() const {
  for (std::size_t node = 0; node < nodes_.size(); ++node) {
    if (nodes_[node]->running()) return node;
  }
  throw connection_error("embedded_cluster: no node is running");
}

std::vector<embedded_cluster::node_view> embedded_cluster::cluster_nodes(std::size_t asked) const {
  const std::string text = node_connection(asked, port(asked)).run_for_text({"CLUSTER", "NODES"});
  std::vector<node_view> views;
  for (const auto& line : split(text, '\n')) views.emplace_back(line);
  std::sort(views.begin(), views.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return views;
}

std::optional<std::vector<embedded_cluster::node_view>> embedded_cluster::agreed_view(std::string& why_not) const {
  std::optional<std::string> agreed_signature;
  std::size_t agreed_by = 0;
  std::vector<node_view> agreed;
  for (std::size_t node = 0; node < nodes_.size(); ++node) {
    if (!nodes_[node]->running()) continue;
    const std::string name = node_name(node, port(node));
    node_connection connection(node, port(node));
    const std::string info = connection.run_for_text({"CLUSTER", "INFO"});
    if (info.find("cluster_state:ok") == std::string::npos ||
        info.find("cluster_slots_assigned:" + std::to_string(slot_count)) == std::string::npos) {
      why_not = name + ": cluster_state is not ok or not every slot is assigned";
      return std::nullopt;
    }
    // A replica is ready to take over only once it is in sync with its primary.
    if (!role_of(connection).in_sync) {
      why_not = name + ": replica not in sync with its primary";
      return std::nullopt;
    }
    auto views = cluster_nodes(node);
    std::string signature;
    for (const auto& view : views) {
      if (view.has_flag("handshake") || std::find(ids_.begin(), ids_.end(), view.id) == ids_.end()) {
        why_not = name + ": still meeting node " + view.id;
        return std::nullopt;
      }
      signature += view.id;
      if (nodes_[node_of_id(view.id)]->running()) {
        if (view.failing()) {
          why_not = name + ": sees node " + std::to_string(node_of_id(view.id)) + " as failing";
          return std::nullopt;
        }
        signature += view.primary() ? " primary" : " replica of " + view.primary_id;
      }
      for (const auto& [first, last] : view.slot_ranges) {
        signature += " " + std::to_string(first) + "-" + std::to_string(last);
      }
      signature += '\n';
    }
    if (agreed_signature && *agreed_signature != signature) {
      why_not = name + ": sees other slots or roles than node " + std::to_string(agreed_by);
      return std::nullopt;
    }
    agreed_signature = std::move(signature);
    agreed_by = node;
    agreed = std::move(views);
  }
  if (!agreed_signature) {
    why_not = "no node is running";
    return std::nullopt;
  }
  return agreed;
}

template <class Predicate>
void embedded_cluster::wait_until(const std::string& what, Predicate done) const {
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  std::string why_not;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (done(why_not)) return;
    } catch (const connection_error& e) {  // a node still starting or just killed
      why_not = e.what();
    } catch (const server_error& e) {
      why_not = e.what();
    }
    std::this_thread::sleep_for(poll_interval);
  }
  throw timeout_error("embedded_cluster: " + what + " did not happen within " +
                      std::to_string(options_.start_timeout.count()) + " ms; last: " + why_not);
}

void embedded_cluster::wait_until_ok() {
  wait_until("cluster_state:ok on every node", [&](std::string& why_not) { return agreed_view(why_not).has_value(); });
}

std::vector<std::size_t> embedded_cluster::primaries() const {
  std::vector<std::size_t> found;
  for (std::size_t node = 0; node < nodes_.size(); ++node) {
    if (!nodes_[node]->running()) continue;
    node_connection connection(node, port(node));
    if (role_of(connection).primary) found.push_back(node);
  }
  return found;
}

std::size_t embedded_cluster::primary_of_slot(std::uint16_t slot) const {
  for (const auto& view : cluster_nodes(any_running_node())) {
    if (view.serves(slot)) return node_of_id(view.id);
  }
  throw error("embedded_cluster: no node serves slot " + std::to_string(slot));
}

std::optional<std::size_t> embedded_cluster::replica_of(std::size_t primary) const {
  check_node(primary);
  std::optional<std::size_t> replica;
  for (const auto& view : cluster_nodes(any_running_node())) {
    if (view.primary_id != ids_[primary] || view.failing()) continue;
    const std::size_t node = node_of_id(view.id);
    if (nodes_[node]->running() && (!replica || node < *replica)) replica = node;
  }
  return replica;
}

std::vector<std::size_t> embedded_cluster::slot_counts() const {
  std::vector<std::size_t> counts(nodes_.size(), 0);
  for (const auto& view : cluster_nodes(any_running_node())) counts[node_of_id(view.id)] += view.slots();
  return counts;
}

void embedded_cluster::kill(std::size_t node) {
  check_node(node);
  nodes_[node]->kill();
}

void embedded_cluster::restart(std::size_t node) {
  check_node(node);
  nodes_[node]->start();
  wait_until("node " + std::to_string(node) + " rejoining",
             [&](std::string& why_not) { return agreed_view(why_not).has_value(); });
}

void embedded_cluster::failover(std::size_t replica) {
  check_node(replica);
  node_connection(replica, port(replica)).run({"CLUSTER", "FAILOVER"});
  wait_until("the failover to node " + std::to_string(replica), [&](std::string& why_not) {
    const auto view = agreed_view(why_not);
    if (!view) return false;
    if (!view_of(*view, replica).primary()) {
      why_not = node_name(replica, port(replica)) + ": not a primary yet";
      return false;
    }
    return true;
  });
}

void embedded_cluster::wait_for_failover_of(std::size_t dead_primary) {
  check_node(dead_primary);
  if (nodes_[dead_primary]->running()) {
    throw usage_error("embedded_cluster: wait_for_failover_of(" + std::to_string(dead_primary) +
                      "): the node is running; kill() it first");
  }
  wait_until("the failover of node " + std::to_string(dead_primary), [&](std::string& why_not) {
    const auto view = agreed_view(why_not);
    if (!view) return false;
    if (!view_of(*view, dead_primary).slot_ranges.empty()) {
      why_not = node_name(dead_primary, port(dead_primary)) + ": still serves its slots, no replica took over";
      return false;
    }
    return true;
  });
}

void embedded_cluster::migrate_slots(std::size_t from, std::size_t to, std::size_t count) {
  check_node(from);
  check_node(to);
  if (from == to) throw usage_error("embedded_cluster: migrate_slots from node " + std::to_string(from) + " to itself");
  const auto views = cluster_nodes(from);
  std::vector<std::size_t> slots;
  std::vector<std::size_t> other_primaries;
  for (const auto& view : views) {
    const std::size_t node = node_of_id(view.id);
    if (node == from) {
      for (const auto& [first, last] : view.slot_ranges) {
        for (std::size_t slot = first; slot <= last && slots.size() < count; ++slot) slots.push_back(slot);
      }
    } else if (node != to && view.primary() && !view.failing()) {
      other_primaries.push_back(node);
    }
  }
  if (slots.size() < count) {
    throw usage_error(node_name(from, port(from)) + " serves " + std::to_string(slots.size()) + " slots, not " +
                      std::to_string(count));
  }
  node_connection source(from, port(from));
  node_connection target(to, port(to));
  std::vector<node_connection> others;
  others.reserve(other_primaries.size());
  for (const std::size_t node : other_primaries) others.emplace_back(node, port(node));
  for (const std::size_t slot : slots) {
    const std::string slot_text = std::to_string(slot);
    target.run({"CLUSTER", "SETSLOT", slot_text, "IMPORTING", ids_[from]});
    source.run({"CLUSTER", "SETSLOT", slot_text, "MIGRATING", ids_[to]});
    // While MIGRATING, the source creates no keys in the slot (it answers ASK), so it empties.
    for (;;) {
      const auto keys = source.run({"CLUSTER", "GETKEYSINSLOT", slot_text, std::string(migrate_batch)});
      if (keys->elements == 0) break;
      std::vector<std::string> migrate = {"MIGRATE", "127.0.0.1", std::to_string(port(to)),
                                          "",        "0",         std::string(migrate_timeout_ms),
                                          "REPLACE", "KEYS"};
      for (std::size_t i = 0; i < keys->elements; ++i)
        migrate.emplace_back(keys->element[i]->str, keys->element[i]->len);
      source.run(migrate);
    }
    // The target first, so that it never redirects back to the source.
    const std::vector<std::string> assign = {"CLUSTER", "SETSLOT", slot_text, "NODE", ids_[to]};
    target.run(assign);
    source.run(assign);
    for (auto& other : others) other.run(assign);
  }
  wait_until_ok();
}

std::string embedded_cluster::command(std::size_t node, const std::vector<std::string>& argv) const {
  if (argv.empty()) throw usage_error("embedded_cluster: command() without a command");
  const auto reply = node_connection(node, port(node)).run(argv);
  std::string text;
  render(*reply, text);
  return text;
}

}  // namespace rapyer::testing

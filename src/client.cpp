#include "rapyer/client.hpp"

#include <utility>

#include "rapyer/detail/cluster/router.hpp"
#include "rapyer/detail/node_pool.hpp"
#include "rapyer/detail/sentinel_watch.hpp"
#include "rapyer/error.hpp"

namespace rapyer {
namespace detail {

struct client_state {
  client_state(boost::asio::any_io_executor ex, client_config cfg)
      : executor(std::move(ex)), config(std::move(cfg)), standalone(std::make_shared<node_pool>(executor, config)) {}

  boost::asio::any_io_executor executor;
  client_config config;
  // The server of a standalone deployment; on a cluster, the node connect() reached first.
  std::shared_ptr<node_pool> standalone;
  std::shared_ptr<cluster::router> cluster;       // set by connect() on a cluster
  std::unique_ptr<sentinel_watch> primary_watch;  // Sentinel: moves the connections on +switch-master
};

}  // namespace detail

client::client(executor_type executor, client_config config) {
  if (config.pool_size == 0) throw config_error("client pool_size must be at least 1");
  if (config.max_leases == 0) throw config_error("client max_leases must be at least 1");
  state_ = std::make_shared<detail::client_state>(std::move(executor), std::move(config));
  if (state_->config.connection.sentinel.enabled()) {
    state_->primary_watch = std::make_unique<detail::sentinel_watch>(
        state_->executor, state_->config.connection, [weak = std::weak_ptr(state_)](const host_port& primary) {
          if (const auto state = weak.lock()) state->standalone->follow_primary(primary);
        });
  }
}

awaitable<void> client::connect() {
  auto state = state_;
  // With a seed list (redis://h1:p1,h2:p2), the first node that answers.
  const auto& seeds = state->config.connection.seeds;
  for (std::size_t next = 0;; ++next) {
    std::exception_ptr failure;
    try {
      co_await state->standalone->connect();
    } catch (const connection_error&) {
      if (next >= seeds.size()) throw;
      failure = std::current_exception();
    }
    if (!failure) break;
    client_config seed = state->config;
    seed.connection.host = seeds[next].host;
    seed.connection.port = seeds[next].port;
    state->standalone->close();
    state->standalone = std::make_shared<detail::node_pool>(state->executor, std::move(seed));
  }
  if (state->cluster) co_return;
  state->cluster = co_await detail::cluster::router::discover(state->executor, state->config, state->standalone);
  if (!state->cluster && state->config.wait_replicas > 0) {
    request command_request;  // named: GCC 12 mishandles temporaries inside co_await expressions
    command_request.push("COMMAND");
    const reply table = co_await state->standalone->execute_one(std::move(command_request));
    state->standalone->set_command_table(std::make_shared<const detail::cluster::command_table>(
        detail::cluster::command_table::from_command_reply(table)));
  }
}

awaitable<std::vector<reply>> client::execute(request req) {
  if (state_->cluster) return detail::cluster::router::execute(state_->cluster, std::move(req));
  return state_->standalone->execute(std::move(req));
}

awaitable<reply> client::execute_one(request req) {
  if (!state_->cluster) return state_->standalone->execute_one(std::move(req));
  std::string command = req.command_name(0);
  return detail::first_reply(detail::cluster::router::execute(state_->cluster, std::move(req)), std::move(command));
}

awaitable<connection_lease> client::lease() { return detail::node_pool::lease(state_->standalone); }

awaitable<connection_lease> client::lease(std::string key) { return lease_for_key(state_, std::move(key)); }

awaitable<connection_lease> client::lease_for_key(std::shared_ptr<detail::client_state> state, std::string key) {
  if (!state->cluster) co_return co_await detail::node_pool::lease(state->standalone);
  auto pool = co_await detail::cluster::router::pool_of_key(state->cluster, std::move(key));
  co_return co_await detail::node_pool::lease(std::move(pool));
}

awaitable<std::vector<server_node>> client::primaries() { return primaries_of(state_); }

awaitable<std::vector<server_node>> client::primaries_of(std::shared_ptr<detail::client_state> state) {
  std::vector<server_node> nodes;
  if (!state->cluster) {
    nodes.push_back(server_node(state->standalone));
    co_return nodes;
  }
  for (auto& pool : co_await detail::cluster::router::primary_pools(state->cluster)) {
    nodes.push_back(server_node(std::move(pool)));
  }
  co_return nodes;
}

bool client::is_cluster() const noexcept { return state_->cluster != nullptr; }

connection_stats client::stats() const noexcept {
  return state_->cluster ? state_->cluster->stats() : state_->standalone->stats();
}

namespace {

awaitable<subscription> open_subscription(const detail::client_state& state, const subscription_options& options) {
  if (state.standalone->closed()) {
    throw connection_error("subscribe: the client of " + state.config.connection.endpoint() + " is closed");
  }
  return subscription::connect(state.executor, state.standalone->config().connection, options);
}

}  // namespace

awaitable<subscription> client::subscribe(std::vector<std::string> channels, subscription_options options) {
  auto sub = co_await open_subscription(*state_, options);
  co_await sub.subscribe(std::move(channels));
  co_return sub;
}

awaitable<subscription> client::psubscribe(std::vector<std::string> patterns, subscription_options options) {
  auto sub = co_await open_subscription(*state_, options);
  co_await sub.psubscribe(std::move(patterns));
  co_return sub;
}

void client::close() {
  if (state_->cluster) state_->cluster->close();
  state_->standalone->close();
  state_->primary_watch.reset();
}

const client_config& client::config() const noexcept { return state_->config; }
client::executor_type client::get_executor() const noexcept { return state_->executor; }
const std::vector<std::unique_ptr<connection>>& client::connections() const noexcept {
  return state_->standalone->connections();
}
std::size_t client::leases_in_use() const noexcept { return state_->standalone->leases_in_use(); }
std::size_t client::idle_leases() const noexcept { return state_->standalone->idle_leases(); }

awaitable<std::vector<reply>> server_node::execute(request req) { return pool_->execute(std::move(req)); }
awaitable<reply> server_node::execute_one(request req) { return pool_->execute_one(std::move(req)); }
std::string server_node::endpoint() const { return pool_->config().connection.endpoint(); }

connection_lease::connection_lease(const std::shared_ptr<detail::node_pool>& owner, std::unique_ptr<connection> conn)
    : owner_(owner), connection_(std::move(conn)) {}

connection_lease::connection_lease(connection_lease&& other) noexcept
    : owner_(std::move(other.owner_)),
      connection_(std::move(other.connection_)),
      in_transaction_(other.in_transaction_) {}

connection_lease& connection_lease::operator=(connection_lease&& other) noexcept {
  if (this != &other) {
    give_back();
    owner_ = std::move(other.owner_);
    connection_ = std::move(other.connection_);
    in_transaction_ = other.in_transaction_;
  }
  return *this;
}

connection_lease::~connection_lease() { give_back(); }

void connection_lease::give_back() noexcept {
  if (!connection_) return;
  const bool reusable = !in_transaction_ && connection_->load() == 0 && connection_->is_connected();
  if (auto owner = owner_.lock()) {
    owner->release(std::move(connection_), reusable);
  } else {
    connection_->close();
    connection_.reset();
  }
}

void connection_lease::track(const request& req, bool succeeded) {
  for (std::size_t i = 0; i < req.size(); ++i) {
    const std::string& name = req.command_name(i);
    const auto is = [&](std::string_view command) {
      return std::equal(name.begin(), name.end(), command.begin(), command.end(),
                        [](char a, char b) { return std::toupper(static_cast<unsigned char>(a)) == b; });
    };
    if (is("WATCH") || is("MULTI")) in_transaction_ = true;
    if (succeeded && (is("EXEC") || is("DISCARD") || is("UNWATCH"))) in_transaction_ = false;
  }
}

awaitable<std::vector<reply>> connection_lease::execute(request req) {
  track(req, false);
  const auto owner = owner_.lock();
  const bool waits = owner && owner->append_replica_wait(req);
  auto replies = co_await connection_->execute(req);
  track(req, true);
  if (waits) owner->check_replica_wait(replies);
  co_return replies;
}

awaitable<reply> connection_lease::execute_one(request req) {
  std::string command = req.command_name(0);
  return detail::first_reply(execute(std::move(req)), std::move(command));
}

}  // namespace rapyer

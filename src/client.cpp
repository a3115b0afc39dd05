#include "rapyer/client.hpp"

#include <algorithm>

#include "rapyer/error.hpp"

namespace rapyer {
namespace detail {

struct client_state {
  boost::asio::any_io_executor executor;
  client_config config;
  std::vector<std::unique_ptr<connection>> pool;
  std::vector<std::unique_ptr<connection>> idle_leases;
  std::size_t next = 0;  // where the search for the least loaded connection starts, rotating ties
};

}  // namespace detail

client::client(executor_type executor, client_config config) : state_(std::make_shared<detail::client_state>()) {
  if (config.pool_size == 0) throw config_error("client pool_size must be at least 1");
  state_->executor = std::move(executor);
  state_->config = std::move(config);
  for (std::size_t i = 0; i < state_->config.pool_size; ++i) {
    state_->pool.push_back(std::make_unique<connection>(state_->executor, state_->config.connection));
  }
}

awaitable<void> client::connect() {
  auto state = state_;
  for (auto& conn : state->pool) co_await conn->connect();
}

connection& client::least_loaded() {
  auto& pool = state_->pool;
  const std::size_t start = state_->next++ % pool.size();
  connection* best = nullptr;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    connection& candidate = *pool[(start + i) % pool.size()];
    if (!candidate.is_connected()) continue;
    if (best == nullptr || candidate.load() < best->load()) best = &candidate;
    if (best->load() == 0) break;
  }
  // With none connected, any one answers at once with its connection_error.
  return best != nullptr ? *best : *pool[start];
}

awaitable<std::vector<reply>> client::execute(request req) { return least_loaded().execute(std::move(req)); }

awaitable<reply> client::execute_one(request req) { return least_loaded().execute_one(std::move(req)); }

awaitable<connection_lease> client::lease() {
  auto state = state_;
  while (!state->idle_leases.empty()) {
    std::unique_ptr<connection> conn = std::move(state->idle_leases.back());
    state->idle_leases.pop_back();
    // NOLINTNEXTLINE(clang-analyzer-cplusplus.Move): co_return leaves the loop; the analyzer misses it
    if (conn->is_connected()) co_return connection_lease(state, std::move(conn));
  }
  auto conn = std::make_unique<connection>(state->executor, state->config.connection);
  co_await conn->connect();
  co_return connection_lease(state, std::move(conn));
}

void client::close() {
  for (auto& conn : state_->pool) conn->close();
  for (auto& conn : state_->idle_leases) conn->close();
  state_->idle_leases.clear();
}

const client_config& client::config() const noexcept { return state_->config; }
client::executor_type client::get_executor() const noexcept { return state_->executor; }
const std::vector<std::unique_ptr<connection>>& client::connections() const noexcept { return state_->pool; }

connection_lease::connection_lease(const std::shared_ptr<detail::client_state>& owner, std::unique_ptr<connection> conn)
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
  auto owner = owner_.lock();
  if (owner && !in_transaction_ && connection_->load() == 0 && connection_->is_connected()) {
    owner->idle_leases.push_back(std::move(connection_));
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
  auto replies = co_await connection_->execute(req);
  track(req, true);
  co_return replies;
}

awaitable<reply> connection_lease::execute_one(request req) {
  track(req, false);
  auto result = co_await connection_->execute_one(req);
  track(req, true);
  co_return result;
}

}  // namespace rapyer

#include "rapyer/client.hpp"

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <utility>

#include "rapyer/detail/blocking_command.hpp"
#include "rapyer/detail/sentinel_watch.hpp"
#include "rapyer/error.hpp"

namespace rapyer {
namespace detail {

// One lease() call waiting for a leased connection to come back. A connection given back while
// it waits is handed to it directly, so that waiters are served in order and a later lease()
// cannot take the place first.
struct lease_waiter {
  explicit lease_waiter(const boost::asio::any_io_executor& executor) : timer(executor) {}

  boost::asio::steady_timer timer;  // expires at the wait's deadline; cancelled to wake it early
  std::unique_ptr<connection> handed;
  bool slot_granted = false;  // a lease closed while waiting: its place is this waiter's to open
};

struct idle_lease {
  std::unique_ptr<connection> conn;
  std::chrono::steady_clock::time_point since;
};

struct client_state : std::enable_shared_from_this<client_state> {
  client_state(boost::asio::any_io_executor ex, client_config cfg)
      : executor(std::move(ex)), config(std::move(cfg)), trim_timer(executor) {}

  // A clean idle connection, counted as in use; dead idle ones are dropped on the way.
  std::unique_ptr<connection> take_idle();
  // A leased connection comes back (nullptr: the lease failed to connect). A reusable one goes
  // to the first waiter or becomes idle; otherwise it is closed and its place passes to the first
  // waiter or is freed.
  void release(std::unique_ptr<connection> conn, bool reusable) noexcept;
  // Closes idle connections unused for lease_idle_timeout; runs while any are idle.
  void schedule_trim() noexcept;
  void trim_idle() noexcept;
  [[noreturn]] void exhausted();

  boost::asio::any_io_executor executor;
  client_config config;
  std::vector<std::unique_ptr<connection>> pool;
  std::size_t next = 0;                  // where the search for the least loaded connection starts, rotating ties
  std::vector<idle_lease> idle;          // oldest first
  std::size_t leases_in_use = 0;         // leased connections outside `idle`, connecting ones too
  std::deque<lease_waiter*> waiters;     // first come, first served
  boost::asio::steady_timer trim_timer;  // set while `idle` is not empty
  bool trim_scheduled = false;
  bool closed = false;
  std::unique_ptr<sentinel_watch> primary_watch;  // Sentinel: moves the connections on +switch-master
};

std::unique_ptr<connection> client_state::take_idle() {
  while (!idle.empty()) {
    std::unique_ptr<connection> conn = std::move(idle.back().conn);
    idle.pop_back();
    if (conn->is_connected()) {
      ++leases_in_use;
      return conn;
    }
    conn->close();
  }
  return nullptr;
}

void client_state::release(std::unique_ptr<connection> conn, bool reusable) noexcept {
  if (conn && (!reusable || closed)) {
    conn->close();
    conn.reset();
  }
  if (!closed && !waiters.empty()) {
    lease_waiter* waiter = waiters.front();
    waiters.pop_front();
    waiter->handed = std::move(conn);
    waiter->slot_granted = waiter->handed == nullptr;
    waiter->timer.cancel();
    return;  // the place passes to the waiter: leases_in_use stays
  }
  --leases_in_use;
  if (!conn) return;
  idle.push_back({std::move(conn), std::chrono::steady_clock::now()});
  schedule_trim();
}

void client_state::schedule_trim() noexcept {
  if (trim_scheduled || idle.empty()) return;
  trim_scheduled = true;
  trim_timer.expires_at(idle.front().since + config.lease_idle_timeout);
  // Weak: an idle connection must not keep a client nobody holds alive.
  trim_timer.async_wait([weak = weak_from_this()](const boost::system::error_code&) {
    if (auto state = weak.lock()) {
      state->trim_scheduled = false;
      state->trim_idle();
    }
  });
}

void client_state::trim_idle() noexcept {
  const auto deadline = std::chrono::steady_clock::now() - config.lease_idle_timeout;
  const auto fresh =
      std::find_if(idle.begin(), idle.end(), [&](const idle_lease& entry) { return entry.since > deadline; });
  for (auto it = idle.begin(); it != fresh; ++it) it->conn->close();
  idle.erase(idle.begin(), fresh);
  schedule_trim();
}

void client_state::exhausted() {
  const std::string message = "lease: all " + std::to_string(config.max_leases) + " leased connections of " +
                              config.connection.endpoint() + " in use for " +
                              std::to_string(config.lease_wait_timeout.count()) + " ms (max_leases)";
  if (config.connection.logger) config.connection.logger(log_level::warning, message);
  throw pool_exhausted(message);
}

}  // namespace detail

namespace {

// Leaves the wait queue however the wait ends; a place handed over but not taken goes back.
class waiter_registration {
 public:
  waiter_registration(std::shared_ptr<detail::client_state> state, detail::lease_waiter& waiter)
      : state_(std::move(state)), waiter_(waiter) {
    state_->waiters.push_back(&waiter_);
  }
  waiter_registration(const waiter_registration&) = delete;
  waiter_registration& operator=(const waiter_registration&) = delete;
  ~waiter_registration() {
    std::erase(state_->waiters, &waiter_);
    if (waiter_.handed || waiter_.slot_granted) state_->release(std::move(waiter_.handed), true);
  }

 private:
  std::shared_ptr<detail::client_state> state_;
  detail::lease_waiter& waiter_;
};

}  // namespace

client::client(executor_type executor, client_config config) {
  if (config.pool_size == 0) throw config_error("client pool_size must be at least 1");
  if (config.max_leases == 0) throw config_error("client max_leases must be at least 1");
  state_ = std::make_shared<detail::client_state>(std::move(executor), std::move(config));
  for (std::size_t i = 0; i < state_->config.pool_size; ++i) {
    state_->pool.push_back(std::make_unique<connection>(state_->executor, state_->config.connection));
  }
  if (state_->config.connection.sentinel.enabled()) {
    state_->primary_watch = std::make_unique<detail::sentinel_watch>(
        state_->executor, state_->config.connection, [weak = std::weak_ptr(state_)](const host_port& primary) {
          if (const auto state = weak.lock()) {
            for (auto& conn : state->pool) conn->follow_primary(primary);
            for (auto& entry : state->idle) entry.conn->follow_primary(primary);
          }
        });
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

awaitable<std::vector<reply>> client::execute(request req) {
  if (detail::block_time_of(req)) return execute_on_lease(*this, std::move(req));
  return least_loaded().execute(std::move(req));
}

awaitable<reply> client::execute_one(request req) {
  if (detail::block_time_of(req)) return execute_one_on_lease(*this, std::move(req));
  return least_loaded().execute_one(std::move(req));
}

awaitable<std::vector<reply>> client::execute_on_lease(client self, request req) {
  auto lease = co_await self.lease();
  co_return co_await lease.execute(std::move(req));
}

awaitable<reply> client::execute_one_on_lease(client self, request req) {
  auto lease = co_await self.lease();
  co_return co_await lease.execute_one(std::move(req));
}

connection_stats client::stats() const noexcept {
  connection_stats total;
  for (const auto& conn : state_->pool) total += conn->stats();
  for (const auto& entry : state_->idle) total += entry.conn->stats();
  return total;
}

awaitable<connection_lease> client::lease() {
  auto state = state_;
  const auto closed_error = [&] {
    return connection_error("lease: the client of " + state->config.connection.endpoint() + " is closed");
  };
  if (state->closed) throw closed_error();
  if (state->waiters.empty()) {
    // NOLINTNEXTLINE(clang-analyzer-cplusplus.Move): moved once; the analyzer misreads co_return
    if (auto conn = state->take_idle()) co_return connection_lease(state, std::move(conn));
    if (state->leases_in_use + state->idle.size() < state->config.max_leases) {
      ++state->leases_in_use;
      co_return co_await open_lease(state);
    }
  }
  detail::lease_waiter waiter(state->executor);
  {
    const waiter_registration registration(state, waiter);
    waiter.timer.expires_after(state->config.lease_wait_timeout);
    boost::system::error_code ignored;  // woken early by cancel(); what happened is in `waiter`
    co_await waiter.timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
    if (state->closed) throw closed_error();
    if (waiter.handed) co_return connection_lease(state, std::move(waiter.handed));
    if (!waiter.slot_granted) state->exhausted();
    waiter.slot_granted = false;
  }
  co_return co_await open_lease(state);
}

awaitable<connection_lease> client::open_lease(std::shared_ptr<detail::client_state> state) {
  auto conn = std::make_unique<connection>(state->executor, state->config.connection);
  try {
    co_await conn->connect();
  } catch (...) {
    state->release(nullptr, false);
    throw;
  }
  co_return connection_lease(state, std::move(conn));
}

namespace {

awaitable<subscription> open_subscription(const detail::client_state& state, const subscription_options& options) {
  if (state.closed) {
    throw connection_error("subscribe: the client of " + state.config.connection.endpoint() + " is closed");
  }
  return subscription::connect(state.executor, state.config.connection, options);
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
  auto& state = *state_;
  state.closed = true;
  for (auto& conn : state.pool) conn->close();
  for (auto& entry : state.idle) entry.conn->close();
  state.idle.clear();
  state.trim_timer.cancel();
  state.primary_watch.reset();
  for (auto* waiter : std::exchange(state.waiters, {})) waiter->timer.cancel();
}

const client_config& client::config() const noexcept { return state_->config; }
client::executor_type client::get_executor() const noexcept { return state_->executor; }
const std::vector<std::unique_ptr<connection>>& client::connections() const noexcept { return state_->pool; }
std::size_t client::leases_in_use() const noexcept { return state_->leases_in_use; }
std::size_t client::idle_leases() const noexcept { return state_->idle.size(); }

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

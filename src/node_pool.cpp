#include "rapyer/detail/node_pool.hpp"

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

#include "rapyer/client.hpp"
#include "rapyer/detail/blocking_command.hpp"
#include "rapyer/detail/cluster/command_keys.hpp"
#include "rapyer/error.hpp"

namespace rapyer::detail {

awaitable<reply> first_reply(awaitable<std::vector<reply>> replies, std::string command) {
  auto all = co_await std::move(replies);
  all.front().throw_if_error(command);
  co_return std::move(all.front());
}

// One lease() call waiting for a leased connection to come back. A connection given back while
// it waits is handed to it directly, so that waiters are served in order and a later lease()
// cannot take the place first.
struct lease_waiter {
  explicit lease_waiter(const boost::asio::any_io_executor& executor) : timer(executor) {}

  boost::asio::steady_timer timer;  // expires at the wait's deadline; cancelled to wake it early
  std::unique_ptr<connection> handed;
  bool slot_granted = false;  // a lease closed while waiting: its place is this waiter's to open
};

// Leaves the wait queue however the wait ends; a place handed over but not taken goes back.
class waiter_registration {
 public:
  waiter_registration(std::shared_ptr<node_pool> pool, lease_waiter& waiter) : pool_(std::move(pool)), waiter_(waiter) {
    pool_->waiters_.push_back(&waiter_);
  }
  waiter_registration(const waiter_registration&) = delete;
  waiter_registration& operator=(const waiter_registration&) = delete;
  ~waiter_registration() {
    std::erase(pool_->waiters_, &waiter_);
    if (waiter_.handed || waiter_.slot_granted) pool_->release(std::move(waiter_.handed), true);
  }

 private:
  std::shared_ptr<node_pool> pool_;
  lease_waiter& waiter_;
};

node_pool::node_pool(boost::asio::any_io_executor executor, client_config config)
    : executor_(std::move(executor)), config_(std::move(config)), trim_timer_(executor_) {
  for (std::size_t i = 0; i < config_.pool_size; ++i) {
    pool_.push_back(std::make_unique<connection>(executor_, config_.connection));
  }
}

awaitable<void> node_pool::connect() {
  auto self = shared_from_this();
  for (auto& conn : self->pool_) co_await conn->connect();
}

connection& node_pool::least_loaded() {
  const std::size_t start = next_++ % pool_.size();
  connection* best = nullptr;
  for (std::size_t i = 0; i < pool_.size(); ++i) {
    connection& candidate = *pool_[(start + i) % pool_.size()];
    if (!candidate.is_connected()) continue;
    if (best == nullptr || candidate.load() < best->load()) best = &candidate;
    if (best->load() == 0) break;
  }
  return best != nullptr ? *best : *pool_[start];
}

awaitable<std::vector<reply>> node_pool::execute(request req) {
  if (block_time_of(req)) return execute_on_lease(shared_from_this(), std::move(req));
  if (append_replica_wait(req)) return execute_waiting_for_replicas(shared_from_this(), std::move(req));
  return least_loaded().execute(std::move(req));
}

awaitable<reply> node_pool::execute_one(request req) {
  if (block_time_of(req)) return execute_one_on_lease(shared_from_this(), std::move(req));
  if (config_.wait_replicas > 0) {
    std::string command = req.command_name(0);
    return first_reply(execute(std::move(req)), std::move(command));
  }
  return least_loaded().execute_one(std::move(req));
}

bool node_pool::append_replica_wait(request& req) const {
  if (config_.wait_replicas <= 0 || !commands_) return false;
  bool writes = false;
  for (std::size_t i = 0; i < req.size() && !writes; ++i) writes = commands_->is_write(req.command_name(i));
  if (writes) req.push("WAIT", config_.wait_replicas, config_.wait_timeout.count());
  return writes;
}

void node_pool::check_replica_wait(std::vector<reply>& replies) const {
  const reply acknowledged = std::move(replies.back());
  replies.pop_back();
  acknowledged.throw_if_error("WAIT");
  if (acknowledged.as_integer() < config_.wait_replicas) {
    throw replication_error("write on " + config_.connection.endpoint() + " acknowledged by " +
                                std::to_string(acknowledged.as_integer()) + " of " +
                                std::to_string(config_.wait_replicas) + " replicas within " +
                                std::to_string(config_.wait_timeout.count()) +
                                " ms (wait_replicas): it is applied on the primary, but may not survive a failover",
                            acknowledged.as_integer());
  }
}

awaitable<std::vector<reply>> node_pool::execute_waiting_for_replicas(std::shared_ptr<node_pool> self, request req) {
  auto replies = co_await self->least_loaded().execute(std::move(req));
  self->check_replica_wait(replies);
  co_return replies;
}

awaitable<std::vector<reply>> node_pool::execute_on_lease(std::shared_ptr<node_pool> self, request req) {
  auto lease = co_await node_pool::lease(std::move(self));
  co_return co_await lease.execute(std::move(req));
}

awaitable<reply> node_pool::execute_one_on_lease(std::shared_ptr<node_pool> self, request req) {
  auto lease = co_await node_pool::lease(std::move(self));
  co_return co_await lease.execute_one(std::move(req));
}

std::unique_ptr<connection> node_pool::take_idle() {
  while (!idle_.empty()) {
    std::unique_ptr<connection> conn = std::move(idle_.back().conn);
    idle_.pop_back();
    if (conn->is_connected()) {
      ++leases_in_use_;
      return conn;
    }
    conn->close();
  }
  return nullptr;
}

void node_pool::release(std::unique_ptr<connection> conn, bool reusable) noexcept {
  if (conn && (!reusable || closed_)) {
    conn->close();
    conn.reset();
  }
  if (!closed_ && !waiters_.empty()) {
    lease_waiter* waiter = waiters_.front();
    waiters_.pop_front();
    waiter->handed = std::move(conn);
    waiter->slot_granted = waiter->handed == nullptr;
    waiter->timer.cancel();
    return;  // the place passes to the waiter: leases_in_use_ stays
  }
  --leases_in_use_;
  if (!conn) return;
  idle_.push_back({std::move(conn), std::chrono::steady_clock::now()});
  schedule_trim();
}

void node_pool::schedule_trim() noexcept {
  if (trim_scheduled_ || idle_.empty()) return;
  trim_scheduled_ = true;
  trim_timer_.expires_at(idle_.front().since + config_.lease_idle_timeout);
  // Weak: an idle connection must not keep a pool nobody holds alive.
  trim_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code&) {
    if (auto self = weak.lock()) {
      self->trim_scheduled_ = false;
      self->trim_idle();
    }
  });
}

void node_pool::trim_idle() noexcept {
  const auto deadline = std::chrono::steady_clock::now() - config_.lease_idle_timeout;
  const auto fresh =
      std::find_if(idle_.begin(), idle_.end(), [&](const idle_lease& entry) { return entry.since > deadline; });
  for (auto it = idle_.begin(); it != fresh; ++it) it->conn->close();
  idle_.erase(idle_.begin(), fresh);
  schedule_trim();
}

void node_pool::exhausted() {
  const std::string message = "lease: all " + std::to_string(config_.max_leases) + " leased connections of " +
                              config_.connection.endpoint() + " in use for " +
                              std::to_string(config_.lease_wait_timeout.count()) + " ms (max_leases)";
  if (config_.connection.logger) config_.connection.logger(log_level::warning, message);
  throw pool_exhausted(message);
}

awaitable<connection_lease> node_pool::lease(std::shared_ptr<node_pool> self) {
  const auto closed_error = [&] {
    return connection_error("lease: the client of " + self->config_.connection.endpoint() + " is closed");
  };
  if (self->closed_) throw closed_error();
  if (self->waiters_.empty()) {
    // NOLINTNEXTLINE(clang-analyzer-cplusplus.Move): moved once; the analyzer misreads co_return
    if (auto conn = self->take_idle()) co_return connection_lease(self, std::move(conn));
    if (self->leases_in_use_ + self->idle_.size() < self->config_.max_leases) {
      ++self->leases_in_use_;
      co_return co_await open_lease(self);
    }
  }
  lease_waiter waiter(self->executor_);
  {
    const waiter_registration registration(self, waiter);
    waiter.timer.expires_after(self->config_.lease_wait_timeout);
    boost::system::error_code ignored;  // woken early by cancel(); what happened is in `waiter`
    co_await waiter.timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
    if (self->closed_) throw closed_error();
    if (waiter.handed) co_return connection_lease(self, std::move(waiter.handed));
    if (!waiter.slot_granted) self->exhausted();
    waiter.slot_granted = false;
  }
  co_return co_await open_lease(self);
}

awaitable<connection_lease> node_pool::open_lease(std::shared_ptr<node_pool> self) {
  auto conn = std::make_unique<connection>(self->executor_, self->config_.connection);
  try {
    co_await conn->connect();
  } catch (...) {
    self->release(nullptr, false);
    throw;
  }
  co_return connection_lease(self, std::move(conn));
}

connection_stats node_pool::stats() const noexcept {
  connection_stats total;
  for (const auto& conn : pool_) total += conn->stats();
  for (const auto& entry : idle_) total += entry.conn->stats();
  return total;
}

bool node_pool::idle() const noexcept {
  return leases_in_use_ == 0 &&
         std::all_of(pool_.begin(), pool_.end(), [](const auto& conn) { return conn->load() == 0; });
}

void node_pool::follow_primary(const host_port& primary) {
  for (auto& conn : pool_) conn->follow_primary(primary);
  for (auto& entry : idle_) entry.conn->follow_primary(primary);
}

void node_pool::close() {
  closed_ = true;
  for (auto& conn : pool_) conn->close();
  for (auto& entry : idle_) entry.conn->close();
  idle_.clear();
  trim_timer_.cancel();
  for (auto* waiter : std::exchange(waiters_, {})) waiter->timer.cancel();
}

}  // namespace rapyer::detail

#include "rapyer/detail/cluster/router.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <numeric>
#include <utility>

#include "rapyer/detail/blocking_command.hpp"
#include "rapyer/detail/cluster/batch_split.hpp"
#include "rapyer/detail/cluster/redirection.hpp"
#include "rapyer/error.hpp"

namespace rapyer::detail::cluster {
namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

// What one call has spent on redirections and retries, and what it met, for the final error.
struct router::deadline_state {
  const request* whole = nullptr;  // sent as is while one node takes the whole request
  clock::time_point deadline;
  int redirects = 0;
  std::string command;  // of the last redirection
  std::uint16_t slot = 0;
  std::vector<node_address> nodes_tried;
  std::string last_error;

  // Counts one more redirection or retry; false once the call must give up.
  bool spend(std::string_view what, std::uint16_t at_slot, const node_address& node, std::string_view error,
             const redirect_limits& limits) {
    command = what;
    slot = at_slot;
    if (std::find(nodes_tried.begin(), nodes_tried.end(), node) == nodes_tried.end()) nodes_tried.push_back(node);
    last_error = error;
    ++redirects;
    return redirects <= limits.max_redirects && clock::now() < deadline;
  }
  [[noreturn]] void give_up() const {
    throw cluster_error(describe_redirect_failure(command, slot, redirects, nodes_tried, last_error));
  }
};

namespace {

// Runs the tasks concurrently and returns when all have finished; then rethrows the first
// failure. The tasks may refer to the caller's frame: it outlives them.
awaitable<void> run_all(const asio::any_io_executor& executor, std::vector<awaitable<void>> tasks) {
  struct join {
    explicit join(const asio::any_io_executor& ex, std::size_t n) : left(n), done(ex, clock::time_point::max()) {}
    std::size_t left;
    std::exception_ptr first_failure;
    asio::steady_timer done;
  };
  auto state = std::make_shared<join>(executor, tasks.size());
  for (auto& task : tasks) {
    asio::co_spawn(executor, std::move(task), [state](std::exception_ptr failure) {
      if (failure && !state->first_failure) state->first_failure = failure;
      if (--state->left == 0) state->done.cancel();
    });
  }
  boost::system::error_code woken;
  if (state->left > 0) co_await state->done.async_wait(asio::redirect_error(asio::use_awaitable, woken));
  if (state->first_failure) std::rethrow_exception(state->first_failure);
}

awaitable<void> pause_for(const asio::any_io_executor& executor, std::chrono::milliseconds delay) {
  asio::steady_timer timer(executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
}

node_address address_of(const connection_config& config) { return {config.host, config.port}; }

}  // namespace

router::router(asio::any_io_executor executor, client_config config, std::shared_ptr<node_pool> seed)
    : executor_(std::move(executor)), config_(std::move(config)), seed_(std::move(seed)), refresh_timer_(executor_) {
  // A request for a node that is down fails at once with not_connected, so that it is routed
  // again after the map is refreshed instead of waiting for a node that may never come back.
  config_.connection.wait_for_reconnect = false;
}

awaitable<std::shared_ptr<router>> router::discover(asio::any_io_executor executor, client_config config,
                                                    std::shared_ptr<node_pool> seed) {
  const reply info = co_await seed->execute_one(request().push("INFO", "cluster"));
  if (info.as_string().find("cluster_enabled:1") == std::string::npos) co_return nullptr;
  auto self = std::make_shared<router>(std::move(executor), std::move(config), seed);
  const auto replies = co_await seed->execute(request().push("CLUSTER", "SLOTS").push("COMMAND"));
  replies[0].throw_if_error("CLUSTER SLOTS");
  replies[1].throw_if_error("COMMAND");
  const node_address seed_address = address_of(seed->config().connection);
  self->map_ = slot_map::from_cluster_slots(replies[0], seed_address.host);
  self->commands_ = std::make_shared<const command_table>(command_table::from_command_reply(replies[1]));
  seed->set_command_table(self->commands_);
  const auto nodes = self->map_.nodes();
  if (std::find(nodes.begin(), nodes.end(), seed_address) != nodes.end()) self->pools_[seed_address] = seed;
  for (const auto& primary : self->map_.primaries()) co_await pool_of(self, primary);
  self->start_periodic_refresh();
  co_return self;
}

node_address router::node_of(std::optional<std::uint16_t> slot) const {
  if (slot) {
    if (const shard* owner = map_.shard_of(*slot)) return owner->primary;
    throw cluster_error("cluster: slot " + std::to_string(*slot) + " is not served by any node (cluster down?)");
  }
  // A command without keys goes to one primary: the seed's node when it is one.
  const auto primaries = map_.primaries();
  const node_address seed_address = address_of(seed_->config().connection);
  if (primaries.empty() || std::find(primaries.begin(), primaries.end(), seed_address) != primaries.end()) {
    return seed_address;
  }
  return primaries.front();
}

awaitable<std::shared_ptr<node_pool>> router::pool_of(std::shared_ptr<router> self, const node_address& node) {
  if (auto found = self->pools_.find(node); found != self->pools_.end()) co_return found->second;
  client_config node_config = self->config_;
  node_config.connection.host = node.host;
  node_config.connection.port = node.port;
  auto pool = std::make_shared<node_pool>(self->executor_, std::move(node_config));
  pool->set_command_table(self->commands_);
  co_await pool->connect();
  // Another call may have connected the same node meanwhile: keep the first.
  auto [entry, added] = self->pools_.try_emplace(node, pool);
  if (!added) pool->close();
  if (self->closed_) entry->second->close();
  co_return entry->second;
}

awaitable<std::vector<reply>> router::execute(std::shared_ptr<router> self, request req) {
  const argv_list commands = split_commands(req.payload());
  std::vector<reply> out(commands.size());
  deadline_state budget;
  budget.deadline = self->config_.connection.command_timeout.count() > 0
                        ? clock::now() + self->config_.connection.command_timeout
                        : clock::time_point::max();
  budget.whole = &req;  // `commands` point into it: it stays here until the call ends
  std::vector<std::size_t> all(commands.size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  co_await dispatch(self, commands, std::move(all), out, budget);
  co_return out;
}

awaitable<void> router::dispatch(std::shared_ptr<router> self, const argv_list& commands,
                                 std::vector<std::size_t> indices, std::vector<reply>& out, deadline_state& budget) {
  argv_list subset;
  subset.reserve(indices.size());
  for (const std::size_t i : indices) subset.push_back(commands[i]);
  // Throws usage_error for a transaction or a command across slots, before anything is sent.
  const auto units = plan_units(subset, *self->commands_);
  std::map<node_address, std::vector<std::size_t>> by_node;
  for (const auto& unit : units) {
    auto& part = by_node[self->node_of(unit.slot)];
    for (const std::size_t k : unit.commands) part.push_back(indices[k]);
  }
  for (auto& [node, part] : by_node) std::sort(part.begin(), part.end());
  if (by_node.size() == 1) {
    auto pool = co_await pool_of(self, by_node.begin()->first);
    co_await send_part(self, commands, std::move(by_node.begin()->second), std::move(pool), false, out, budget);
    co_return;
  }
  budget.whole = nullptr;  // split: each part is a request of its own
  std::vector<awaitable<void>> parts;
  for (auto& [node, part] : by_node) {
    auto pool = co_await pool_of(self, node);
    parts.push_back(send_part(self, commands, std::move(part), std::move(pool), false, out, budget));
  }
  co_await run_all(self->executor_, std::move(parts));
}

awaitable<void> router::send_part(std::shared_ptr<router> self, const argv_list& commands,
                                  std::vector<std::size_t> indices, std::shared_ptr<node_pool> pool, bool asking,
                                  std::vector<reply>& out, deadline_state& budget) {
  const redirect_limits limits{self->config_.cluster.max_redirects};
  const node_address node = address_of(pool->config().connection);
  std::vector<reply> replies;
  try {
    request part;
    if (asking) part.push("ASKING");
    if (!asking && budget.whole != nullptr && indices.size() == commands.size()) {
      part = *budget.whole;
    } else {
      part.append(build_part_request(commands, indices));
    }
    replies = co_await pool->execute(std::move(part));
  } catch (const not_connected& down) {
    // Never sent: safe to route again once the map says where the slots are now.
    const auto& first = commands[indices.front()];
    const auto slot = slot_of(first, *self->commands_);
    if (!budget.spend(first.front(), slot.value_or(0), node, down.what(), limits)) budget.give_up();
    co_await refresh(self);
    co_await pause_for(self->executor_, backoff(budget.redirects, limits));
    co_return co_await dispatch(self, commands, std::move(indices), out, budget);
  } catch (const connection_error&) {
    // Sent, perhaps applied: not resent; the map is read again in case the node failed.
    self->schedule_refresh();
    throw;
  }
  if (asking) replies.erase(replies.begin());
  for (std::size_t k = 0; k < indices.size(); ++k) out[indices[k]] = std::move(replies[k]);

  // Commands answered with a redirection did not run; resend exactly those.
  argv_list sent;
  sent.reserve(indices.size());
  for (const std::size_t i : indices) sent.push_back(commands[i]);
  const auto units = plan_units(sent, *self->commands_);
  std::vector<reply> answered;
  answered.reserve(indices.size());
  for (const std::size_t i : indices) answered.push_back(out[i]);
  const auto resend = commands_to_resend(units, answered, node.host);
  if (resend.empty()) co_return;

  std::vector<std::size_t> moved;
  std::map<node_address, std::vector<std::size_t>> asked;
  bool pause = false;  // TRYAGAIN or CLUSTERDOWN: give the cluster a moment
  for (const auto& [k, why] : resend) {
    const std::size_t i = indices[k];
    budget.spend(why.description(), limits);
    switch (decide(why, budget.redirects, limits)) {
      case redirect_action::resend_to_target:
        self->map_.assign(why.slot, why.target);
        self->schedule_refresh();
        moved.push_back(i);
        break;
      case redirect_action::ask_target:
        asked[why.target].push_back(i);
        break;
      case redirect_action::retry_after_backoff:
        pause = true;
        moved.push_back(i);
        break;
      case redirect_action::give_up:
        budget.give_up();
    }
  }
  if (pause) co_await pause_for(self->executor_, backoff(budget.redirects, limits));
  std::sort(moved.begin(), moved.end());
  moved.erase(std::unique(moved.begin(), moved.end()), moved.end());
  if (!moved.empty()) co_await dispatch(self, commands, std::move(moved), out, budget);
  for (auto& [target, part] : asked) {
    co_await send_part(self, commands, std::move(part), co_await pool_of(self, target), true, out, budget);
  }
}

awaitable<std::shared_ptr<node_pool>> router::pool_of_key(std::shared_ptr<router> self, std::string key) {
  co_return co_await pool_of(self, self->node_of(key_slot(key)));
}

awaitable<std::vector<std::shared_ptr<node_pool>>> router::primary_pools(std::shared_ptr<router> self) {
  std::vector<std::shared_ptr<node_pool>> pools;
  for (const auto& primary : self->map_.primaries()) pools.push_back(co_await pool_of(self, primary));
  co_return pools;
}

awaitable<void> router::refresh(std::shared_ptr<router> self) {
  if (auto running = self->refresh_done_) {
    boost::system::error_code woken;
    co_await running->async_wait(asio::redirect_error(asio::use_awaitable, woken));
    co_return;
  }
  auto done = std::make_shared<asio::steady_timer>(self->executor_, clock::time_point::max());
  self->refresh_done_ = done;
  // Any node that answers has the whole map; connected pools first, the seed last.
  std::vector<std::shared_ptr<node_pool>> candidates;
  for (const auto& [node, pool] : self->pools_) candidates.push_back(pool);
  candidates.push_back(self->seed_);
  std::stable_partition(candidates.begin(), candidates.end(), [](const auto& pool) {
    const auto& conns = pool->connections();
    return std::any_of(conns.begin(), conns.end(), [](const auto& conn) { return conn->is_connected(); });
  });
  for (const auto& pool : candidates) {
    if (self->closed_) break;
    try {
      const reply slots = co_await pool->execute_one(request().push("CLUSTER", "SLOTS"));
      auto map = slot_map::from_cluster_slots(slots, pool->config().connection.host);
      if (map.empty()) continue;
      self->map_ = std::move(map);
      break;
    } catch (const error&) {
      // this node cannot tell: ask the next one
    }
  }
  // Nodes that left the cluster are closed; new primaries are connected.
  const auto nodes = self->map_.nodes();
  for (auto it = self->pools_.begin(); it != self->pools_.end();) {
    if (std::find(nodes.begin(), nodes.end(), it->first) == nodes.end() && it->second != self->seed_) {
      it->second->close();
      it = self->pools_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& primary : self->map_.primaries()) {
    if (self->closed_) break;
    try {
      co_await pool_of(self, primary);
    } catch (const error&) {
      // unreachable now; requests for its slots fail with not_connected and refresh again
    }
  }
  self->refresh_done_.reset();
  done->cancel();
}

void router::schedule_refresh() noexcept {
  if (refresh_done_ || closed_) return;
  asio::co_spawn(executor_, refresh(shared_from_this()), asio::detached);
}

void router::start_periodic_refresh() noexcept {
  if (config_.cluster.refresh_interval.count() <= 0) return;
  refresh_timer_.expires_after(config_.cluster.refresh_interval);
  refresh_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_) return;
    self->schedule_refresh();
    self->start_periodic_refresh();
  });
}

void router::close() {
  closed_ = true;
  refresh_timer_.cancel();
  for (auto& [node, pool] : pools_) pool->close();
  seed_->close();
}

connection_stats router::stats() const noexcept {
  connection_stats total;
  for (const auto& [node, pool] : pools_) total += pool->stats();
  if (std::none_of(pools_.begin(), pools_.end(), [&](const auto& entry) { return entry.second == seed_; })) {
    total += seed_->stats();
  }
  return total;
}

}  // namespace rapyer::detail::cluster

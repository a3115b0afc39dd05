#include "rapyer/detail/cluster/router.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <numeric>
#include <utility>

#include "rapyer/detail/ascii.hpp"
#include "rapyer/detail/blocking_command.hpp"
#include "rapyer/detail/cluster/batch_split.hpp"
#include "rapyer/detail/cluster/key_slot.hpp"
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
    asio::co_spawn(executor, std::move(task), [state](const std::exception_ptr& failure) {
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
  config_.connection.readonly = config_.cluster.read_from_replicas;
  config_.connection.seeds.clear();
}

awaitable<std::shared_ptr<router>> router::discover(asio::any_io_executor executor, client_config config,
                                                    std::shared_ptr<node_pool> seed) {
  // Requests are named: GCC 12 mishandles temporaries inside co_await expressions (README).
  request info_request;
  info_request.push("INFO", "cluster");
  const reply info = co_await seed->execute_one(std::move(info_request));
  if (info.as_string().find("cluster_enabled:1") == std::string::npos) co_return nullptr;
  auto self = std::make_shared<router>(std::move(executor), std::move(config), seed);
  request topology;
  topology.push("CLUSTER", "SLOTS").push("COMMAND");
  const auto replies = co_await seed->execute(std::move(topology));
  replies[0].throw_if_error("CLUSTER SLOTS");
  replies[1].throw_if_error("COMMAND");
  const node_address seed_address = address_of(seed->config().connection);
  self->map_ = slot_map::from_cluster_slots(replies[0], seed_address.host);
  self->commands_ = std::make_shared<const command_table>(command_table::from_command_reply(replies[1]));
  seed->set_command_table(self->commands_);
  const auto nodes = self->map_.nodes();
  // The seed's connections are reused, unless replica reads need READONLY in every handshake.
  if (std::find(nodes.begin(), nodes.end(), seed_address) != nodes.end() && !self->config_.connection.readonly) {
    self->pools_[seed_address] = seed;
  }
  for (const auto& primary : self->map_.primaries()) co_await pool_of(self, primary);
  self->start_periodic_refresh();
  co_return self;
}

std::shared_ptr<node_pool> router::direct_pool(std::string_view payload, node_address& node) {
  // A command across slots throws usage_error here, as in the general path: nothing is sent.
  const auto whole = single_slot(payload, *commands_);
  if (!whole) return nullptr;
  node = node_of(whole->slot);
  const auto found = pools_.find(node);
  return found == pools_.end() ? nullptr : found->second;
}

bool router::reads_only(const request& req) const {
  for (std::size_t i = 0; i < req.size(); ++i) {
    if (!commands_->is_readonly(req.command_name(i))) return false;
  }
  return true;
}

node_address router::node_of(std::optional<std::uint16_t> slot, bool to_replica) {
  if (slot) {
    if (const shard* owner = map_.shard_of(*slot)) {
      if (to_replica && !owner->replicas.empty()) return owner->replicas[next_replica_++ % owner->replicas.size()];
      return owner->primary;
    }
    throw cluster_error("cluster: slot " + std::to_string(*slot) + " is not served by any node (cluster down?)");
  }
  // A command without keys goes to one primary: the seed's node when it is one.
  const auto primaries = map_.primaries();
  node_address seed_address = address_of(seed_->config().connection);
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
  deadline_state budget;
  budget.deadline = self->config_.connection.command_timeout.count() > 0
                        ? clock::now() + self->config_.connection.command_timeout
                        : clock::time_point::max();
  budget.whole = &req;  // the commands below point into it: it stays here until the call ends
  const bool to_replica = self->config_.cluster.read_from_replicas && self->reads_only(req);
  node_address node;
  std::optional<std::vector<reply>> direct_replies;
  if (const auto pool = to_replica ? nullptr : self->direct_pool(req.payload(), node)) {
    // The usual case: one slot (a single command, a model's MULTI), its node connected. The
    // request goes as it is, and is split into commands only when a reply is an error.
    try {
      direct_replies = co_await pool->execute(req);
    } catch (const not_connected&) {
      // not sent: the general path below refreshes and routes again
    } catch (const connection_error&) {
      self->schedule_refresh();  // sent, perhaps applied: never resent
      throw;
    }
    if (direct_replies &&
        std::none_of(direct_replies->begin(), direct_replies->end(), [](const reply& r) { return r.is_error(); })) {
      co_return std::move(*direct_replies);
    }
  }
  const argv_list commands = split_commands(req.payload());
  const auto every_command = [&] {
    std::vector<std::size_t> all(commands.size());
    std::iota(all.begin(), all.end(), std::size_t{0});
    return all;
  };
  if (direct_replies) {
    sent_batch batch;
    try {
      batch.units = plan_units(commands, *self->commands_);
    } catch (const usage_error&) {
      co_return std::move(*direct_replies);  // a shape the server judged by itself (MULTI without EXEC …)
    }
    batch.parts = group_by_node(batch.units, [](std::optional<std::uint16_t>) { return std::size_t{0}; });
    batch.nodes.push_back(node);
    batch.subset = commands;
    batch.indices = every_command();
    batch.part_replies.push_back(std::move(*direct_replies));
    std::vector<reply> out(commands.size());
    co_await settle(self, commands, std::move(batch), out, budget);
    co_return out;
  }
  std::vector<reply> out(commands.size());
  if (to_replica) {
    // A replica that is down or lagging behind a resharding: the primary answers instead.
    std::exception_ptr replica_failed;
    try {
      const route replica_route{std::nullopt, false, true};
      auto all = every_command();
      co_await dispatch(self, commands, std::move(all), out, budget, replica_route);
    } catch (const connection_error&) {
      replica_failed = std::current_exception();
    }
    if (!replica_failed) co_return out;
  }
  const route by_slot_map;
  auto all = every_command();
  co_await dispatch(self, commands, std::move(all), out, budget, by_slot_map);
  co_return out;
}

awaitable<void> router::dispatch(std::shared_ptr<router> self, const argv_list& commands,
                                 std::vector<std::size_t> indices, std::vector<reply>& out, deadline_state& budget,
                                 route to) {
  sent_batch batch;
  batch.indices = std::move(indices);
  batch.subset.reserve(batch.indices.size());
  for (const std::size_t i : batch.indices) batch.subset.push_back(commands[i]);
  // Throws usage_error for a transaction or a command across slots, before anything is sent.
  batch.units = plan_units(batch.subset, *self->commands_);
  batch.parts = group_by_node(batch.units, [&](std::optional<std::uint16_t> slot) {
    const node_address node = to.node ? *to.node : self->node_of(slot, to.to_replica);
    const auto found = std::find(batch.nodes.begin(), batch.nodes.end(), node);
    if (found != batch.nodes.end()) return static_cast<std::size_t>(found - batch.nodes.begin());
    batch.nodes.push_back(node);
    return batch.nodes.size() - 1;
  });
  const auto& subset = batch.subset;
  const auto& parts = batch.parts;
  const auto& nodes = batch.nodes;
  const bool whole =
      !to.node && budget.whole != nullptr && parts.size() == 1 && batch.indices.size() == commands.size();
  if (parts.size() > 1) budget.whole = nullptr;  // split: each part is a request of its own

  // Keyless commands leading a split request (SCRIPT LOAD before the scripts that need it) are
  // for every node: they run on each first, then the rest is dispatched.
  std::size_t leading = 0;
  while (parts.size() > 1 && leading < subset.size() && !iequals(subset[leading].front(), "MULTI") &&
         !slot_of(subset[leading], *self->commands_)) {
    ++leading;
  }
  if (leading > 0) {
    const std::vector<std::size_t> prefix(batch.indices.begin(),
                                          batch.indices.begin() + static_cast<std::ptrdiff_t>(leading));
    std::vector<awaitable<void>> loads;
    for (const auto& node : nodes) {
      const route to_node{node, false};
      loads.push_back(dispatch(self, commands, prefix, out, budget, to_node));
    }
    co_await run_all(self->executor_, std::move(loads));
    batch.indices.erase(batch.indices.begin(), batch.indices.begin() + static_cast<std::ptrdiff_t>(leading));
    const route by_slot_map;
    co_return co_await dispatch(self, commands, std::move(batch.indices), out, budget, by_slot_map);
  }

  batch.part_replies.resize(parts.size());
  const auto send = [&](std::size_t p) -> awaitable<void> {
    const batch_part& part = parts[p];
    auto pool = co_await pool_of(self, nodes[part.node]);
    request req;
    if (to.asking) req.push("ASKING");
    if (whole) {
      req = *budget.whole;
    } else {
      req.append(build_part_request(subset, part.commands));
    }
    try {
      batch.part_replies[p] = co_await pool->execute(std::move(req));
    } catch (const not_connected& down) {
      batch.unsent.insert(batch.unsent.end(), part.commands.begin(), part.commands.end());
      batch.down_error = down.what();
      co_return;
    } catch (const connection_error&) {
      // Sent, perhaps applied: never resent; the map is read again in case the node failed.
      self->schedule_refresh();
      throw;
    }
    if (to.asking) batch.part_replies[p].erase(batch.part_replies[p].begin());
  };
  if (parts.size() == 1) {
    co_await send(0);
  } else {
    std::vector<awaitable<void>> sends;
    for (std::size_t p = 0; p < parts.size(); ++p) sends.push_back(send(p));
    co_await run_all(self->executor_, std::move(sends));
  }

  co_await settle(self, commands, std::move(batch), out, budget);
}

awaitable<void> router::settle(std::shared_ptr<router> self, const argv_list& commands, sent_batch batch,
                               std::vector<reply>& out, deadline_state& budget) {
  const redirect_limits limits{self->config_.cluster.max_redirects};
  // Commands answered with a redirection did not run: they go again, and only they.
  std::vector<std::size_t> again;  // batch.subset positions routed again by the map
  std::map<node_address, std::vector<std::size_t>> asked;
  bool pause = !batch.unsent.empty();  // TRYAGAIN, CLUSTERDOWN or a node down: give the cluster a moment
  for (std::size_t p = 0; p < batch.parts.size(); ++p) {
    if (batch.part_replies[p].empty()) continue;  // not sent
    for (const auto& redirected : redirected_commands(batch.units, batch.parts[p], batch.part_replies[p],
                                                      batch.nodes[batch.parts[p].node].host)) {
      const auto& why = redirected.redirect;
      if (!budget.spend(batch.subset[redirected.command].front(), why.slot, batch.nodes[batch.parts[p].node],
                        redirected.error_message, limits)) {
        budget.give_up();
      }
      switch (decide(why, budget.redirects - 1, limits)) {
        case redirect_action::resend_to_target:
          self->map_.assign(why.slot, why.target);
          self->schedule_refresh();
          again.push_back(redirected.command);
          break;
        case redirect_action::ask_target:
          asked[why.target].push_back(redirected.command);
          break;
        case redirect_action::retry_after_backoff:
          pause = true;
          again.push_back(redirected.command);
          break;
        case redirect_action::give_up:
          budget.give_up();
      }
    }
  }
  for (std::size_t p = 0; p < batch.parts.size(); ++p) {
    if (batch.part_replies[p].empty())
      batch.part_replies[p].resize(batch.parts[p].commands.size());  // filled when resent
  }
  auto merged = merge_replies(batch.subset.size(), batch.parts, std::move(batch.part_replies));
  for (std::size_t k = 0; k < batch.subset.size(); ++k) out[batch.indices[k]] = std::move(merged[k]);

  if (!batch.unsent.empty()) {
    const auto& first = batch.subset[batch.unsent.front()];
    const auto slot = slot_of(first, *self->commands_);
    if (!budget.spend(first.front(), slot.value_or(0), self->node_of(slot), batch.down_error, limits)) budget.give_up();
    co_await refresh(self);
    again.insert(again.end(), batch.unsent.begin(), batch.unsent.end());
  }
  if (pause) co_await pause_for(self->executor_, backoff(budget.redirects, limits));
  if (!again.empty()) {
    std::sort(again.begin(), again.end());
    std::vector<std::size_t> positions;
    positions.reserve(again.size());
    for (const std::size_t k : again) positions.push_back(batch.indices[k]);
    const route by_slot_map;
    co_await dispatch(self, commands, std::move(positions), out, budget, by_slot_map);
  }
  for (auto& [target, ks] : asked) {
    std::sort(ks.begin(), ks.end());
    std::vector<std::size_t> positions;
    positions.reserve(ks.size());
    for (const std::size_t k : ks) positions.push_back(batch.indices[k]);
    const route asking{target, true};
    co_await dispatch(self, commands, std::move(positions), out, budget, asking);
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
      request slots_request;
      slots_request.push("CLUSTER", "SLOTS");
      const reply slots = co_await pool->execute_one(std::move(slots_request));
      auto map = slot_map::from_cluster_slots(slots, pool->config().connection.host);
      if (map.empty()) continue;
      self->map_ = std::move(map);
      break;
    } catch (const error&) {
      // this node cannot tell: ask the next one
    }
  }
  // Nodes that left the cluster are closed once nothing is in flight on them (one node's view may
  // lag during a failover: closing a busy pool would fail requests that would have succeeded); new
  // primaries are connected.
  const auto nodes = self->map_.nodes();
  for (auto it = self->pools_.begin(); it != self->pools_.end();) {
    if (std::find(nodes.begin(), nodes.end(), it->first) == nodes.end() && it->second != self->seed_ &&
        it->second->idle()) {
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

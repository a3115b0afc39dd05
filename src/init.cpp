#include "rapyer/init.hpp"

#include <boost/asio/this_coro.hpp>

#include "rapyer/error.hpp"

namespace rapyer {
namespace {

std::shared_ptr<client>& process_slot() {
  static std::shared_ptr<client> slot;
  return slot;
}

std::shared_ptr<client>& thread_slot() {
  thread_local std::shared_ptr<client> slot;
  return slot;
}

void replace(std::shared_ptr<client>& slot, std::shared_ptr<client> redis) {
  if (slot && slot != redis) slot->close();
  slot = std::move(redis);
}

awaitable<std::shared_ptr<client>> connect_to(std::string_view url) {
  auto redis = std::make_shared<client>(co_await boost::asio::this_coro::executor, url);
  co_await redis->connect();
  co_return redis;
}

}  // namespace

awaitable<void> init(std::string_view url) { init(co_await connect_to(url)); }
void init(std::shared_ptr<client> redis) { replace(process_slot(), std::move(redis)); }
void teardown() { replace(process_slot(), nullptr); }

awaitable<void> init_thread(std::string_view url) { init_thread(co_await connect_to(url)); }
void init_thread(std::shared_ptr<client> redis) { replace(thread_slot(), std::move(redis)); }
void teardown_thread() { replace(thread_slot(), nullptr); }

client& default_client() {
  if (const auto& mine = thread_slot()) return *mine;
  if (const auto& shared = process_slot()) return *shared;
  throw usage_error("no Redis client: call rapyer::init(url) or set model_config::redis");
}

}  // namespace rapyer

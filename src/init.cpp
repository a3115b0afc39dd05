#include "rapyer/init.hpp"

#include <boost/asio/this_coro.hpp>

#include "rapyer/error.hpp"

namespace rapyer {
namespace {
std::shared_ptr<client>& default_slot() {
  static std::shared_ptr<client> slot;
  return slot;
}
}  // namespace

awaitable<void> init(std::string_view url) {
  auto redis = std::make_shared<client>(co_await boost::asio::this_coro::executor, url);
  co_await redis->connect();
  init(std::move(redis));
}

void init(std::shared_ptr<client> redis) {
  if (auto& slot = default_slot(); slot && slot != redis) slot->close();
  default_slot() = std::move(redis);
}

void teardown() {
  if (auto& slot = default_slot()) slot->close();
  default_slot().reset();
}

client& default_client() {
  if (!default_slot()) throw usage_error("no Redis client: call rapyer::init(url) or set model_config::redis");
  return *default_slot();
}

}  // namespace rapyer

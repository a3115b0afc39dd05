#include "json_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <cstdlib>
#include <string>

#include "test_support.hpp"

namespace rapyer::test {
namespace {

std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return value;
}

// COMMAND INFO answers nil for a command the server does not know.
bool runs_json_commands(const rapyer::testing::embedded_server_options& options) {
  const rapyer::testing::embedded_server server(options);
  boost::asio::io_context ctx;
  return run(ctx, [&]() -> awaitable<bool> {
    connection probe(co_await boost::asio::this_coro::executor, connection_config::from_url(server.url()));
    co_await probe.connect();
    const auto info = co_await probe.execute("COMMAND", "INFO", "JSON.SET");
    co_return !info.as_array().at(0).is_nil();
  }());
}

std::optional<rapyer::testing::embedded_server_options> find_json_server() {
  rapyer::testing::embedded_server_options options;
  const auto valkey = environment("RAPYER_TEST_VALKEY_SERVER");
  const auto module = environment("RAPYER_TEST_JSON_MODULE");
  if (valkey && module) {
    options.executable = *valkey;
    options.modules = {*module};
    return options;
  }
  if (environment("RAPYER_TEST_SERVER") && runs_json_commands(options)) return options;
  return std::nullopt;
}

}  // namespace

std::optional<rapyer::testing::embedded_server_options> json_server_options() {
  static const auto found = find_json_server();
  return found;
}

}  // namespace rapyer::test

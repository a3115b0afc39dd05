// The Redis client under the models: commands, a batch in one round trip, and pipelining of many
// concurrent coroutines over one connection. Uses REDIS_URL, or a private redis-server.
#include <rapyer/rapyer.hpp>
#include <rapyer/testing/embedded_server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <iostream>

namespace asio = boost::asio;

rapyer::awaitable<void> run(std::string url) {
  auto config = rapyer::client_config::from_url(url);
  // Connection losses, reconnects, timeouts and health-check failures go to stderr; messages
  // name the endpoint, never the credentials.
  config.connection.logger = [](rapyer::log_level level, std::string_view message) {
    std::cerr << "[rapyer " << rapyer::to_string(level) << "] " << message << '\n';
  };
  rapyer::client client(co_await asio::this_coro::executor, config);
  co_await client.connect();

  co_await client.execute("SET", "example:greeting", "hello");
  std::cout << "GET example:greeting -> " << (co_await client.execute("GET", "example:greeting")).as_string() << '\n';
  co_await client.execute("SET", "example:ratio", 0.1);  // floats are sent exactly
  std::cout << "GET example:ratio -> " << (co_await client.execute("GET", "example:ratio")).as_string() << '\n';

  // Several commands, one round trip; error replies come back in place.
  rapyer::request batch;
  batch.push("DEL", "example:visits").push("INCRBY", "example:visits", 10).push("INCR", "example:visits");
  const auto replies = co_await client.execute(batch);
  std::cout << "batch -> " << replies.back().as_integer() << " visits\n";

  try {
    co_await client.execute("LPUSH", "example:greeting", "oops");
  } catch (const rapyer::server_error& e) {
    std::cout << "server said: " << e.server_message() << '\n';
  }

  // 1,000 coroutines at once share the pool's connections; their commands are coalesced.
  int done = 0;
  for (int i = 0; i < 1000; ++i) {
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> rapyer::awaitable<void> { co_await client.execute("INCR", "example:concurrent"); },
        [&](const std::exception_ptr& e) {
          if (e) std::rethrow_exception(e);
          ++done;
        });
  }
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (done < 1000) {
    timer.expires_after(std::chrono::milliseconds(1));
    co_await timer.async_wait(asio::use_awaitable);
  }
  const auto total = (co_await client.execute("GETDEL", "example:concurrent")).as_string();
  std::cout << "1000 concurrent INCR -> " << total << '\n';

  // A blocking pop with a per-call limit: nothing is popped after the caller gave up.
  try {
    co_await rapyer::with_timeout(client.execute("BLPOP", "example:jobs", 0), std::chrono::milliseconds(100));
  } catch (const rapyer::timeout_error& e) {
    std::cout << "BLPOP on an empty list: " << e.what() << '\n';
  }
  co_await client.execute("RPUSH", "example:jobs", "job-1");
  const auto job = co_await client.execute("BLPOP", "example:jobs", 1);  // runs on a lease
  std::cout << "BLPOP -> " << job.as_array()[1].as_string() << '\n';

  const rapyer::connection_stats stats = client.stats();
  std::cout << "commands " << stats.commands << ", replies " << stats.replies << ", bytes written "
            << stats.bytes_written << ", read " << stats.bytes_read << ", reconnects " << stats.reconnects << '\n';
  client.close();
  if (total != "1000") throw std::runtime_error("lost increments");
}

int main() {
  try {
    std::unique_ptr<rapyer::testing::embedded_server> server;  // started only when REDIS_URL is unset
    const std::string url = rapyer::testing::embedded_server::url_from_environment(server);
    asio::io_context ctx;
    std::exception_ptr failure;
    asio::co_spawn(ctx, run(url), [&](std::exception_ptr e) { failure = std::move(e); });
    ctx.run();
    if (failure) std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    std::cerr << "client_basics failed: " << e.what() << '\n';
    return 1;
  }
}

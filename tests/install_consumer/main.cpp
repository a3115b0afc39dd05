// Links against the installed package and talks to a private server: proves headers, library and
// dependencies all resolve from the install tree.
#include <rapyer/rapyer.hpp>
#include <rapyer/testing/embedded_server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>

int main() {
  rapyer::testing::embedded_server server;
  boost::asio::io_context ctx;
  int status = 1;
  boost::asio::co_spawn(
      ctx,
      [&]() -> rapyer::awaitable<void> {
        rapyer::client client(ctx.get_executor(), server.url());
        co_await client.connect();
        co_await client.execute("SET", "consumer", 42);
        const auto value = co_await client.execute("GET", "consumer");
        std::cout << "consumer read " << value.as_string() << '\n';
        status = value.as_string() == "42" ? 0 : 1;
        client.close();
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  ctx.run();
  return status;
}

// Shared by the examples: run one coroutine against REDIS_URL, or against a private redis-server
// started for the run, and exit non-zero on failure.
#pragma once

#include <rapyer/rapyer.hpp>
#include <rapyer/testing/embedded_server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

/// Throws when an example's expectation does not hold, so that ctest sees the failure.
inline void check(bool condition, const char* what) {
  if (!condition) throw std::runtime_error(std::string("check failed: ") + what);
}

/// Runs `example()` with a default client on `url` until it completes; rethrows its failure.
template <class Example>
void run_with_default_client(const std::string& url, Example example) {
  boost::asio::io_context ctx;
  std::exception_ptr failure;
  boost::asio::co_spawn(
      ctx,
      [&]() -> rapyer::awaitable<void> {
        co_await rapyer::init(url);
        try {
          co_await example();
        } catch (...) {
          failure = std::current_exception();
        }
        rapyer::teardown();
      },
      [&](std::exception_ptr e) {
        if (e) failure = e;
      });
  ctx.run();
  if (failure) std::rethrow_exception(failure);
}

/// Runs `body`; a failure is printed under the example's name and exits non-zero.
template <class Body>
int report_failure(const char* name, Body body) {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << name << " failed: " << e.what() << '\n';
    return 1;
  }
}

/// Runs an example against REDIS_URL, or against a private redis-server started for the run.
template <class Example>
int run_example(const char* name, Example example) {
  return report_failure(name, [&] {
    std::unique_ptr<rapyer::testing::embedded_server> server;  // started only when REDIS_URL is unset
    run_with_default_client(rapyer::testing::embedded_server::url_from_environment(server), example);
  });
}

// Throughput of INCR and SET, all measured in one run against one private redis-server:
//   redis-benchmark -P 16 -c 50   the server's practical limit on this machine (the baseline)
//   raw hiredis                    blocking calls, one round trip per command
//   rapyer N coroutines            N concurrent coroutines on ONE connection (automatic pipelining)
// Each case runs --repeat times; the median is reported. Usage:
//   rapyer_benchmark [--ops N] [--repeat R]      (REDIS_URL is ignored: always a private server)
#include <hiredis/hiredis.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <rapyer/rapyer.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace asio = boost::asio;
using bench_clock = std::chrono::steady_clock;

namespace {

struct options {
  long ops = 1'000'000;
  int repeat = 3;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double measure(int repeat, const std::function<double()>& once) {
  std::vector<double> rates;
  for (int i = 0; i < repeat; ++i) rates.push_back(once());
  return median(rates);
}

// Runs redis-benchmark and returns its requests per second for `test` ("INCR" or "SET").
double redis_benchmark(std::uint16_t port, const std::string& test, long ops) {
  std::ostringstream command;
  command << "redis-benchmark -h 127.0.0.1 -p " << port << " -P 16 -c 50 -n " << ops << " -t " << test
          << " --csv 2>/dev/null";
  FILE* pipe = ::popen(command.str().c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run redis-benchmark");
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  if (::pclose(pipe) != 0) throw std::runtime_error("redis-benchmark failed: " + output);
  const std::string prefix = "\"" + test + "\",\"";
  const auto at = output.find(prefix);
  if (at == std::string::npos) throw std::runtime_error("unexpected redis-benchmark output: " + output);
  return std::stod(output.substr(at + prefix.size()));
}

double raw_hiredis(std::uint16_t port, const std::string& test, long ops) {
  redisContext* ctx = redisConnect("127.0.0.1", port);
  if (ctx == nullptr || ctx->err != 0) throw std::runtime_error("hiredis cannot connect");
  const auto start = bench_clock::now();
  for (long i = 0; i < ops; ++i) {
    auto* r = static_cast<redisReply*>(test == "INCR" ? redisCommand(ctx, "INCR bench:hiredis")
                                                      : redisCommand(ctx, "SET bench:hiredis %ld", i));
    if (r == nullptr) throw std::runtime_error("hiredis command failed");
    freeReplyObject(r);
  }
  const std::chrono::duration<double> elapsed = bench_clock::now() - start;
  redisFree(ctx);
  return static_cast<double>(ops) / elapsed.count();
}

double rapyer_coroutines(const std::string& url, const std::string& test, long ops, int coroutines) {
  asio::io_context ctx(1);
  rapyer::connection conn(ctx.get_executor(), rapyer::connection_config::from_url(url));
  double rate = 0;
  // Shared with the worker coroutines, which outlive the coroutine that starts them.
  const long per_coroutine = ops / coroutines;
  int remaining = coroutines;
  bench_clock::time_point start;
  asio::co_spawn(
      ctx,
      [&]() -> rapyer::awaitable<void> {
        co_await conn.connect();
        start = bench_clock::now();
        for (int c = 0; c < coroutines; ++c) {
          asio::co_spawn(
              ctx,
              [&]() -> rapyer::awaitable<void> {
                for (long i = 0; i < per_coroutine; ++i) {
                  if (test == "INCR") {
                    co_await conn.execute("INCR", "bench:rapyer");
                  } else {
                    co_await conn.execute("SET", "bench:rapyer", i);
                  }
                }
              },
              [&](std::exception_ptr e) {
                if (e) std::rethrow_exception(e);
                if (--remaining == 0) {
                  const std::chrono::duration<double> elapsed = bench_clock::now() - start;
                  rate = static_cast<double>(per_coroutine * coroutines) / elapsed.count();
                  conn.close();
                }
              });
        }
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  ctx.run();
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  options opts;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--ops") {
      opts.ops = std::stol(argv[i + 1]);
    } else if (flag == "--repeat") {
      opts.repeat = std::stoi(argv[i + 1]);
    } else {
      std::cerr << "usage: rapyer_benchmark [--ops N] [--repeat R]\n";
      return 2;
    }
  }
  try {
    rapyer::embedded_server server;
    const std::string url = server.url();
    struct row {
      std::string test;
      std::string name;
      double ops_per_s;
      bool is_rapyer;
    };
    std::vector<row> rows;
    for (const std::string test : {"INCR", "SET"}) {
      const double baseline = measure(opts.repeat, [&] { return redis_benchmark(server.port(), test, opts.ops); });
      rows.push_back({test, "redis-benchmark -P16 -c50", baseline, false});
      // One round trip per command is slow; a tenth of the operations gives a stable rate.
      rows.push_back({test, "raw hiredis (blocking)",
                      measure(opts.repeat, [&] { return raw_hiredis(server.port(), test, opts.ops / 10); }), false});
      for (int coroutines : {1, 64, 1000}) {
        const long ops = coroutines == 1 ? opts.ops / 10 : opts.ops;
        rows.push_back({test, "rapyer " + std::to_string(coroutines) + " coroutines",
                        measure(opts.repeat, [&] { return rapyer_coroutines(url, test, ops, coroutines); }), true});
      }
    }
    std::printf("%-6s %-28s %14s %10s\n", "cmd", "case", "ops/s", "ratio");
    double baseline = 0;
    for (const auto& r : rows) {
      if (!r.is_rapyer && r.name.starts_with("redis-benchmark")) baseline = r.ops_per_s;
      std::printf("%-6s %-28s %14.0f %10.3f\n", r.test.c_str(), r.name.c_str(), r.ops_per_s, r.ops_per_s / baseline);
    }
    for (const auto& r : rows) {
      if (r.name.starts_with("redis-benchmark")) baseline = r.ops_per_s;
      if (!r.is_rapyer) continue;
      std::string name = r.test + "_" + r.name.substr(7);
      std::replace(name.begin(), name.end(), ' ', '_');
      std::printf("RESULT case=%s ops_per_s=%.0f ratio_vs_redis_benchmark=%.3f\n", name.c_str(), r.ops_per_s,
                  r.ops_per_s / baseline);
    }
  } catch (const std::exception& e) {
    std::cerr << "benchmark failed: " << e.what() << '\n';
    return 1;
  }
}

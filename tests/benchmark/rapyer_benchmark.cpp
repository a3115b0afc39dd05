// Throughput measured in ONE run against one private redis-server, as ratios to baselines measured
// in the same run:
//   redis-benchmark -P 16 -c 50   the server's practical limit on this machine
//   raw hiredis                    the same commands, blocking, one round trip per operation
//   rapyer N coroutines            N concurrent coroutines on ONE connection (automatic pipelining)
// The machines are shared and noisy, so each rapyer case alternates with its baseline (A B A B ...,
// --pairs times) and its ratio is the median of the pair-by-pair ratios: both sides of a pair run
// at nearly the same moment. Each rapyer case also reports heap allocations per operation (every
// operator new and malloc of this process during the measured section).
// Groups: INCR and SET (the client), HINCRBY = RedisInt::aincrease and RPUSH = RedisList::aappend
// (field operations), save / get of a 10-field model with 3 collections, HINCRBY+ix = aincrease of
// an indexed field (with its index update), and query = afind(where(age) == v) finding 10 of 1000
// models (index range, then one read).
// The cluster group runs against a private 3-primary Redis Cluster (no replicas): INCR over 10,000
// keys, aincrease, save and get over 1,000 models, all spread over the primaries (one connection
// each), against `redis-benchmark --cluster` sending the same command (get: pipelined raw hiredis).
// Usage: rapyer_benchmark [--ops N] [--pairs P] [--group G]   (always private servers; REDIS_URL is
// ignored; --group runs only the cases of one group, e.g. INCR)
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <rapyer/detail/cluster/key_slot.hpp>
#include <rapyer/detail/command_reader.hpp>
#include <rapyer/rapyer.hpp>
#include <rapyer/testing/embedded_cluster.hpp>
#include <rapyer/testing/embedded_server.hpp>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace asio = boost::asio;
using bench_clock = std::chrono::steady_clock;

// The allocation counter. The C allocator is replaced, not only operator new: libstdc++'s operator
// new, asio's aligned_alloc and hiredis all allocate through it, so every heap allocation of the
// process is counted. Each entry point forwards to glibc's own implementation.
namespace {
std::atomic<std::uint64_t> heap_allocations{0};
void count_allocation() noexcept { heap_allocations.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

// NOLINTBEGIN(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp,readability-inconsistent-declaration-parameter-name)
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* pointer, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);

void* malloc(std::size_t size) noexcept {
  count_allocation();
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
  count_allocation();
  return __libc_calloc(count, size);
}
void* realloc(void* pointer, std::size_t size) noexcept {
  if (size != 0) count_allocation();
  return __libc_realloc(pointer, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  count_allocation();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** result, std::size_t alignment, std::size_t size) noexcept {
  count_allocation();
  *result = __libc_memalign(alignment, size);
  return *result == nullptr ? ENOMEM : 0;
}
}
// NOLINTEND(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp,readability-inconsistent-declaration-parameter-name)

struct BenchModel : rapyer::AtomicRedisModel<BenchModel> {
  rapyer::RedisStr name;
  rapyer::RedisInt age;
  rapyer::RedisFloat score;
  rapyer::RedisBool active;
  std::string email;
  std::string city;
  long long created = 0;
  rapyer::RedisList<std::string> tags;
  rapyer::RedisDict<std::string, std::string> metadata;
  rapyer::RedisSet<std::string> roles;
};
BOOST_DESCRIBE_STRUCT(BenchModel, (), (name, age, score, active, email, city, created, tags, metadata, roles))

struct IndexedModel : rapyer::AtomicRedisModel<IndexedModel> {
  rapyer::RedisStr name;
  rapyer::RedisInt age;
  std::string city;
  static rapyer::model_config redis_config() {
    rapyer::model_config config;
    config.indexes = {"name", "age", "city"};
    return config;
  }
};
BOOST_DESCRIBE_STRUCT(IndexedModel, (), (name, age, city))

namespace {

struct options {
  long ops = 1'000'000;
  int pairs = 5;
  std::string group;  // only this group's cases, when set (e.g. to profile one)
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string shell_quote(std::string_view arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// What the baselines and rapyer run against: one server, or a cluster reached through its nodes.
struct deployment {
  std::string url;     // rapyer's (a cluster's seed list)
  std::uint16_t port;  // redis-benchmark's and raw hiredis's (a cluster's: any node)
  bool cluster;        // redis-benchmark --cluster: its clients and keys spread over the primaries
};

/// redis-benchmark's requests per second for one command line (argv, name first) or one built-in
/// test (`-t incr`): its last test's rate.
double redis_benchmark(const deployment& target, const std::vector<std::string>& arguments, long ops) {
  std::ostringstream command;
  command << "redis-benchmark -h 127.0.0.1 -p " << target.port << (target.cluster ? " --cluster" : "")
          << " -P 16 -c 50 -n " << ops << " --csv";
  for (const auto& arg : arguments) command << ' ' << shell_quote(arg);
  command << " 2>/dev/null";
  FILE* pipe = ::popen(command.str().c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run redis-benchmark");
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  if (::pclose(pipe) != 0) throw std::runtime_error("redis-benchmark failed: " + output);
  // The last CSV line is "<test>","<rps>",...
  const auto line = output.find_last_of('\n', output.size() - 2);
  const auto fields = output.substr(line == std::string::npos ? 0 : line + 1);
  const auto first = fields.find("\",\"");
  if (first == std::string::npos) throw std::runtime_error("unexpected redis-benchmark output: " + output);
  return std::stod(fields.substr(first + 3));
}

/// One round trip of an operation: the commands sent, and how many replies they get.
struct round_trip {
  std::string payload;
  int replies;
};

/// Raw hiredis, blocking: runs an operation's round trips one after another, each waiting for all
/// its replies, `ops` times.
double raw_hiredis(std::uint16_t port, const std::vector<round_trip>& operation, long ops) {
  redisContext* ctx = redisConnect("127.0.0.1", port);
  if (ctx == nullptr || ctx->err != 0) throw std::runtime_error("hiredis cannot connect");
  const auto start = bench_clock::now();
  for (long i = 0; i < ops; ++i) {
    for (const auto& trip : operation) {
      redisAppendFormattedCommand(ctx, trip.payload.data(), trip.payload.size());
      for (int r = 0; r < trip.replies; ++r) {
        void* reply = nullptr;
        if (redisGetReply(ctx, &reply) != REDIS_OK) throw std::runtime_error(std::string("hiredis: ") + ctx->errstr);
        freeReplyObject(reply);
      }
    }
  }
  const std::chrono::duration<double> elapsed = bench_clock::now() - start;
  redisFree(ctx);
  return static_cast<double>(ops) / elapsed.count();
}

/// One primary's share of a pipelined raw hiredis run: its port and the round trips of the
/// operations whose keys it serves (taken in turn), each getting `replies` replies.
struct node_operations {
  std::uint16_t port;
  std::vector<std::string> payloads;
  int replies;
};

/// Raw hiredis pipelining over a cluster's primaries, for operations redis-benchmark cannot send (a
/// MULTI block is several commands): one connection per primary, as many operations in flight in
/// all as redis-benchmark -P 16 -c 50 keeps (800), spread evenly; every connection's batch is
/// written before any is read, so the primaries work at the same time. Returns operations per second.
double raw_hiredis_pipelined(const std::vector<node_operations>& nodes, long ops) {
  constexpr long in_flight = 16 * 50;
  const long depth = in_flight / static_cast<long>(nodes.size());
  std::vector<redisContext*> contexts;
  for (const auto& node : nodes) {
    redisContext* ctx = redisConnect("127.0.0.1", node.port);
    if (ctx == nullptr || ctx->err != 0) throw std::runtime_error("hiredis cannot connect");
    contexts.push_back(ctx);
  }
  std::vector<std::size_t> next(nodes.size(), 0);
  const auto start = bench_clock::now();
  long done = 0;
  while (done < ops) {
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      for (long i = 0; i < depth; ++i) {
        const auto& payload = nodes[n].payloads[next[n]++ % nodes[n].payloads.size()];
        redisAppendFormattedCommand(contexts[n], payload.data(), payload.size());
      }
      for (int written = 0; written == 0;) {
        if (redisBufferWrite(contexts[n], &written) != REDIS_OK) throw std::runtime_error("hiredis write failed");
      }
    }
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      for (long r = 0; r < depth * nodes[n].replies; ++r) {
        void* reply = nullptr;
        if (redisGetReply(contexts[n], &reply) != REDIS_OK) {
          throw std::runtime_error(std::string("hiredis: ") + contexts[n]->errstr);
        }
        freeReplyObject(reply);
      }
    }
    done += depth * static_cast<long>(nodes.size());
  }
  const std::chrono::duration<double> elapsed = bench_clock::now() - start;
  for (auto* ctx : contexts) redisFree(ctx);
  return static_cast<double>(done) / elapsed.count();
}

/// A command line with the hash tag of its key replaced by redis-benchmark --cluster's `{tag}`
/// placeholder in every argument (a model's other keys carry the same tag), so that redis-benchmark
/// sends it to each primary with a tag that primary serves.
std::vector<std::string> with_cluster_tag(std::vector<std::string> argv, const std::string& key) {
  const auto open = key.find('{');
  const std::string tag = key.substr(open, key.find('}', open) - open + 1);
  for (auto& arg : argv) {
    for (auto at = arg.find(tag); at != std::string::npos; at = arg.find(tag, at + 5))
      arg.replace(at, tag.size(), "{tag}");
  }
  return argv;
}

/// The arguments of the single command in `payload` (RESP), for redis-benchmark's command line.
std::vector<std::string> command_line(std::string_view payload) {
  const auto argv = rapyer::detail::split_commands(payload).at(0);
  return {argv.begin(), argv.end()};
}

/// One rapyer measurement: its rate and the heap allocations per operation while it ran.
struct rapyer_rate {
  double ops_per_s;
  double allocations_per_op;
};

/// The completion of the benchmark's coroutines: a failure closes the default client before it
/// leaves io_context::run, so the client never outlives its io_context.
void rethrow_after_teardown(const std::exception_ptr& failure) {
  if (!failure) return;
  rapyer::teardown();
  std::rethrow_exception(failure);
}

/// `coroutines` concurrent coroutines on one connection (on a cluster, one per primary), each running
/// `operation` ops/coroutines times.
rapyer_rate rapyer_coroutines(const std::string& url, long ops, int coroutines,
                              const std::function<rapyer::awaitable<void>(long)>& operation) {
  asio::io_context ctx(1);
  auto config = rapyer::client_config::from_url(url);
  config.pool_size = 1;
  auto redis = std::make_shared<rapyer::client>(ctx.get_executor(), config);
  const long per_coroutine = ops / coroutines;
  int remaining = coroutines;
  bench_clock::time_point start;
  std::uint64_t allocations_at_start = 0;
  rapyer_rate rate{};
  asio::co_spawn(
      ctx,
      [&]() -> rapyer::awaitable<void> {
        co_await redis->connect();
        rapyer::init(redis);
        allocations_at_start = heap_allocations.load();
        start = bench_clock::now();
        for (int c = 0; c < coroutines; ++c) {
          asio::co_spawn(
              ctx,
              [&]() -> rapyer::awaitable<void> {
                for (long i = 0; i < per_coroutine; ++i) co_await operation(i);
              },
              [&](const std::exception_ptr& e) {
                rethrow_after_teardown(e);
                if (--remaining == 0) {
                  const std::chrono::duration<double> elapsed = bench_clock::now() - start;
                  const auto allocations = static_cast<double>(heap_allocations.load() - allocations_at_start);
                  const auto done = static_cast<double>(per_coroutine * coroutines);
                  rate = {done / elapsed.count(), allocations / done};
                  rapyer::teardown();
                }
              });
        }
      },
      [](const std::exception_ptr& e) { rethrow_after_teardown(e); });
  ctx.run();
  return rate;
}

/// Runs one coroutine to completion with a default client on `url`.
void run_once(const std::string& url, const std::function<rapyer::awaitable<void>()>& task) {
  asio::io_context ctx;
  auto redis = std::make_shared<rapyer::client>(ctx.get_executor(), url);
  asio::co_spawn(
      ctx,
      [&]() -> rapyer::awaitable<void> {
        co_await redis->connect();
        rapyer::init(redis);
        co_await task();
        rapyer::teardown();
      },
      [](const std::exception_ptr& e) { rethrow_after_teardown(e); });
  ctx.run();
}

BenchModel sample_model() {
  BenchModel m;
  m.name = "Alice Example";
  m.age = 33;
  m.score = 0.1;
  m.active = true;
  m.email = "alice@example.com";
  m.city = "Tel Aviv";
  m.created = 1732400000;
  m.tags = std::vector<std::string>{"developer", "python", "redis", "c++", "asio"};
  m.metadata = std::map<std::string, std::string>{
      {"team", "backend"}, {"level", "senior"}, {"floor", "3"}, {"desk", "42"}, {"lang", "en"}};
  m.roles = std::set<std::string>{"admin", "dev", "ops"};
  return m;
}

/// A rapyer case and its baseline, measured alternately: baseline, case, baseline, case, ...
struct comparison {
  std::string group;
  std::string name;
  std::string baseline_name;
  double ops_per_s;           // median of the case's rates
  double baseline_ops_per_s;  // median of the baseline's rates
  double ratio;               // median of the pair-by-pair ratios case / baseline
  double allocations_per_op;  // median over the case's runs
};

comparison compare(int pairs, const std::function<double()>& baseline, const std::function<rapyer_rate()>& measured) {
  std::vector<double> baseline_rates;
  std::vector<double> rates;
  std::vector<double> ratios;
  std::vector<double> allocations;
  for (int i = 0; i < pairs; ++i) {
    baseline_rates.push_back(baseline());
    const rapyer_rate r = measured();
    rates.push_back(r.ops_per_s);
    allocations.push_back(r.allocations_per_op);
    ratios.push_back(r.ops_per_s / baseline_rates.back());
  }
  return {{}, {}, {}, median(rates), median(baseline_rates), median(ratios), median(allocations)};
}

}  // namespace

int main(int argc, char** argv) {
  options opts;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--ops") {
      opts.ops = std::stol(argv[i + 1]);
    } else if (flag == "--pairs") {
      opts.pairs = std::stoi(argv[i + 1]);
    } else if (flag == "--group") {
      opts.group = argv[i + 1];
    } else {
      std::cerr << "usage: rapyer_benchmark [--ops N] [--pairs P] [--group G]\n";
      return 2;
    }
  }
  try {
    rapyer::testing::embedded_server server;
    const deployment standalone{server.url(), server.port(), false};
    std::vector<comparison> rows;
    const auto add = [&](const std::string& group, const std::string& name, const std::string& baseline_name,
                         const std::function<double()>& baseline, const std::function<rapyer_rate()>& measured) {
      if (!opts.group.empty() && group != opts.group) return;
      comparison row = compare(opts.pairs, baseline, measured);
      row.group = group;
      row.name = name;
      row.baseline_name = baseline_name;
      rows.push_back(row);
      std::fprintf(stderr, "  measured %s / %s\n", group.c_str(), name.c_str());
    };
    const long slow_ops = opts.ops / 20;  // one round trip per operation: fewer give a stable rate
    const auto coroutines_name = [](const std::string& what, int coroutines) {
      return what + (what.empty() ? "" : " ") + std::to_string(coroutines) + " coroutine" +
             (coroutines == 1 ? "" : "s");
    };

    // The client: INCR and SET.
    for (const std::string command : {"INCR", "SET"}) {
      const std::vector<std::string> argv_ = command == "INCR"
                                                 ? std::vector<std::string>{"INCR", "bench:counter"}
                                                 : std::vector<std::string>{"SET", "bench:value", "12345"};
      rapyer::request one;
      one.push_argv(std::vector<rapyer::detail::command_arg>(argv_.begin(), argv_.end()));
      const auto r_bench = [&] { return redis_benchmark(standalone, argv_, opts.ops); };
      const auto hiredis = [&] { return raw_hiredis(standalone.port, {{std::string(one.payload()), 1}}, slow_ops); };
      for (int coroutines : {1, 64, 1000}) {
        if (command == "SET" && coroutines == 64) continue;
        add(command, coroutines_name("", coroutines), coroutines == 1 ? "raw hiredis" : "redis-benchmark -P16 -c50",
            coroutines == 1 ? std::function<double()>(hiredis) : std::function<double()>(r_bench), [&] {
              return rapyer_coroutines(standalone.url, coroutines == 1 ? slow_ops : opts.ops, coroutines,
                                       [&](long i) -> rapyer::awaitable<void> {
                                         if (command == "INCR") {
                                           co_await rapyer::default_client().execute("INCR", "bench:counter");
                                         } else {
                                           co_await rapyer::default_client().execute("SET", "bench:value", i);
                                         }
                                       });
            });
      }
    }

    // Field operations on one model: aincrease (HINCRBY) and aappend (RPUSH). Each is one call of
    // the field_command script, which runs the command only while the model exists; with many
    // coroutines they are measured against redis-benchmark sending the bare command (the cost of
    // that guard) and sending the same script call (the client's own cost).
    BenchModel model = sample_model();
    const std::string key = model.key();
    run_once(standalone.url, [&]() -> rapyer::awaitable<void> {
      co_await model.save();
      co_await rapyer::default_client().execute("SCRIPT", "LOAD", rapyer::detail::scripts::field_command.source);
    });
    for (const std::string op : {"aincrease", "aappend"}) {
      const std::string group = op == "aincrease" ? "HINCRBY" : "RPUSH";
      const std::vector<std::string> argv_ = op == "aincrease"
                                                 ? std::vector<std::string>{"HINCRBY", key, "age", "1"}
                                                 : std::vector<std::string>{"RPUSH", key + ":tags", "tag"};
      rapyer::request one;
      one.push_argv(std::vector<rapyer::detail::command_arg>(argv_.begin(), argv_.end()));
      rapyer::request guarded;
      rapyer::detail::scripts::push_field_command(guarded, key, argv_[0], argv_[1],
                                                  std::span<const std::string>(argv_).subspan(2));
      const std::vector<std::string> guarded_argv = command_line(guarded.payload());
      const auto r_bench = [&] { return redis_benchmark(standalone, argv_, opts.ops); };
      const auto r_bench_guarded = [&] { return redis_benchmark(standalone, guarded_argv, opts.ops); };
      const auto hiredis = [&] { return raw_hiredis(standalone.port, {{std::string(one.payload()), 1}}, slow_ops); };
      const auto measure = [&](int coroutines) {
        // Each run's local copy of the list starts empty, not with every element the earlier runs
        // appended (the server's list grows alike for both sides).
        model.tags.value().clear();
        return rapyer_coroutines(standalone.url, coroutines == 1 ? slow_ops : opts.ops, coroutines,
                                 [&](long) -> rapyer::awaitable<void> {
                                   if (op == "aincrease") {
                                     co_await model.age.aincrease(1);
                                   } else {
                                     co_await model.tags.aappend("tag");
                                   }
                                 });
      };
      add(group, coroutines_name(op, 1), "raw hiredis", hiredis, [&] { return measure(1); });
      add(group, coroutines_name(op, 1000), "redis-benchmark -P16 -c50", r_bench, [&] { return measure(1000); });
      add(group, coroutines_name(op, 1000), "redis-benchmark -P16 -c50 (EVALSHA)", r_bench_guarded,
          [&] { return measure(1000); });
    }

    // Whole-model save and get: one round trip each, the same commands as raw hiredis sends.
    model = sample_model();
    // get() needs it, even alone.
    run_once(standalone.url, [&]() -> rapyer::awaitable<void> { co_await model.save(); });
    rapyer::request save_request;
    model.append_save(save_request);
    rapyer::request get_request;
    get_request.push("MULTI");
    BenchModel::append_read(get_request, model.key());
    get_request.push("EXEC");
    const std::vector<std::string> save_argv = command_line(save_request.payload());  // the EVALSHA
    const auto save_r_bench = [&] { return redis_benchmark(standalone, save_argv, opts.ops / 5); };
    const auto save_hiredis = [&] {
      return raw_hiredis(standalone.port, {{std::string(save_request.payload()), 1}}, slow_ops);
    };
    for (int coroutines : {1, 1000}) {
      add("save", coroutines_name("save()", coroutines),
          coroutines == 1 ? "raw hiredis" : "redis-benchmark -P16 -c50 (EVALSHA)",
          coroutines == 1 ? std::function<double()>(save_hiredis) : std::function<double()>(save_r_bench), [&] {
            return rapyer_coroutines(standalone.url, coroutines == 1 ? slow_ops : opts.ops / 5, coroutines,
                                     [&](long) -> rapyer::awaitable<void> { co_await model.save(); });
          });
    }
    const auto get_hiredis = [&] {
      return raw_hiredis(standalone.port, {{std::string(get_request.payload()), static_cast<int>(get_request.size())}},
                         slow_ops);
    };
    for (int coroutines : {1, 1000}) {
      add("get", coroutines_name("get()", coroutines), "raw hiredis", get_hiredis, [&] {
        return rapyer_coroutines(standalone.url, coroutines == 1 ? slow_ops : opts.ops / 5, coroutines,
                                 [&](long) -> rapyer::awaitable<void> { (void)co_await BenchModel::get(model.key()); });
      });
    }

    // An indexed field: aincrease runs MULTI, HINCRBY, the index update, EXEC; raw hiredis sends
    // the same. A query finds 10 of 1000 models: ZRANGEBYSCORE, then MULTI, 10 HGETALL, EXEC.
    std::vector<IndexedModel> indexed(1000);
    for (std::size_t i = 0; i < indexed.size(); ++i) {
      indexed[i].name = "name" + std::to_string(i);
      indexed[i].age = static_cast<long long>(i % 100);
      indexed[i].city = i % 2 == 0 ? "Paris" : "Lisbon";
    }
    run_once(standalone.url, [&]() -> rapyer::awaitable<void> { co_await IndexedModel::ainsert(indexed); });
    IndexedModel& counter = indexed[0];
    rapyer::request indexed_increase;
    indexed_increase.push("MULTI").push("HINCRBY", counter.key(), "age", 1);
    const auto& specs = IndexedModel::class_indexes();
    for (const auto& spec : specs) {
      if (spec.path == "age")
        counter.push_reindex(indexed_increase, std::span<const rapyer::detail::index_spec>(&spec, 1));
    }
    indexed_increase.push("EXEC");
    const auto indexed_hiredis = [&] {
      return raw_hiredis(standalone.port, {{std::string(indexed_increase.payload()), 4}}, slow_ops);
    };
    for (int coroutines : {1, 1000}) {
      add("HINCRBY+ix", coroutines_name("aincrease", coroutines), "raw hiredis", indexed_hiredis, [&] {
        return rapyer_coroutines(standalone.url, coroutines == 1 ? slow_ops : opts.ops / 5, coroutines,
                                 [&](long) -> rapyer::awaitable<void> { co_await counter.age.aincrease(1); });
      });
    }
    const long queried_age = 42;
    // A query reads the age index of every bucket (README "Queries on indexed fields").
    const auto& layout = IndexedModel::class_layout();
    rapyer::request range_request;
    for (std::size_t bucket = 0; bucket < layout.buckets(); ++bucket) {
      range_request.push("ZRANGEBYSCORE", layout.index_key(bucket, "age"), queried_age, queried_age);
    }
    rapyer::request read_request;
    read_request.push("MULTI");
    for (const auto& m : indexed) {
      if (m.age.value() == queried_age) IndexedModel::append_read(read_request, m.key());
    }
    read_request.push("EXEC");
    const auto query_hiredis = [&] {
      return raw_hiredis(standalone.port,
                         {{std::string(range_request.payload()), static_cast<int>(range_request.size())},
                          {std::string(read_request.payload()), 12}},
                         slow_ops / 2);
    };
    for (int coroutines : {1, 1000}) {
      add("query", coroutines_name("afind", coroutines), "raw hiredis", query_hiredis, [&] {
        return rapyer_coroutines(standalone.url, coroutines == 1 ? slow_ops / 2 : opts.ops / 20, coroutines,
                                 [&](long) -> rapyer::awaitable<void> {
                                   const auto found =
                                       co_await IndexedModel::afind(rapyer::where(&IndexedModel::age) == queried_age);
                                   if (found.size() != 10) throw std::runtime_error("query found a wrong count");
                                 });
      });
    }

    // A cluster of 3 primaries without replicas (no replication traffic on the shared cores), for
    // 1,000 coroutines against redis-benchmark --cluster sending the same command where one command
    // is the operation (INCR, HINCRBY, save's EVALSHA; its `{tag}` placeholder spreads the key over
    // the primaries), and against pipelined raw hiredis for get (a MULTI block). Every rapyer case
    // spreads its keys over all primaries: INCR over 10,000 keys, the model cases over 1,000
    // models (random ids), taken round-robin.
    if (opts.group.empty() || opts.group == "cluster") {
      rapyer::testing::embedded_cluster_options cluster_options;
      cluster_options.replicas_per_primary = 0;
      const rapyer::testing::embedded_cluster cluster(cluster_options);
      const deployment clustered{cluster.url(), cluster.port(0), true};
      const int coroutines = 1000;
      const std::size_t counter_count = 10'000;
      const std::size_t model_count = 1000;
      std::vector<std::string> counters;  // bench:{i}: each key its own hash tag, so its own slot
      counters.reserve(counter_count);
      for (std::size_t i = 0; i < counter_count; ++i) counters.push_back("bench:{" + std::to_string(i) + "}");
      std::vector<BenchModel> models;
      std::vector<std::string> model_keys;
      models.reserve(model_count);
      model_keys.reserve(model_count);
      for (std::size_t i = 0; i < model_count; ++i) {
        models.push_back(sample_model());
        model_keys.push_back(models.back().key());
      }
      // Saved once before timing, so that the save script is loaded on every node: a first call on
      // a node answers NOSCRIPT and costs one more round trip, which is not what is measured.
      run_once(clustered.url, [&]() -> rapyer::awaitable<void> {
        for (auto& m : models) co_await m.save();
      });
      const auto cluster_benchmark = [&](std::vector<std::string> line, long ops) {
        return [&clustered, line = std::move(line), ops] { return redis_benchmark(clustered, line, ops); };
      };
      const std::string benchmark_name = "redis-benchmark --cluster -P16 -c50 ";
      rapyer::request cluster_save;
      models.front().append_save(cluster_save);
      const auto cluster_save_argv = with_cluster_tag(command_line(cluster_save.payload()), model_keys.front());
      // get's MULTI block per model, grouped by the primary serving it.
      std::vector<node_operations> gets;
      for (const auto primary : cluster.primaries()) gets.push_back({cluster.port(primary), {}, 0});
      for (const auto& model_key : model_keys) {
        rapyer::request model_get;
        model_get.push("MULTI");
        BenchModel::append_read(model_get, model_key);
        model_get.push("EXEC");
        const auto node = cluster.primary_of_slot(rapyer::detail::cluster::key_slot(model_key));
        auto& share =
            *std::find_if(gets.begin(), gets.end(), [&](const auto& g) { return g.port == cluster.port(node); });
        share.payloads.emplace_back(model_get.payload());
        share.replies = static_cast<int>(model_get.size());
      }
      std::size_t next = 0;  // the next counter or model, shared by all coroutines

      add("cluster", coroutines_name("INCR", coroutines), benchmark_name + "INCR",
          cluster_benchmark({"INCR", "bench:{tag}"}, opts.ops), [&] {
            return rapyer_coroutines(clustered.url, opts.ops, coroutines, [&](long) -> rapyer::awaitable<void> {
              co_await rapyer::default_client().execute("INCR", counters[next++ % counters.size()]);
            });
          });
      add("cluster", coroutines_name("aincrease", coroutines), benchmark_name + "HINCRBY",
          cluster_benchmark(with_cluster_tag({"HINCRBY", model_keys.front(), "age", "1"}, model_keys.front()),
                            opts.ops),
          [&] {
            return rapyer_coroutines(clustered.url, opts.ops, coroutines, [&](long) -> rapyer::awaitable<void> {
              co_await models[next++ % models.size()].age.aincrease(1);
            });
          });
      add("cluster", coroutines_name("save()", coroutines), benchmark_name + "EVALSHA",
          cluster_benchmark(cluster_save_argv, opts.ops / 5), [&] {
            return rapyer_coroutines(clustered.url, opts.ops / 5, coroutines, [&](long) -> rapyer::awaitable<void> {
              co_await models[next++ % models.size()].save();
            });
          });
      add(
          "cluster", coroutines_name("get()", coroutines), "raw hiredis pipelined, 800 in flight",
          [&] { return raw_hiredis_pipelined(gets, opts.ops / 5); },
          [&] {
            return rapyer_coroutines(clustered.url, opts.ops / 5, coroutines, [&](long) -> rapyer::awaitable<void> {
              (void)co_await BenchModel::get(model_keys[next++ % model_keys.size()]);
            });
          });
    }

    std::printf("%d pairs; ratio = median of the pair-by-pair ratios\n", opts.pairs);
    std::printf("%-10s %-26s %12s %-34s %12s %7s %10s\n", "group", "rapyer case", "ops/s", "baseline", "ops/s", "ratio",
                "allocs/op");
    for (const auto& r : rows) {
      std::printf("%-10s %-26s %12.0f %-34s %12.0f %7.3f %10.2f\n", r.group.c_str(), r.name.c_str(), r.ops_per_s,
                  r.baseline_name.c_str(), r.baseline_ops_per_s, r.ratio, r.allocations_per_op);
    }
    for (const auto& r : rows) {
      std::string name = r.group + "_" + r.name;
      std::string baseline = r.baseline_name;  // whole: a case may have two baselines of one program
      std::replace(name.begin(), name.end(), ' ', '_');
      std::replace(baseline.begin(), baseline.end(), ' ', '_');
      std::printf("RESULT case=%s ops_per_s=%.0f baseline=%s ratio=%.3f allocations_per_op=%.2f\n", name.c_str(),
                  r.ops_per_s, baseline.c_str(), r.ratio, r.allocations_per_op);
    }
  } catch (const std::exception& e) {
    std::cerr << "benchmark failed: " << e.what() << '\n';
    return 1;
  }
}

// The Python original's quick example, line for line in C++ (see README). Uses REDIS_URL, or a
// private redis-server started for the run. Like the original it leaves the model in Redis.
#include <rapyer/rapyer.hpp>
#include <rapyer/testing/embedded_server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/describe.hpp>
#include <iostream>
#include <map>
#include <string>

struct User : rapyer::AtomicRedisModel<User> {
  rapyer::RedisStr name;
  rapyer::RedisInt age;
  rapyer::RedisList<std::string> tags;
  rapyer::RedisDict<std::string, std::string> metadata;
};
BOOST_DESCRIBE_STRUCT(User, (), (name, age, tags, metadata))

rapyer::awaitable<void> run(std::string url) {
  co_await rapyer::init(url);

  // Create and save
  User user;
  user.name = "Alice";
  user.age = 25;
  co_await user.save();

  // Atomic operations
  co_await user.tags.aappend("developer");
  co_await user.tags.aextend("python", "redis");
  co_await user.metadata.aupdate(std::pair{"team", "backend"}, std::pair{"level", "senior"});

  // Load and verify
  User loaded = co_await User::get(user.key());
  std::cout << "User: " << loaded.name << ", Tags: [";
  for (std::size_t i = 0; i < loaded.tags.size(); ++i) std::cout << (i ? ", " : "") << "'" << loaded.tags[i] << "'";
  std::cout << "]\n";
  std::cout << "Stored at " << user.key() << " (try: redis-cli HGETALL '" << user.key() << "')\n";

  const bool as_expected =
      loaded.name == "Alice" && loaded.age == 25 &&
      loaded.tags == std::vector<std::string>{"developer", "python", "redis"} &&
      loaded.metadata == std::map<std::string, std::string>{{"level", "senior"}, {"team", "backend"}};
  rapyer::teardown();
  if (!as_expected) throw std::runtime_error("the loaded user differs from what was saved");
}

int main() {
  try {
    std::unique_ptr<rapyer::testing::embedded_server> server;  // started only when REDIS_URL is unset
    const std::string url = rapyer::testing::embedded_server::url_from_environment(server);
    boost::asio::io_context ctx;
    std::exception_ptr failure;
    boost::asio::co_spawn(ctx, run(url), [&](std::exception_ptr e) { failure = std::move(e); });
    ctx.run();
    if (failure) std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    std::cerr << "quickstart failed: " << e.what() << '\n';
    return 1;
  }
}

// The random source behind model ids and lock tokens: distinct across fork(), well formed.
#include "rapyer/detail/random.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/describe.hpp>
#include <cstdio>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "rapyer/rapyer.hpp"

namespace {

struct Worker : rapyer::AtomicRedisModel<Worker> {
  rapyer::RedisInt jobs;
};
BOOST_DESCRIBE_STRUCT(Worker, (), (jobs))

// Forks `workers` children; each writes `per_worker` values made by `make`, one per line, to a
// pipe. Returns every value the children wrote; fails the test when a child failed.
std::vector<std::string> collect_from_forks(int workers, int per_worker, const std::function<std::string()>& make) {
  std::vector<std::string> values;
  std::vector<std::pair<pid_t, FILE*>> children;
  for (int w = 0; w < workers; ++w) {
    int fds[2];
    if (::pipe(fds) != 0) ADD_FAILURE() << "pipe failed";
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      FILE* out = ::fdopen(fds[1], "w");
      for (int i = 0; i < per_worker; ++i) std::fprintf(out, "%s\n", make().c_str());
      std::fclose(out);
      ::_exit(0);
    }
    ::close(fds[1]);
    children.emplace_back(pid, ::fdopen(fds[0], "r"));
  }
  for (auto& [pid, in] : children) {
    char line[128];
    while (std::fgets(line, sizeof line, in) != nullptr) values.emplace_back(line, std::strlen(line) - 1);
    std::fclose(in);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  return values;
}

TEST(Random, ForkedWorkersCreateDistinctModelIds) {
  const Worker parent;  // the parent draws first, as a prefork service would
  const auto ids = collect_from_forks(8, 1000, [] { return Worker().id(); });
  ASSERT_EQ(ids.size(), 8000U);
  std::set<std::string> distinct(ids.begin(), ids.end());
  distinct.insert(parent.id());
  EXPECT_EQ(distinct.size(), 8001U);
}

TEST(Random, ForkedWorkersCreateDistinctLockTokens) {
  const std::string parent = rapyer::detail::random_hex(16);
  const auto tokens = collect_from_forks(8, 1000, [] { return rapyer::detail::random_hex(16); });
  ASSERT_EQ(tokens.size(), 8000U);
  std::set<std::string> distinct(tokens.begin(), tokens.end());
  distinct.insert(parent);
  EXPECT_EQ(distinct.size(), 8001U);
  for (const auto& token : tokens) ASSERT_EQ(token.size(), 32U);
}

TEST(Random, Uuid4HasVersionAndVariant) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = rapyer::detail::new_uuid4();
    ASSERT_EQ(id.size(), 36U);
    EXPECT_EQ(id[8], '-');
    EXPECT_EQ(id[13], '-');
    EXPECT_EQ(id[14], '4');
    EXPECT_EQ(id[18], '-');
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
    EXPECT_EQ(id[23], '-');
  }
}

TEST(Random, BetweenStaysInBoundsAndCoversThem) {
  std::set<std::int64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const auto v = rapyer::detail::random_between(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 7U);
  EXPECT_EQ(rapyer::detail::random_between(5, 5), 5);
  EXPECT_EQ(rapyer::detail::random_between(5, 1), 5);
  const auto d = rapyer::detail::random_between(std::chrono::milliseconds(10), std::chrono::milliseconds(20));
  EXPECT_GE(d.count(), 10);
  EXPECT_LE(d.count(), 20);
}

}  // namespace

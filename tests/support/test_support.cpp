#include "test_support.hpp"

#include <memory>

namespace rapyer::test {
namespace {

std::unique_ptr<embedded_server> shared_server;
std::string shared_url;

class redis_environment : public ::testing::Environment {
 public:
  void SetUp() override {
    shared_server = std::make_unique<embedded_server>();
    shared_url = shared_server->url();
  }
  void TearDown() override { shared_server.reset(); }
};

}  // namespace

const std::string& server_url() { return shared_url; }
std::uint16_t server_port() { return shared_server->port(); }

void redis_test::SetUp() {
  run([]() -> awaitable<void> {
    connection conn(co_await boost::asio::this_coro::executor, connection_config::from_url(server_url()));
    co_await conn.connect();
    co_await conn.execute("FLUSHALL");
  }());
}

}  // namespace rapyer::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new rapyer::test::redis_environment);  // owned by GoogleTest
  return RUN_ALL_TESTS();
}

// TLS (rediss://) against private redis-servers listening with certificates the tests generate.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <string>

#include "rapyer/rapyer.hpp"
#include "rapyer/testing/embedded_server.hpp"
#include "test_certificates.hpp"
#include "test_support.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using rapyer::awaitable;
using rapyer::connection;
using rapyer::connection_config;
using rapyer::test::certificates;
using rapyer::test::sleep_for;
using rapyer::testing::embedded_server;

struct Account : rapyer::AtomicRedisModel<Account> {
  rapyer::RedisStr owner;
  rapyer::RedisInt balance;
  rapyer::RedisList<std::string> history;
};
BOOST_DESCRIBE_STRUCT(Account, (), (owner, balance, history))

rapyer::testing::embedded_server_options tls_server_options(bool require_client_certificate) {
  rapyer::testing::embedded_server_options options;
  options.tls = rapyer::testing::embedded_server_tls{certificates().server_cert_file, certificates().server_key_file,
                                                     certificates().ca_file, require_client_certificate};
  return options;
}

class TlsTest : public ::testing::Test {
 protected:
  template <class T>
  T run(awaitable<T> task) {
    return rapyer::test::run(ctx_, std::move(task));
  }
  /// The server's rediss:// URL trusting our CA, plus `params`.
  std::string verified_url(const embedded_server& server, const std::string& params = "") const {
    return server.tls_url() + "?ssl_ca_certs=" + certificates().ca_file + params;
  }
  /// Connects with `url` and returns what the connection failed with ("" if it connected).
  std::string connect_error(const std::string& url) {
    auto config = connection_config::from_url(url);
    config.connect_timeout = 1s;
    return run([&]() -> awaitable<std::string> {
      connection conn(co_await asio::this_coro::executor, config);
      try {
        co_await conn.connect();
      } catch (const rapyer::tls_error& e) {
        co_return std::string("tls_error: ") + e.what();
      } catch (const rapyer::connection_error& e) {
        co_return std::string("connection_error: ") + e.what();
      } catch (const rapyer::timeout_error& e) {
        co_return std::string("timeout_error: ") + e.what();
      }
      co_return std::string();
    }());
  }
  asio::io_context ctx_;
};

// Many concurrent requests, large ones included, coalesced into TLS records: every reply reaches
// its own caller; and models work unchanged over a TLS client.
TEST_F(TlsTest, VerifiedConnectionServesPipelinedCommandsAndModels) {
  embedded_server server(tls_server_options(false));
  int correct = 0;
  int wrong = 0;
  run([&]() -> awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    connection conn(executor, connection_config::from_url(verified_url(server)));
    co_await conn.connect();
    int done = 0;
    for (int i = 0; i < 1000; ++i) {
      asio::co_spawn(
          executor,
          [&, i]() -> awaitable<void> {
            const std::string payload = std::to_string(i) + std::string(i % 100 == 0 ? 200000 : i, 'x');
            if ((co_await conn.execute("ECHO", payload)).as_string() == payload) {
              ++correct;
            } else {
              ++wrong;
            }
          },
          [&](std::exception_ptr e) {
            EXPECT_FALSE(e);
            ++done;
          });
    }
    while (done < 1000) co_await sleep_for(1ms);

    auto redis = std::make_shared<rapyer::client>(executor, verified_url(server));
    co_await redis->connect();
    rapyer::init(redis);
    Account account;
    account.owner = "tls";
    co_await account.save();
    co_await account.balance.aincrease(42);
    co_await account.history.aappend("deposit");
    const Account loaded = co_await Account::get(account.key());
    EXPECT_EQ(loaded.owner.value(), "tls");
    EXPECT_EQ(loaded.balance, 42);
    EXPECT_EQ(loaded.history.value(), std::vector<std::string>{"deposit"});
    rapyer::teardown();
  }());
  EXPECT_EQ(correct, 1000);
  EXPECT_EQ(wrong, 0);
}

TEST_F(TlsTest, CertificateFromAnUntrustedCaIsRejected) {
  embedded_server server(tls_server_options(false));
  const std::string unrelated = connect_error(server.tls_url() + "?ssl_ca_certs=" + certificates().unrelated_ca_file);
  EXPECT_EQ(unrelated.rfind("tls_error: ", 0), 0u) << unrelated;
  EXPECT_NE(unrelated.find("certificate verify failed"), std::string::npos) << unrelated;
  const std::string system_store = connect_error(server.tls_url());
  EXPECT_EQ(system_store.rfind("tls_error: ", 0), 0u) << system_store;
}

TEST_F(TlsTest, CertificateMustNameTheServer) {
  embedded_server server(tls_server_options(false));
  const std::string wrong_name = connect_error(verified_url(server, "&ssl_server_hostname=redis.example.com"));
  EXPECT_EQ(wrong_name.rfind("tls_error: ", 0), 0u) << wrong_name;
  EXPECT_EQ(connect_error(verified_url(server, "&ssl_server_hostname=localhost")), "");
  EXPECT_EQ(connect_error(verified_url(server)), "") << "the certificate names IP 127.0.0.1";
}

TEST_F(TlsTest, VerificationCanBeTurnedOffExplicitly) {
  embedded_server server(tls_server_options(false));
  EXPECT_EQ(connect_error(server.tls_url() + "?ssl_cert_reqs=none"), "");
}

TEST_F(TlsTest, PlainTextToTheTlsPortAndTlsToThePlainPortFail) {
  embedded_server server(tls_server_options(false));
  const std::string plain_to_tls = connect_error("redis://127.0.0.1:" + std::to_string(server.tls_port()));
  EXPECT_EQ(plain_to_tls.rfind("connection_error: ", 0), 0u) << plain_to_tls;
  // A plain server reads the TLS hello as an unfinished inline command and never answers.
  const std::string tls_to_plain =
      connect_error("rediss://127.0.0.1:" + std::to_string(server.port()) + "?ssl_ca_certs=" + certificates().ca_file);
  EXPECT_EQ(tls_to_plain.rfind("timeout_error: ", 0), 0u) << tls_to_plain;
  EXPECT_NE(tls_to_plain.find("TLS handshake"), std::string::npos) << tls_to_plain;
}

TEST_F(TlsTest, ServerRequiringClientCertificates) {
  embedded_server server(tls_server_options(true));
  EXPECT_NE(connect_error(verified_url(server)), "") << "connected without a client certificate";
  EXPECT_EQ(connect_error(verified_url(server, "&ssl_certfile=" + certificates().client_cert_file +
                                                   "&ssl_keyfile=" + certificates().client_key_file)),
            "");
}

TEST_F(TlsTest, UnreadableFilesAreConfigErrors) {
  auto config = connection_config::from_url("rediss://127.0.0.1:1?ssl_ca_certs=/nonexistent/ca.pem");
  EXPECT_THROW(connection(ctx_.get_executor(), config), rapyer::config_error);
  config.tls.ca_file = certificates().ca_file;
  config.tls.cert_file = certificates().client_cert_file;
  EXPECT_THROW(connection(ctx_.get_executor(), config), rapyer::config_error) << "a certificate without its key";
}

TEST_F(TlsTest, ReconnectsOverTlsAfterARestart) {
  embedded_server server(tls_server_options(false));
  run([&]() -> awaitable<void> {
    connection conn(co_await asio::this_coro::executor, connection_config::from_url(verified_url(server)));
    co_await conn.connect();
    co_await conn.execute("SET", "k", "before");
    server.kill();
    server.start();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (conn.reconnect_count() == 0 && std::chrono::steady_clock::now() < deadline) {
      try {
        co_await conn.execute("PING");
      } catch (const rapyer::connection_error&) {
      }
      co_await sleep_for(10ms);
    }
    EXPECT_EQ(conn.reconnect_count(), 1u);
    co_await conn.execute("SET", "k", "after");
    const auto value = co_await conn.execute("GET", "k");
    EXPECT_EQ(value.as_string(), "after");
  }());
}

}  // namespace

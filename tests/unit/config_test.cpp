#include "rapyer/config.hpp"

#include <gtest/gtest.h>

#include "rapyer/error.hpp"

namespace {

using rapyer::connection_config;

TEST(ConnectionConfig, DefaultsAreDocumentedValues) {
  const connection_config c;
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 6379);
  EXPECT_EQ(c.database, 0);
  EXPECT_EQ(c.client_name, "rapyer");
  EXPECT_EQ(c.command_timeout.count(), 5000);
  EXPECT_TRUE(c.auto_reconnect);
}

TEST(ConnectionConfig, ParsesHostPortAndDatabase) {
  const auto c = connection_config::from_url("redis://localhost:7000/3");
  EXPECT_EQ(c.host, "localhost");
  EXPECT_EQ(c.port, 7000);
  EXPECT_EQ(c.database, 3);
  EXPECT_TRUE(c.password.empty());
  EXPECT_EQ(connection_config::from_url("redis://example.com").port, 6379);
}

TEST(ConnectionConfig, ParsesCredentialsWithPercentEncoding) {
  const auto c = connection_config::from_url("redis://alice:p%40ss%3Aword@127.0.0.1:6380");
  EXPECT_EQ(c.username, "alice");
  EXPECT_EQ(c.password, "p@ss:word");
  const auto password_only = connection_config::from_url("redis://:secret@127.0.0.1");
  EXPECT_TRUE(password_only.username.empty());
  EXPECT_EQ(password_only.password, "secret");
}

TEST(ConnectionConfig, ParsesIpv6Hosts) {
  const auto c = connection_config::from_url("redis://[::1]:6390");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 6390);
}

TEST(ConnectionConfig, ParsesUnixSockets) {
  const auto c = connection_config::from_url("unix:///tmp/redis.sock?db=2");
  EXPECT_EQ(c.unix_socket, "/tmp/redis.sock");
  EXPECT_EQ(c.database, 2);
  EXPECT_EQ(c.endpoint(), "unix:/tmp/redis.sock");
}

TEST(ConnectionConfig, EndpointNeverShowsCredentials) {
  const auto c = connection_config::from_url("redis://bob:hunter2@10.0.0.1:6379");
  EXPECT_EQ(c.endpoint(), "10.0.0.1:6379");
}

TEST(ConnectionConfig, RejectsMalformedUrls) {
  for (const char* bad : {"http://x", "redis://host:notaport", "redis://host:99999", "redis://host/db", "redis://[::1",
                          "unix://", "redis://host:6379/1?x=%zz", "redis://a%2@h"}) {
    EXPECT_THROW((void)connection_config::from_url(bad), rapyer::config_error) << bad;
  }
}

TEST(ConnectionConfig, MalformedUrlMessageHidesThePassword) {
  try {
    (void)connection_config::from_url("redis://u:topsecret@host:bad");
    FAIL();
  } catch (const rapyer::config_error& e) {
    EXPECT_EQ(std::string(e.what()).find("topsecret"), std::string::npos) << e.what();
  }
}

TEST(ConnectionConfig, RedissEnablesVerifiedTls) {
  const auto plain = connection_config::from_url("redis://h");
  EXPECT_FALSE(plain.tls.enabled);
  const auto c = connection_config::from_url("rediss://u:pw@cache.example.com:6380/2");
  EXPECT_TRUE(c.tls.enabled);
  EXPECT_TRUE(c.tls.verify_peer);
  EXPECT_TRUE(c.tls.ca_file.empty());
  EXPECT_EQ(c.host, "cache.example.com");
  EXPECT_EQ(c.port, 6380);
  EXPECT_EQ(c.database, 2);
  EXPECT_EQ(c.password, "pw");
}

TEST(ConnectionConfig, ParsesTlsParameters) {
  const auto c = connection_config::from_url(
      "rediss://127.0.0.1:6390?ssl_ca_certs=/etc/ca%20dir/ca.pem&ssl_certfile=/c.pem&ssl_keyfile=/k.pem"
      "&ssl_server_hostname=redis.internal&ssl_cert_reqs=required");
  EXPECT_EQ(c.tls.ca_file, "/etc/ca dir/ca.pem");
  EXPECT_EQ(c.tls.cert_file, "/c.pem");
  EXPECT_EQ(c.tls.key_file, "/k.pem");
  EXPECT_EQ(c.tls.server_name, "redis.internal");
  EXPECT_TRUE(c.tls.verify_peer);
  EXPECT_FALSE(connection_config::from_url("rediss://h?ssl_cert_reqs=none").tls.verify_peer);
  EXPECT_EQ(connection_config::from_url("redis://h/1?db=4").database, 4);
}

TEST(ConnectionConfig, RejectsTlsParametersWithoutRediss) {
  for (const char* bad : {"redis://h?ssl_ca_certs=/ca.pem", "rediss://h?ssl_cert_reqs=maybe", "rediss://h?tls=1",
                          "unix:///s.sock?ssl_certfile=/c.pem"}) {
    EXPECT_THROW((void)connection_config::from_url(bad), rapyer::config_error) << bad;
  }
}

}  // namespace

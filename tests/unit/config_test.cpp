#include "rapyer/config.hpp"

#include <gtest/gtest.h>

#include "rapyer/error.hpp"

namespace {

using namespace std::chrono_literals;
using rapyer::client_config;
using rapyer::connection_config;

// The config_error message of from_url(url), or "" when it parses.
template <class Config>
std::string url_error(const std::string& url) {
  try {
    (void)Config::from_url(url);
  } catch (const rapyer::config_error& e) {
    return e.what();
  }
  return "";
}

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
  EXPECT_EQ(url_error<connection_config>("redis://h?ssl_keyfile=/k.pem"),
            "parameter 'ssl_keyfile' needs a rediss:// or rediss-sentinel:// URL (TLS)");
  EXPECT_EQ(url_error<connection_config>("rediss://h?ssl_cert_reqs=maybe"),
            "invalid ssl_cert_reqs in Redis URL: 'maybe' (none or required)");
}

TEST(ConnectionConfig, CredentialParametersOnlyInUnixUrls) {
  const auto c = connection_config::from_url("unix:///s.sock?user=app&password=p%26w");
  EXPECT_EQ(c.username, "app");
  EXPECT_EQ(c.password, "p&w");
  EXPECT_EQ(url_error<connection_config>("redis://h?password=x"),
            "parameter 'password' is for unix:// URLs; other URLs give it before the host");
}

TEST(ConnectionConfig, ParsesConnectionOptions) {
  const auto c = connection_config::from_url(
      "redis://h:7000?client_name=billing%20worker&connect_timeout=250&command_timeout=2s"
      "&health_check_interval=1500ms&reconnect_min_delay=5&reconnect_max_delay=10s"
      "&auto_reconnect=false&wait_for_reconnect=no&tcp_keepalive=0");
  EXPECT_EQ(c.client_name, "billing worker");
  EXPECT_EQ(c.connect_timeout, 250ms);
  EXPECT_EQ(c.command_timeout, 2000ms);
  EXPECT_EQ(c.health_check_interval, 1500ms);
  EXPECT_EQ(c.reconnect_min_delay, 5ms);
  EXPECT_EQ(c.reconnect_max_delay, 10000ms);
  EXPECT_FALSE(c.auto_reconnect);
  EXPECT_FALSE(c.wait_for_reconnect);
  EXPECT_FALSE(c.tcp_keepalive);
}

TEST(ConnectionConfig, OptionsWorkWithEveryScheme) {
  const auto unix = connection_config::from_url("unix:///s.sock?db=1&command_timeout=0&client_name=");
  EXPECT_EQ(unix.unix_socket, "/s.sock");
  EXPECT_EQ(unix.database, 1);
  EXPECT_EQ(unix.command_timeout, 0ms);
  EXPECT_EQ(unix.client_name, "");
  const auto tls = connection_config::from_url("rediss://h?ssl_cert_reqs=none&connect_timeout=3s&tcp_keepalive=yes");
  EXPECT_FALSE(tls.tls.verify_peer);
  EXPECT_EQ(tls.connect_timeout, 3000ms);
  EXPECT_TRUE(tls.tcp_keepalive);
}

TEST(ConnectionConfig, ParsesEveryBooleanSpelling) {
  for (const char* yes : {"true", "1", "yes"}) {
    EXPECT_TRUE(connection_config::from_url(std::string("redis://h?auto_reconnect=") + yes).auto_reconnect) << yes;
  }
  for (const char* no : {"false", "0", "no"}) {
    EXPECT_FALSE(connection_config::from_url(std::string("redis://h?auto_reconnect=") + no).auto_reconnect) << no;
  }
}

TEST(ConnectionConfig, RejectsBadOptionValuesNamingTheOption) {
  const std::string durations = "(milliseconds, or a whole number followed by ms or s)";
  EXPECT_EQ(url_error<connection_config>("redis://h?connect_timeout=-5"),
            "invalid connect_timeout in Redis URL: '-5' " + durations);
  EXPECT_EQ(url_error<connection_config>("redis://h?command_timeout=5m"),
            "invalid command_timeout in Redis URL: '5m' " + durations);
  EXPECT_EQ(url_error<connection_config>("redis://h?health_check_interval="),
            "invalid health_check_interval in Redis URL: '' " + durations);
  EXPECT_EQ(url_error<connection_config>("redis://h?reconnect_max_delay=1.5s"),
            "invalid reconnect_max_delay in Redis URL: '1.5s' " + durations);
  EXPECT_EQ(url_error<connection_config>("redis://h?reconnect_min_delay=ms"),
            "invalid reconnect_min_delay in Redis URL: 'ms' " + durations);
  EXPECT_EQ(url_error<connection_config>("redis://h?connect_timeout=99999999999999999999s"),
            "invalid connect_timeout in Redis URL: '99999999999999999999s' " + durations);
  EXPECT_EQ(url_error<connection_config>("redis://h?connect_timeout=9223372036854776s"),
            "invalid connect_timeout in Redis URL: '9223372036854776s' " + durations);
  EXPECT_EQ(url_error<connection_config>("redis://h?connect_timeout=3000000000s"),
            "invalid connect_timeout in Redis URL: '3000000000s' " + durations);
  EXPECT_EQ(connection_config::from_url("redis://h?connect_timeout=2000000000s").connect_timeout,
            std::chrono::seconds{2000000000});
  EXPECT_EQ(url_error<connection_config>("redis://h?auto_reconnect=on"),
            "invalid auto_reconnect in Redis URL: 'on' (true, false, 1, 0, yes or no)");
  EXPECT_EQ(url_error<connection_config>("redis://h?tcp_keepalive"),
            "invalid tcp_keepalive in Redis URL: '' (true, false, 1, 0, yes or no)");
  EXPECT_EQ(url_error<connection_config>("redis://h?wait_for_reconnect=TRUE"),
            "invalid wait_for_reconnect in Redis URL: 'TRUE' (true, false, 1, 0, yes or no)");
  EXPECT_EQ(url_error<connection_config>("redis://h?db=-1"),
            "invalid db in Redis URL: '-1' (a whole number, at least 0)");
}

TEST(ConnectionConfig, RejectsUnknownOptions) {
  EXPECT_EQ(url_error<connection_config>("redis://h?command_timeout=1&socket_timeout=1"),
            "unknown parameter in Redis URL: 'socket_timeout'");
  EXPECT_EQ(url_error<connection_config>("unix:///s.sock?Client_Name=x"),
            "unknown parameter in Redis URL: 'Client_Name'");
  EXPECT_EQ(url_error<client_config>("rediss://h?max_connections=3"),
            "unknown parameter in Redis URL: 'max_connections'");
}

TEST(ConnectionConfig, RejectsClientOptions) {
  for (const char* name : {"pool_size", "max_leases", "lease_wait_timeout", "lease_idle_timeout", "wait_replicas",
                           "wait_timeout", "cluster_max_redirects", "cluster_refresh_interval", "read_from_replicas"}) {
    EXPECT_EQ(url_error<connection_config>(std::string("redis://h?") + name + "=1"),
              std::string("parameter '") + name + "' is a client option: use client_config::from_url");
  }
}

TEST(ClientConfig, DefaultsAreDocumentedValues) {
  const client_config c;
  EXPECT_EQ(c.pool_size, 2u);
  EXPECT_EQ(c.max_leases, 64u);
  EXPECT_EQ(c.lease_wait_timeout, 5000ms);
  EXPECT_EQ(c.lease_idle_timeout, 60000ms);
  EXPECT_EQ(c.wait_replicas, 0);
  EXPECT_EQ(c.wait_timeout, 1000ms);
  EXPECT_EQ(c.cluster.max_redirects, 16);
  EXPECT_EQ(c.cluster.refresh_interval, 30000ms);
  EXPECT_FALSE(c.cluster.read_from_replicas);
  EXPECT_EQ(client_config::from_url("redis://h").max_leases, 64u);
}

TEST(ClientConfig, ParsesDurabilityAndClusterOptions) {
  const auto c = client_config::from_url(
      "redis://h1:7000,h2:7001?wait_replicas=1&wait_timeout=250ms&cluster_max_redirects=5&cluster_refresh_interval=2s"
      "&read_from_replicas=yes");
  EXPECT_TRUE(c.cluster.read_from_replicas);
  EXPECT_EQ(c.wait_replicas, 1);
  EXPECT_EQ(c.wait_timeout, 250ms);
  EXPECT_EQ(c.cluster.max_redirects, 5);
  EXPECT_EQ(c.cluster.refresh_interval, 2000ms);
  EXPECT_EQ(url_error<client_config>("redis://h?wait_replicas=-1"),
            "invalid wait_replicas in Redis URL: '-1' (a whole number, at least 0)");
}

TEST(ClientConfig, ParsesClientAndConnectionOptions) {
  const auto c = client_config::from_url(
      "redis://u:pw@h:7000/2?pool_size=4&max_leases=8&lease_wait_timeout=200&lease_idle_timeout=1s"
      "&client_name=jobs&command_timeout=750ms");
  EXPECT_EQ(c.pool_size, 4u);
  EXPECT_EQ(c.max_leases, 8u);
  EXPECT_EQ(c.lease_wait_timeout, 200ms);
  EXPECT_EQ(c.lease_idle_timeout, 1000ms);
  EXPECT_EQ(c.connection.client_name, "jobs");
  EXPECT_EQ(c.connection.command_timeout, 750ms);
  EXPECT_EQ(c.connection.host, "h");
  EXPECT_EQ(c.connection.port, 7000);
  EXPECT_EQ(c.connection.database, 2);
  EXPECT_EQ(c.connection.username, "u");
  EXPECT_EQ(c.connection.password, "pw");
}

TEST(ClientConfig, OptionsWorkWithEveryScheme) {
  const auto unix = client_config::from_url("unix:///run/redis.sock?max_leases=3&lease_idle_timeout=0");
  EXPECT_EQ(unix.connection.unix_socket, "/run/redis.sock");
  EXPECT_EQ(unix.max_leases, 3u);
  EXPECT_EQ(unix.lease_idle_timeout, 0ms);
  const auto tls = client_config::from_url("rediss://h?ssl_cert_reqs=none&pool_size=1");
  EXPECT_TRUE(tls.connection.tls.enabled);
  EXPECT_FALSE(tls.connection.tls.verify_peer);
  EXPECT_EQ(tls.pool_size, 1u);
}

TEST(ClientConfig, RejectsBadOptionValuesNamingTheOption) {
  const std::string counts = "(a whole number, at least 1)";
  EXPECT_EQ(url_error<client_config>("redis://h?pool_size=0"), "invalid pool_size in Redis URL: '0' " + counts);
  EXPECT_EQ(url_error<client_config>("redis://h?max_leases=-2"), "invalid max_leases in Redis URL: '-2' " + counts);
  EXPECT_EQ(url_error<client_config>("redis://h?max_leases=4x"), "invalid max_leases in Redis URL: '4x' " + counts);
  EXPECT_EQ(url_error<client_config>("redis://h?lease_wait_timeout=-1"),
            "invalid lease_wait_timeout in Redis URL: '-1' (milliseconds, or a whole number followed by ms or s)");
  EXPECT_EQ(url_error<client_config>("redis://h?lease_idle_timeout=1h"),
            "invalid lease_idle_timeout in Redis URL: '1h' (milliseconds, or a whole number followed by ms or s)");
  EXPECT_EQ(url_error<client_config>("redis://h?connect_timeout=x"),
            "invalid connect_timeout in Redis URL: 'x' (milliseconds, or a whole number followed by ms or s)");
}

}  // namespace

TEST(ConnectionConfig, HostListGivesClusterSeeds) {
  const auto c = connection_config::from_url("rediss://u:pw@h1:7001,h2:7002,[::1]:7003,h4/2?command_timeout=1s");
  EXPECT_EQ(c.host, "h1");
  EXPECT_EQ(c.port, 7001);
  const std::vector<rapyer::host_port> seeds{{"h2", 7002}, {"::1", 7003}, {"h4", 6379}};
  EXPECT_EQ(c.seeds, seeds);
  EXPECT_EQ(c.username, "u");
  EXPECT_EQ(c.password, "pw");
  EXPECT_EQ(c.database, 2);
  EXPECT_TRUE(c.tls.enabled);
  EXPECT_EQ(c.command_timeout, 1s);
  EXPECT_TRUE(connection_config::from_url("redis://h1:7001").seeds.empty());
  EXPECT_EQ(url_error<connection_config>("redis://h1:7001,,h3:7003"), "empty host in the Redis URL's host list");
  EXPECT_EQ(url_error<connection_config>("redis://h1:7001,h2:x"), "invalid port in Redis URL: 'x'");
}

TEST(ConnectionConfig, ParsesSentinelUrls) {
  const auto c = connection_config::from_url(
      "redis-sentinel://app:p%40ss@s1:26380,s2,[::1]:26381/3?sentinel_username=watcher&sentinel_password=s3cret&"
      "connect_timeout=2s#my%20master");
  EXPECT_TRUE(c.sentinel.enabled());
  EXPECT_EQ(c.sentinel.master_name, "my master");
  const std::vector<rapyer::host_port> sentinels{{"s1", 26380}, {"s2", 26379}, {"::1", 26381}};
  EXPECT_EQ(c.sentinel.sentinels, sentinels);
  EXPECT_EQ(c.username, "app");  // the data nodes' credentials, as in Lettuce
  EXPECT_EQ(c.password, "p@ss");
  EXPECT_EQ(c.sentinel.username, "watcher");
  EXPECT_EQ(c.sentinel.password, "s3cret");
  EXPECT_EQ(c.database, 3);
  EXPECT_EQ(c.connect_timeout, 2s);
  EXPECT_FALSE(c.tls.enabled);
  EXPECT_FALSE(c.sentinel.tls.enabled);
  EXPECT_FALSE(c.sentinel.read_from_replica);
  EXPECT_TRUE(c.seeds.empty());
  EXPECT_EQ(c.endpoint(), "sentinel my master (s1:26380,s2:26379,[::1]:26381)");
}

TEST(ConnectionConfig, SecureSentinelUrlsUseTlsEverywhere) {
  const auto c = connection_config::from_url(
      "rediss-sentinel://s1?ssl_ca_certs=/ca.pem&ssl_cert_reqs=none&read_from_replica=yes#mymaster");
  EXPECT_TRUE(c.tls.enabled);
  EXPECT_TRUE(c.sentinel.tls.enabled);
  EXPECT_EQ(c.sentinel.tls.ca_file, "/ca.pem");
  EXPECT_FALSE(c.sentinel.tls.verify_peer);
  EXPECT_EQ(c.tls.ca_file, "/ca.pem");
  EXPECT_TRUE(c.sentinel.read_from_replica);
  EXPECT_EQ(c.endpoint(), "sentinel mymaster (s1:26379)");
}

TEST(ConnectionConfig, RejectsIncompleteSentinelUrls) {
  EXPECT_EQ(url_error<connection_config>("redis-sentinel://s1:26379,s2:26379"),
            "redis-sentinel:// URL needs the master's name at its end: …#mymaster");
  EXPECT_EQ(url_error<connection_config>("redis-sentinel://s1:26379#"),
            "redis-sentinel:// URL needs the master's name at its end: …#mymaster");
  EXPECT_EQ(url_error<connection_config>("redis-sentinel://#mymaster"), "redis-sentinel:// URL names no sentinel");
  EXPECT_EQ(url_error<connection_config>("redis://h1#mymaster"),
            "a #master name belongs to redis-sentinel:// URLs only");
  EXPECT_EQ(url_error<connection_config>("redis://h1?sentinel_password=x"),
            "parameter 'sentinel_password' needs a redis-sentinel:// URL");
  EXPECT_EQ(url_error<connection_config>("redis-sentinel://s1?ssl_ca_certs=/ca.pem#m"),
            "parameter 'ssl_ca_certs' needs a rediss:// or rediss-sentinel:// URL (TLS)");
}

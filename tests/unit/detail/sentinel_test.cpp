#include "rapyer/detail/sentinel.hpp"

#include <gtest/gtest.h>

#include "rapyer/error.hpp"

namespace {

using rapyer::host_port;
using rapyer::reply;
using rapyer::sentinel_config;
using namespace rapyer::detail;

sentinel_config mymaster(bool read_from_replica = false) {
  sentinel_config config;
  config.sentinels = {{"127.0.0.1", 26400}, {"127.0.0.1", 26401}};
  config.master_name = "mymaster";
  config.read_from_replica = read_from_replica;
  return config;
}

// The connection_error message of `call`, or "" when it does not throw.
template <class Call>
std::string error_of(Call&& call) {
  try {
    call();
  } catch (const rapyer::connection_error& e) {
    return e.what();
  }
  return "";
}

reply strings(std::initializer_list<const char*> items) {
  std::vector<reply> elements;
  for (const char* item : items) elements.push_back(reply::string(item));
  return reply::array(std::move(elements));
}

TEST(Sentinel, LookupAsksForThePrimaryOrTheReplicas) {
  EXPECT_EQ(node_lookup_request(mymaster()).payload(),
            "*3\r\n$8\r\nSENTINEL\r\n$23\r\nGET-MASTER-ADDR-BY-NAME\r\n$8\r\nmymaster\r\n");
  EXPECT_EQ(node_lookup_request(mymaster(true)).payload(),
            "*3\r\n$8\r\nSENTINEL\r\n$8\r\nREPLICAS\r\n$8\r\nmymaster\r\n");
  EXPECT_EQ(role_request().payload(), "*1\r\n$4\r\nROLE\r\n");
}

TEST(Sentinel, PrimaryAddressFromTheLookupReply) {
  const std::vector<host_port> expected{{"10.0.0.7", 6390}};
  EXPECT_EQ(offered_nodes(mymaster(), strings({"10.0.0.7", "6390"})), expected);
}

TEST(Sentinel, LookupFailuresSayWhy) {
  EXPECT_EQ(error_of([] { (void)offered_nodes(mymaster(), reply::nil()); }), "does not know master 'mymaster'");
  EXPECT_EQ(error_of([] { (void)offered_nodes(mymaster(), reply::error("NOAUTH Authentication required.")); }),
            "answered NOAUTH Authentication required.");
  EXPECT_EQ(error_of([] {
              (void)offered_nodes(mymaster(), strings({"10.0.0.7", "0"}));
            }),
            "malformed SENTINEL GET-MASTER-ADDR-BY-NAME reply: " + strings({"10.0.0.7", "0"}).to_debug_string());
  EXPECT_NE(error_of([] { (void)offered_nodes(mymaster(), strings({"10.0.0.7"})); }), "");
  EXPECT_NE(error_of([] { (void)offered_nodes(mymaster(), reply::integer(1)); }), "");
}

TEST(Sentinel, ReplicaReadsTakeOnlyHealthyReplicas) {
  const reply replicas = reply::array({
      strings(
          {"name", "10.0.0.8:6391", "ip", "10.0.0.8", "port", "6391", "flags", "slave", "master-link-status", "ok"}),
      strings({"name", "10.0.0.9:6392", "ip", "10.0.0.9", "port", "6392", "flags", "s_down,slave", "master-link-status",
               "ok"}),
      strings({"name", "10.0.0.10:6393", "ip", "10.0.0.10", "port", "6393", "flags", "slave,disconnected",
               "master-link-status", "ok"}),
      strings(
          {"name", "10.0.0.11:6394", "ip", "10.0.0.11", "port", "6394", "flags", "slave", "master-link-status", "err"}),
      strings({"ip", "10.0.0.12", "port", "6395", "flags", "slave", "master-link-status", "ok"}),
  });
  const std::vector<host_port> expected{{"10.0.0.8", 6391}, {"10.0.0.12", 6395}};
  EXPECT_EQ(offered_nodes(mymaster(true), replicas), expected);
  EXPECT_EQ(error_of([] { (void)offered_nodes(mymaster(true), reply::array({})); }),
            "knows no healthy replica of 'mymaster'");
}

TEST(Sentinel, RoleMustMatchWhatWasAskedFor) {
  const reply master = reply::array({reply::string("master"), reply::integer(42), reply::array({})});
  const reply replica = reply::array({reply::string("slave"), reply::string("10.0.0.7"), reply::integer(6390),
                                      reply::string("connected"), reply::integer(42)});
  EXPECT_EQ(error_of([&] { check_role(mymaster(), master); }), "");
  EXPECT_EQ(error_of([&] { check_role(mymaster(true), replica); }), "");
  EXPECT_EQ(error_of([&] { check_role(mymaster(), replica); }), "ROLE is slave, not master (failover in progress?)");
  EXPECT_EQ(error_of([&] { check_role(mymaster(true), master); }), "ROLE is master, not slave (failover in progress?)");
  EXPECT_NE(error_of([&] { check_role(mymaster(), reply::array({})); }), "");
}

TEST(Sentinel, SwitchMasterMessagesAboutOurMaster) {
  EXPECT_EQ(switched_primary("mymaster", "mymaster 127.0.0.1 6390 127.0.0.1 6391"), (host_port{"127.0.0.1", 6391}));
  EXPECT_EQ(switched_primary("my master", "my master 10.0.0.1 6390 10.0.0.2 6391"), (host_port{"10.0.0.2", 6391}));
  EXPECT_EQ(switched_primary("mymaster", "other 127.0.0.1 6390 127.0.0.1 6391"), std::nullopt);
  EXPECT_EQ(switched_primary("mymaster", "xmymaster 127.0.0.1 6390 127.0.0.1 6391"), std::nullopt);
  EXPECT_EQ(switched_primary("mymaster", "mymaster 127.0.0.1 6390 127.0.0.1 nope"), std::nullopt);
  EXPECT_EQ(switched_primary("mymaster", "mymaster 127.0.0.1"), std::nullopt);
}

TEST(Sentinel, SentinelConnectionsUseTheSentinelCredentialsAndTls) {
  rapyer::connection_config data;
  data.username = "app";
  data.password = "app-secret";
  data.database = 3;
  data.connect_timeout = std::chrono::milliseconds(700);
  data.sentinel = mymaster();
  data.sentinel.username = "watcher";
  data.sentinel.password = "watch-secret";
  data.sentinel.tls.enabled = true;
  const auto config = sentinel_node_config(data, {"10.0.0.3", 26390});
  EXPECT_EQ(config.endpoint(), "10.0.0.3:26390");
  EXPECT_FALSE(config.sentinel.enabled());
  EXPECT_EQ(config.username, "watcher");
  EXPECT_EQ(config.password, "watch-secret");
  EXPECT_TRUE(config.tls.enabled);
  EXPECT_EQ(config.database, 0);
  EXPECT_EQ(config.connect_timeout, std::chrono::milliseconds(700));
  EXPECT_EQ(config.command_timeout, std::chrono::milliseconds(700));
  EXPECT_FALSE(config.auto_reconnect);
}

TEST(Sentinel, FailureNamesTheMasterAndEverySentinelTried) {
  EXPECT_EQ(resolution_failure(mymaster(), {{{"127.0.0.1", 26400}, "does not know master 'mymaster'"},
                                            {{"127.0.0.1", 26401}, "cannot connect: Connection refused"}}),
            "sentinel: no usable primary for master 'mymaster'; sentinel 127.0.0.1:26400: does not know master "
            "'mymaster'; sentinel 127.0.0.1:26401: cannot connect: Connection refused");
}

}  // namespace

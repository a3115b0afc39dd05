#include "rapyer/detail/cluster/redirection.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using rapyer::detail::cluster::backoff;
using rapyer::detail::cluster::decide;
using rapyer::detail::cluster::node_address;
using rapyer::detail::cluster::parse_redirection;
using rapyer::detail::cluster::redirect_action;
using rapyer::detail::cluster::redirect_kind;
using rapyer::detail::cluster::redirect_limits;
using rapyer::detail::cluster::redirection;

// The MOVED, ASK, TRYAGAIN and CLUSTERDOWN messages are as redis-server 7.0.15 sent them.
TEST(Redirection, MovedAndAskNameSlotAndTarget) {
  EXPECT_EQ(parse_redirection("MOVED 12182 127.0.0.1:27313", "10.0.0.1"),
            (redirection{redirect_kind::moved, 12182, {"127.0.0.1", 27313}}));
  EXPECT_EQ(parse_redirection("ASK 12182 127.0.0.1:27311", "10.0.0.1"),
            (redirection{redirect_kind::ask, 12182, {"127.0.0.1", 27311}}));
  EXPECT_EQ(parse_redirection("MOVED 0 redis-2.example:6380", "h"),
            (redirection{redirect_kind::moved, 0, {"redis-2.example", 6380}}));
}

TEST(Redirection, EmptyHostIsTheReplyingNode) {
  EXPECT_EQ(parse_redirection("MOVED 3999 :6381", "10.0.0.7"),
            (redirection{redirect_kind::moved, 3999, {"10.0.0.7", 6381}}));
}

TEST(Redirection, PortFollowsTheLastColon) {
  EXPECT_EQ(parse_redirection("MOVED 1 ::1:6380", "h"), (redirection{redirect_kind::moved, 1, {"::1", 6380}}));
  EXPECT_EQ(parse_redirection("ASK 16383 fe80::2:7000", "h"),
            (redirection{redirect_kind::ask, 16383, {"fe80::2", 7000}}));
}

TEST(Redirection, TryAgainAndClusterDownCarryNoTarget) {
  EXPECT_EQ(parse_redirection("TRYAGAIN Multiple keys request during rehashing of slot", "h"),
            redirection{redirect_kind::try_again});
  EXPECT_EQ(parse_redirection("CLUSTERDOWN Hash slot not served", "h"), redirection{redirect_kind::cluster_down});
  EXPECT_EQ(parse_redirection("CLUSTERDOWN The cluster is down", "h"), redirection{redirect_kind::cluster_down});
  EXPECT_EQ(parse_redirection("TRYAGAIN", "h"), redirection{redirect_kind::try_again});
}

TEST(Redirection, OtherErrorsAreNotRedirections) {
  for (const std::string_view message :
       {"CROSSSLOT Keys in request don't hash to the same slot", "ERR unknown command",
        "EXECABORT Transaction "
        "discarded because of previous errors.",
        "MOVEDX 1 h:1", "moved 1 h:1", "", "MOVED", "MOVED 1", "MOVED 1 h", "MOVED 16384 h:1", "MOVED -1 h:1",
        "MOVED x h:1", "MOVED 1 h:0", "MOVED 1 h:65536", "MOVED 1 h:6380x", "ASK 1 h:"}) {
    EXPECT_EQ(parse_redirection(message, "h"), std::nullopt) << message;
  }
}

TEST(Redirection, DecisionFollowsTheKindUntilTheLimit) {
  const redirect_limits limits{.max_redirects = 3};
  const redirection moved{redirect_kind::moved, 5, {"h", 1}};
  const redirection ask{redirect_kind::ask, 5, {"h", 1}};
  EXPECT_EQ(decide(moved, 0, limits), redirect_action::resend_to_target);
  EXPECT_EQ(decide(ask, 2, limits), redirect_action::ask_target);
  EXPECT_EQ(decide(redirection{redirect_kind::try_again}, 1, limits), redirect_action::retry_after_backoff);
  EXPECT_EQ(decide(redirection{redirect_kind::cluster_down}, 0, limits), redirect_action::retry_after_backoff);
  EXPECT_EQ(decide(moved, 3, limits), redirect_action::give_up);
  EXPECT_EQ(decide(redirection{redirect_kind::cluster_down}, 4, limits), redirect_action::give_up);
}

TEST(Redirection, BackoffDoublesUpToTheCap) {
  const redirect_limits limits;  // 10 ms to 500 ms
  EXPECT_EQ(backoff(0, limits), 10ms);
  EXPECT_EQ(backoff(1, limits), 20ms);
  EXPECT_EQ(backoff(2, limits), 40ms);
  EXPECT_EQ(backoff(5, limits), 320ms);
  EXPECT_EQ(backoff(6, limits), 500ms);
  EXPECT_EQ(backoff(1'000'000, limits), 500ms);
  EXPECT_EQ(backoff(-1, limits), 10ms);
  EXPECT_EQ(backoff(1'000'000'000, redirect_limits{.min_backoff = 0ms}), 0ms);
}

TEST(Redirection, FailureMessageNamesSlotAttemptsAndNodes) {
  const std::vector<node_address> tried{{"127.0.0.1", 7001}, {"127.0.0.1", 7002}, {"127.0.0.1", 7001}};
  EXPECT_EQ(
      rapyer::detail::cluster::describe_redirect_failure("GET", 12182, 16, tried, "CLUSTERDOWN Hash slot not served"),
      "GET: slot 12182 still redirected after 16 attempts (nodes tried: 127.0.0.1:7001, 127.0.0.1:7002); last "
      "error: CLUSTERDOWN Hash slot not served");
  EXPECT_EQ(rapyer::detail::cluster::describe_redirect_failure("SET", 1, 0, {}, "TRYAGAIN"),
            "SET: slot 1 still redirected after 0 attempts; last error: TRYAGAIN");
}

}  // namespace

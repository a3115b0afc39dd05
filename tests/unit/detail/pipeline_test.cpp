#include "rapyer/detail/pipeline.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rapyer/error.hpp"

namespace {

using rapyer::reply;
using rapyer::request;
using rapyer::detail::pipeline;

struct completion {
  int waiter;
  std::vector<reply> replies;
};

request one(std::string_view command, std::string_view arg) {
  request req;
  req.push(command, arg);
  return req;
}

TEST(Pipeline, CoalescesRequestsStagedDuringAWrite) {
  pipeline<int> p;
  p.stage(one("GET", "a"), 1);
  ASSERT_FALSE(p.writing());
  const std::string first(p.start_write());
  EXPECT_EQ(first, one("GET", "a").payload());
  // While the first write is in flight, two more requests arrive: they share the next write.
  p.stage(one("GET", "b"), 2);
  p.stage(one("GET", "c"), 3);
  EXPECT_TRUE(p.writing());
  p.finish_write();
  ASSERT_TRUE(p.has_staged());
  const std::string second(p.start_write());
  EXPECT_EQ(second, std::string(one("GET", "b").payload()) + std::string(one("GET", "c").payload()));
  p.finish_write();
  EXPECT_FALSE(p.has_staged());
  EXPECT_EQ(p.awaiting(), 3u);
}

TEST(Pipeline, DeliversRepliesToTheirOwnRequestsInOrder) {
  pipeline<int> p;
  request batch;
  batch.push("SET", "k", "v").push("GET", "k").push("INCR", "n");
  p.stage(one("GET", "a"), 1);
  p.stage(batch, 2);
  p.stage(one("GET", "b"), 3);
  std::vector<completion> done;
  auto on_complete = [&](int&& w, std::vector<reply>&& r) { done.push_back({w, std::move(r)}); };
  // Replies arrive split across reads, one of them mid-reply.
  p.feed("$1\r\nA\r\n+OK\r\n$1\r", on_complete);
  ASSERT_EQ(done.size(), 1u);
  p.feed("\nv\r\n:7\r\n$-1\r\n", on_complete);
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].waiter, 1);
  EXPECT_EQ(done[0].replies, std::vector<reply>{reply::string("A")});
  EXPECT_EQ(done[1].waiter, 2);
  EXPECT_EQ(done[1].replies, (std::vector<reply>{reply::status("OK"), reply::string("v"), reply::integer(7)}));
  EXPECT_EQ(done[2].waiter, 3);
  EXPECT_TRUE(done[2].replies.at(0).is_nil());
  EXPECT_EQ(p.awaiting(), 0u);
}

TEST(Pipeline, ErrorRepliesAreDeliveredNotThrown) {
  pipeline<int> p;
  p.stage(one("LPUSH", "k"), 1);
  std::vector<completion> done;
  p.feed("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
         [&](int&& w, std::vector<reply>&& r) {
           done.push_back({w, std::move(r)});
         });
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].replies.at(0).is_error());
}

TEST(Pipeline, UnexpectedReplyIsAProtocolError) {
  pipeline<int> p;
  EXPECT_THROW(p.feed(":1\r\n", [](int&&, std::vector<reply>&&) {}), rapyer::protocol_error);
}

TEST(Pipeline, GarbageIsAProtocolError) {
  pipeline<int> p;
  p.stage(one("GET", "a"), 1);
  EXPECT_THROW(p.feed("%%%\r\n", [](int&&, std::vector<reply>&&) {}), rapyer::protocol_error);
}

TEST(Pipeline, FailAllEndsEveryRequestAndStartsClean) {
  pipeline<int> p;
  p.stage(one("GET", "a"), 1);
  (void)p.start_write();
  p.stage(one("GET", "b"), 2);
  p.feed("$3\r\npar", [](int&&, std::vector<reply>&&) { FAIL() << "no reply is complete"; });
  std::vector<int> failed;
  p.fail_all([&](int&& w) { failed.push_back(w); });
  EXPECT_EQ(failed, (std::vector<int>{1, 2}));
  EXPECT_EQ(p.awaiting(), 0u);
  EXPECT_FALSE(p.writing());
  EXPECT_FALSE(p.has_staged());
  // The half-read reply of the old connection is gone; a new request gets a fresh reply.
  p.stage(one("GET", "c"), 3);
  std::vector<completion> done;
  p.feed("$1\r\nC\r\n", [&](int&& w, std::vector<reply>&& r) { done.push_back({w, std::move(r)}); });
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].waiter, 3);
  EXPECT_EQ(done[0].replies.at(0), reply::string("C"));
}

}  // namespace

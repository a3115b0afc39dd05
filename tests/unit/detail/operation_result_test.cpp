// What a field operation returns, from its reply: the count the server sent, or nothing yet (the nil
// reply of an operation queued in apipeline()).
#include <gtest/gtest.h>

#include "rapyer/detail/model_base.hpp"
#include "rapyer/error.hpp"

namespace {

using rapyer::reply;
using rapyer::detail::count_or_zero;
using rapyer::detail::counted_one;

TEST(OperationResult, CountIsTheServersInteger) {
  EXPECT_EQ(count_or_zero(reply::integer(7)), 7u);
  EXPECT_TRUE(counted_one(reply::integer(1)));
  EXPECT_FALSE(counted_one(reply::integer(0)));
}

TEST(OperationResult, QueuedOperationCountsZero) {
  EXPECT_EQ(count_or_zero(reply::nil()), 0u);
  EXPECT_FALSE(counted_one(reply::nil()));
}

TEST(OperationResult, AnythingElseIsAReplyTypeError) {
  EXPECT_THROW(count_or_zero(reply::string("7")), rapyer::reply_type_error);
}

}  // namespace

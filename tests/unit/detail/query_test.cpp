// How a query combines the ids its index ranges found, and how candidates are ordered for pages.
#include "rapyer/query.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rapyer/detail/index.hpp"

namespace rapyer {
namespace {

struct Row {
  int a = 0;
  int b = 0;
};
using ids = std::vector<std::string>;

/// A condition on `field` (its range read as the ids the test gives) checked by `check`.
query<Row> condition(const char* field, bool (*check)(const Row&)) {
  return {detail::index_range{field, detail::index_kind::number, "-inf", "+inf"}, check};
}
const query<Row> a_small = condition("a", [](const Row& r) { return r.a < 5; });
const query<Row> b_small = condition("b", [](const Row& r) { return r.b < 5; });

std::size_t range_count(const query<Row>& q) {
  std::vector<const detail::index_range*> ranges;
  q.collect_ranges(ranges);
  return ranges.size();
}

TEST(Query, ANegationIsUnboundedAndMatchesWhatItsPartDoesNot) {
  EXPECT_TRUE(a_small.bounded());
  EXPECT_FALSE((!a_small).bounded());
  EXPECT_TRUE((!!a_small).bounded());
  EXPECT_TRUE((a_small && !b_small).bounded());
  EXPECT_FALSE((a_small || !b_small).bounded());
  EXPECT_TRUE((!a_small).matches(Row{7, 0}));
  EXPECT_FALSE((!a_small).matches(Row{1, 0}));
  EXPECT_TRUE((a_small && !b_small).matches(Row{1, 9}));
  // A negated condition only checks: its range is not read, its path is still validated.
  EXPECT_EQ(range_count(a_small && !b_small), 1U);
  std::vector<std::string> paths;
  (a_small && !b_small).collect_paths(paths);
  EXPECT_EQ(paths, (std::vector<std::string>{"a", "b"}));
}

TEST(Query, ANegationsCandidatesAreAllIdsUnlessAConditionNarrowsThem) {
  const ids all = {"1", "2", "3", "4"};
  const std::vector<ids> a_found = {{"3", "1"}};
  EXPECT_EQ((!a_small).candidates({}, all), all);
  // Within a bounded &&, the negation keeps every candidate of the other parts.
  EXPECT_EQ((a_small && !b_small).candidates(a_found, all), (ids{"3", "1"}));
  EXPECT_EQ((!b_small && a_small).candidates(a_found, all), (ids{"3", "1"}));
  // || with a negation: every id, those of the first part first.
  EXPECT_EQ((a_small || !b_small).candidates(a_found, all), (ids{"3", "1", "2", "4"}));
  // An unbounded part of a bounded && reads no range: the other parts bound it.
  const auto nested = b_small && (a_small || !b_small) && a_small;
  EXPECT_EQ(range_count(nested), 2U);
  const std::vector<ids> two_found = {{"3", "2"}, {"1", "2", "3"}};
  EXPECT_EQ(nested.candidates(two_found, all), (ids{"3", "2"}));
}

TEST(OrderCandidates, FollowsTheIndexThenKeepsModelsWithoutTheFieldLast) {
  const std::optional<ids> index = ids{"e", "a", "c", "b"};  // an index of every model but "z"
  EXPECT_EQ(detail::order_candidates({"a", "z", "b", "e"}, index, false), (ids{"e", "a", "b", "z"}));
  EXPECT_EQ(detail::order_candidates({"a", "z", "b", "e"}, index, true), (ids{"b", "a", "e", "z"}));
  EXPECT_EQ(detail::order_candidates({"y", "z"}, index, true), (ids{"y", "z"}));
  EXPECT_EQ(detail::order_candidates({}, index, false), ids{});
}

TEST(OrderCandidates, WithoutAnIndexKeepsOrReversesTheCandidatesOrder) {
  EXPECT_EQ(detail::order_candidates({"b", "a", "c"}, std::nullopt, false), (ids{"b", "a", "c"}));
  EXPECT_EQ(detail::order_candidates({"b", "a", "c"}, std::nullopt, true), (ids{"c", "a", "b"}));
}

}  // namespace
}  // namespace rapyer

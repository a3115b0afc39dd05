// Replies captured from a real redis-server, kept as RESP text in the tests and read back here.
#pragma once

#include <gtest/gtest.h>

#include <string_view>
#include <utility>

#include "rapyer/detail/reply_reader.hpp"
#include "rapyer/reply.hpp"

namespace rapyer::test {

/// The one reply in `wire`; a nil reply (and a test failure) when it is incomplete.
inline reply parse_captured(std::string_view wire) {
  detail::reply_reader reader;
  reader.feed(wire);
  auto parsed = reader.next();
  EXPECT_TRUE(parsed.has_value());
  return parsed ? std::move(*parsed) : reply{};
}

}  // namespace rapyer::test

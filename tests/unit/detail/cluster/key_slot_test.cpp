#include "rapyer/detail/cluster/key_slot.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using rapyer::detail::cluster::crc16;
using rapyer::detail::cluster::key_slot;

TEST(KeySlot, Crc16IsXmodem) {
  // The check value of CRC-16/XMODEM, also quoted by the Redis cluster specification.
  EXPECT_EQ(crc16("123456789"), 0x31C3);
  EXPECT_EQ(crc16(""), 0);
}

// Every expected slot below was answered by redis-server 7.0.15 to CLUSTER KEYSLOT <key>.
TEST(KeySlot, PlainKeysHashWhole) {
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("k"), 7629);
  EXPECT_EQ(key_slot("user:1000"), 1649);
  EXPECT_EQ(key_slot("123456789"), 12739);
  EXPECT_EQ(key_slot(""), 0);
}

TEST(KeySlot, HashTagSelectsTheHashedBytes) {
  EXPECT_EQ(key_slot("{user1000}.following"), 3443);
  EXPECT_EQ(key_slot("{user1000}.followers"), 3443);
  EXPECT_EQ(key_slot("{k}x"), 7629);
  // The first '{' and the first '}' after it: the tag of "foo{{bar}}zap" is "{bar".
  EXPECT_EQ(key_slot("foo{{bar}}zap"), 4015);
  EXPECT_EQ(key_slot("foo{bar}{zap}"), 5061);
}

TEST(KeySlot, EmptyOrUnclosedTagHashesTheWholeKey) {
  EXPECT_EQ(key_slot("foo{}{bar}"), 8363);
  EXPECT_EQ(key_slot("{}"), 15257);
  EXPECT_EQ(key_slot("{"), 4092);
  EXPECT_EQ(key_slot("}"), 12090);
  EXPECT_EQ(key_slot("a{b"), 13340);
}

TEST(KeySlot, BinaryKeys) {
  using namespace std::string_literals;
  EXPECT_EQ(key_slot("\x00\xff\x80{\x01}"s), 4129);
  EXPECT_EQ(key_slot("\xe2\x82\xac\x00\x01\x02\xfe"s), 6572);
}

}  // namespace

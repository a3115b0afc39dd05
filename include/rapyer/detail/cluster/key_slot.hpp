// Which of Redis Cluster's hash slots a key belongs to: CRC16 (XMODEM) of the key, or of its hash
// tag, modulo 16384 — the rule of the cluster specification, so that the client routes each key to
// the node the server expects.
#pragma once

#include <cstdint>
#include <string_view>

namespace rapyer::detail::cluster {

constexpr std::uint16_t slot_count = 16384;

/// CRC16-XMODEM (polynomial 0x1021, initial value 0): crc16("123456789") == 0x31C3.
std::uint16_t crc16(std::string_view bytes) noexcept;

/// The hash slot of a key. When the key holds a non-empty hash tag — the bytes between its first
/// '{' and the first '}' after it — only the tag is hashed, so "{user1}.a" and "{user1}.b" share
/// a slot; an empty tag ("foo{}{bar}") hashes the whole key.
std::uint16_t key_slot(std::string_view key) noexcept;

}  // namespace rapyer::detail::cluster

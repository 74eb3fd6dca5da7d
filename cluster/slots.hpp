#pragma once

// Redis Cluster's hash slots: which of the 16384 slots a key belongs to. Plain C++, so
// cluster-aware clients (redis-cli -c, redis-py's RedisCluster) and OTKV agree on where
// every key lives.

#include <cstdint>
#include <string_view>

#include "store/key_hash.hpp"

namespace otkv::cluster {

/// How many hash slots the keyspace has (Redis Cluster's number).
inline constexpr uint32_t slot_count = 16384;

/// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), as Redis Cluster hashes keys.
uint16_t crc16(std::string_view data) noexcept;

/// The slot of `key`: CRC16 of its hash tag (the text in the first non-empty `{…}`) or of
/// the whole key, mod 16384.
inline uint16_t key_slot(std::string_view key) noexcept {
  return static_cast<uint16_t>(crc16(store::routing_key(key)) & (slot_count - 1));
}

} // namespace otkv::cluster

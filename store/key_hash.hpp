#pragma once

#include <cstdint>
#include <string_view>

namespace otkv::store {

/// Stable 64-bit FNV-1a hash of a key. Unlike std::hash it never changes between
/// builds or platforms, so partition numbers written to disk stay valid.
inline uint64_t key_hash(std::string_view key) noexcept {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

/// The part of a key that picks its partition: as in Redis Cluster, the text inside the
/// first non-empty `{…}` (a hash tag) if there is one, else the whole key. Keys sharing a
/// tag (`user:{42}:name`, `user:{42}:mail`) share a partition.
inline std::string_view routing_key(std::string_view key) noexcept {
  auto open = key.find('{');
  if (open == std::string_view::npos)
    return key;
  auto close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1)
    return key;
  return key.substr(open + 1, close - open - 1);
}

/// The partition (0 ≤ result < partitions) that owns `key`.
inline uint32_t partition_of(std::string_view key, uint32_t partitions) noexcept {
  return static_cast<uint32_t>(key_hash(routing_key(key)) % partitions);
}

} // namespace otkv::store

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

/// The partition (0 ≤ result < partitions) that owns `key`.
inline uint32_t partition_of(std::string_view key, uint32_t partitions) noexcept {
  return static_cast<uint32_t>(key_hash(key) % partitions);
}

} // namespace otkv::store

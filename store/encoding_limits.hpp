#pragma once

#include <atomic>
#include <cstdint>

namespace otkv::store {

/// Where aggregates leave their packed form (Redis's hash-max-listpack-*, set-max-intset-
/// entries, set-max-listpack-*, list-max-listpack-size), process-wide: CONFIG SET changes
/// them for aggregates converted from then on. Read with relaxed loads by the partitions.
struct encoding_limits {
  std::atomic<uint64_t> hash_max_entries{128};
  std::atomic<uint64_t> hash_max_value{64};
  std::atomic<uint64_t> set_max_intset_entries{512};
  std::atomic<uint64_t> set_max_entries{128};
  std::atomic<uint64_t> set_max_value{64};
  std::atomic<uint64_t> zset_max_entries{128};
  std::atomic<uint64_t> zset_max_value{64};
  /// A list node's limit: > 0 items, or −1 … −5 for 4, 8, 16, 32, 64 KiB (Redis's meaning).
  std::atomic<int64_t> list_max_node{-2};
};

/// The process's limits.
inline encoding_limits& limits() noexcept {
  static encoding_limits l;
  return l;
}

/// A relaxed read of one limit.
template <class T>
T limit_of(const std::atomic<T>& a) noexcept {
  return a.load(std::memory_order_relaxed);
}

} // namespace otkv::store

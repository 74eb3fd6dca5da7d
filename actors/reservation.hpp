#pragma once

// Reserving several partitions at once for a transaction (docs/transactions.md): their
// tokens are taken in ascending partition order, the one global order every reservation
// follows, so waiting never forms a cycle. Workers and guests hold one token at a time
// and never wait while holding it; a reservation waits only for holders of the partition
// it takes next, each of which finishes (a batch, a time slice) or waits only for higher
// partitions. Plain C++: the caller holds no other token.

#include <algorithm>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "actors/partition_slot.hpp"
#include "store/log_file.hpp"

namespace otkv {

/// See the file comment. Released when it goes.
class reservation {
public:
  /// Partitions (index, slot) for `token` (a guest token: partition_slot::guest_bit set,
  /// so a worker finding one waits a little, then retries).
  reservation(std::vector<std::pair<uint32_t, partition_slot*>> slots, uint64_t token)
    : slots_(std::move(slots)), token_(token) {
    std::sort(slots_.begin(), slots_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    slots_.erase(std::unique(slots_.begin(), slots_.end(),
                             [](const auto& a, const auto& b) { return a.first == b.first; }),
                 slots_.end());
  }
  reservation(const reservation&) = delete;
  reservation& operator=(const reservation&) = delete;
  ~reservation() { release(); }

  /// Takes every token in ascending order, waiting for each while another holds it, until
  /// `now()` passes `deadline`. True with all held; false with none held (a hung worker
  /// holds one: the caller answers an error).
  template <class Clock>
  bool acquire(Clock&& now, uint64_t deadline) {
    while (held_ < slots_.size()) {
      auto& slot = *slots_[held_].second;
      for (uint32_t spins = 0; !slot.claim(token_); ++spins) {
        if ((spins & 63) == 63 && now() > deadline) {
          release();
          return false;
        }
        std::this_thread::yield();
      }
      ++held_;
    }
    return true;
  }

  /// Gives back the tokens held, in reverse order.
  void release() {
    while (held_ > 0)
      slots_[--held_].second->release(token_);
  }

  /// The partitions, ascending (each once).
  const std::vector<std::pair<uint32_t, partition_slot*>>& slots() const { return slots_; }
  /// Whether every token is held.
  bool held() const { return held_ == slots_.size(); }

private:
  std::vector<std::pair<uint32_t, partition_slot*>> slots_;
  uint64_t token_;
  size_t held_ = 0;
};

/// Writes the records the partitions of `held` made while reserved to `log` (null: no
/// op log) as one group: replayed whole or not at all (a crash half-way through the
/// write leaves a torn group, cut at recovery). Returns 0 or the op log's errno.
inline int log_reserved(const reservation& held, store::log_file* log) {
  std::string records;
  uint64_t count = 0;
  for (const auto& [p, slot] : held.slots()) {
    if (slot->journal.empty())
      continue;
    auto bytes = slot->journal.take();
    count += store::scan_records(bytes, [](store::log_record&) {}).records;
    records += bytes;
  }
  if (log == nullptr || count == 0)
    return 0;
  std::string group;
  if (count > 1)
    store::encode_group(group, count);
  group += records;
  return log->append(group) ? 0 : log->error();
}

/// A token no worker and no other guest uses (partition_slot::guest_bit set): one per
/// front end or script runner that reserves partitions.
inline uint64_t new_guest_token() {
  static std::atomic<uint64_t> guests{0};
  return partition_slot::guest_bit | ++guests;
}

} // namespace otkv

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

} // namespace otkv

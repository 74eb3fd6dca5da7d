#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "actors/batches.hpp"

namespace otkv {

/// The batches a front end (TCP broker or embedded store) sent to partition workers and
/// that are not answered yet, per partition in send order: the request-timeout policy.
/// A partition whose oldest batch is overdue gets a fresh worker; the fresh worker gets
/// the unanswered batches again; a batch overdue after its last attempt is failed.
class inflight_batches {
public:
  /// Tracks `partitions` partitions.
  void resize(size_t partitions) {
    queues_.resize(partitions);
    replacing_.resize(partitions, false);
  }

  /// Remembers `batch`, sent for the first time at `now`. Every time given to this class
  /// is monotonic (steady_ms()): a step of the wall clock must not move a timeout.
  void add(std::shared_ptr<const work_batch> batch, store::millis now) {
    auto p = batch->partition;
    queues_[p].push_back({std::move(batch), now, 1});
  }

  /// Whether no batch of partition `p` is in flight.
  bool idle(uint32_t p) const { return queues_[p].empty(); }

  /// Forgets batch `id` of partition `p`, answered; returns it (nullptr if it was no
  /// longer in flight: failed already).
  std::shared_ptr<const work_batch> answered(uint32_t p, uint64_t id) {
    auto& q = queues_[p];
    for (auto i = q.begin(); i != q.end(); ++i)
      if (i->batch->id == id) {
        auto batch = std::move(i->batch);
        q.erase(i);
        return batch;
      }
    return nullptr;
  }

  /// Supervision tick: overdue batches that used `attempts` attempts go to
  /// `fail(batch, attempts)`; a partition whose oldest batch is overdue otherwise goes to
  /// `restart(p)`, once until replaced() says a fresh worker serves it (unless `restart`
  /// returns false: the partition is busy but not hung, it is asked again next tick).
  template <class Fail, class Restart>
  void check(store::millis now, store::millis timeout, uint32_t attempts, Fail&& fail,
             Restart&& restart) {
    for (uint32_t p = 0; p < queues_.size(); ++p) {
      auto& q = queues_[p];
      auto overdue = [&] { return !q.empty() && now - q.front().sent_ms >= timeout; };
      while (overdue() && q.front().attempts >= attempts) {
        auto entry = std::move(q.front());
        q.pop_front();
        fail(*entry.batch, entry.attempts);
      }
      if (overdue() && !replacing_[p])
        replacing_[p] = restart(p);
    }
  }

  /// A fresh worker serves `p`: batches that used `attempts` attempts go to
  /// `fail(batch, attempts)`, the others to `resend(batch)` (counted as a new attempt).
  template <class Fail, class Resend>
  void replaced(uint32_t p, store::millis now, uint32_t attempts, Fail&& fail, Resend&& resend) {
    replacing_[p] = false;
    auto& q = queues_[p];
    for (auto i = q.begin(); i != q.end();) {
      if (i->attempts >= attempts) {
        auto entry = std::move(*i);
        i = q.erase(i);
        fail(*entry.batch, entry.attempts);
        continue;
      }
      ++i->attempts;
      i->sent_ms = now;
      resend(i->batch);
      ++i;
    }
  }

private:
  struct entry {
    std::shared_ptr<const work_batch> batch;
    store::millis sent_ms = 0;
    uint32_t attempts = 1;
  };
  std::vector<std::deque<entry>> queues_;
  std::vector<bool> replacing_;
};

} // namespace otkv

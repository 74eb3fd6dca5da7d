#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <iterator>
#include <memory>
#include <mutex>
#include <tuple>
#include <utility>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "actors/blocked_requests.hpp"
#include "net/reply.hpp"
#include "store/journal.hpp"
#include "store/partition.hpp"

namespace otkv {

struct chain_replica;

/// A partition's data and the bookkeeping that lets a fresh worker take it over from
/// a crashed or hung one without losing or repeating a write. Owned by the supervisor,
/// so it outlives every worker that serves it.
///
/// Only the worker holding the token (`holder`) touches the non-atomic members: a
/// worker claims it for each batch and releases it after; the supervisor gives each new
/// worker a new `epoch`, and a worker whose epoch is no longer current stops at the next
/// request boundary, releasing the token. So two workers never touch the data at once,
/// and no lock is taken on the data path.
struct partition_slot {
  /// Takes over recovered data; every change is journaled from record `last_seq` on.
  partition_slot(store::partition recovered, uint32_t index, uint64_t last_seq)
    : data(std::move(recovered)), journal(index, last_seq) {
    data.set_sink(&journal);
    journal.set_watches(&watches);
  }
  partition_slot(const partition_slot&) = delete;
  partition_slot& operator=(const partition_slot&) = delete;

  store::partition data;
  /// Op-log records of the changes not yet handed to the logger.
  store::journal_buffer journal;
  /// The keys connections WATCH here (docs/transactions.md); every change touches them.
  store::watch_table watches;

  /// The partition's part in its replication chain (actors/chain_replica.hpp); null
  /// without replication.
  std::shared_ptr<chain_replica> chain;

  /// The requests waiting here (BLPOP, …); `waiting` counts them for front ends, which
  /// read it without the token: while it is not 0, every batch goes to the worker (so
  /// every write reaches the waiters) and a transaction wakes the worker after it.
  blocked_requests blocked;
  std::atomic<uint32_t> waiting{0};

  /// What front ends and scripts post for the waiting requests without the token (they
  /// must not touch `blocked`): requests to forget, and a wake-up after a change made
  /// outside the worker (EXEC, EVAL). The token holder takes them (take_posted).
  struct posted_work {
    std::vector<std::tuple<batch_sink, uint64_t, uint64_t>> withdrawals; ///< front, conn, seq
    bool wake = false; ///< offer every waited-on key again
  };
  /// Posts the withdrawal of request `seq` of connection `conn` of front end `front`.
  void post_withdrawal(batch_sink front, uint64_t conn, uint64_t seq) {
    std::lock_guard<std::mutex> guard(posted_mutex_);
    posted_.withdrawals.emplace_back(std::move(front), conn, seq);
    has_posted_.store(true, std::memory_order_release);
  }
  /// Posts a wake-up.
  void post_wake() {
    std::lock_guard<std::mutex> guard(posted_mutex_);
    posted_.wake = true;
    has_posted_.store(true, std::memory_order_release);
  }
  /// Whether anything was posted since the last take_posted().
  bool has_posted() const { return has_posted_.load(std::memory_order_acquire); }
  /// Takes what was posted (for the token holder).
  posted_work take_posted() {
    if (!has_posted())
      return {};
    std::lock_guard<std::mutex> guard(posted_mutex_);
    has_posted_.store(false, std::memory_order_relaxed);
    return std::exchange(posted_, {});
  }

  /// Epoch of the worker that should serve this partition now.
  std::atomic<uint64_t> epoch{0};
  /// Epoch of the worker inside a batch, 0 if none.
  std::atomic<uint64_t> holder{0};

  /// The replies of the requests of a batch applied so far (and the time each took).
  struct progress {
    std::vector<net::reply> replies;
    std::vector<uint64_t> ns;
    /// The requests that wait (blocking commands): (index in the batch, timeout in ms).
    std::vector<std::pair<size_t, uint64_t>> blocked;
  };
  /// Batches being applied, or stopped half-way, by id: a worker that stopped (revoked,
  /// or died) or a front end out of its time slice leaves the replies made so far, and
  /// whoever runs the batch next resumes after them — also when other batches ran in
  /// between (other shards, other front ends share the partition).
  std::unordered_map<uint64_t, progress> partial;
  std::deque<uint64_t> partial_order; ///< ids in `partial`, oldest first (for the bound)

  /// The progress of batch `id` (made empty on its first run).
  progress& progress_of(uint64_t id) {
    auto [it, fresh] = partial.try_emplace(id);
    if (fresh) {
      partial_order.push_back(id);
      // Left by batches the front end gave up on (-TIMEOUT): forget the oldest.
      while (partial_order.size() > 1024) {
        partial.erase(partial_order.front());
        partial_order.pop_front();
      }
    }
    return it->second;
  }

  /// Forgets the progress of batch `id` (it completed).
  void finish(uint64_t id) {
    partial.erase(id);
    for (auto i = partial_order.rbegin(); i != partial_order.rend(); ++i)
      if (*i == id) {
        partial_order.erase(std::next(i).base());
        break;
      }
  }

  /// Recently completed batch ids: a resent copy of one of them is skipped (its
  /// replies were already sent), so a write is applied at most once.
  std::unordered_set<uint64_t> completed;
  std::deque<uint64_t> completed_order;

  /// Remembers that batch `id` completed, forgetting the oldest beyond a bound.
  void mark_completed(uint64_t id) {
    completed.insert(id);
    completed_order.push_back(id);
    if (completed_order.size() > 65536) {
      completed.erase(completed_order.front());
      completed_order.pop_front();
    }
  }

  /// Tokens of front ends that run a batch on their own thread (guests: see
  /// broker_host::run_here) have this bit set; workers' epochs never do.
  static constexpr uint64_t guest_bit = uint64_t{1} << 63;
  /// Set once the partition got a DEBUG fault (tests only): from then on only its
  /// workers serve it, so the fault hits the requests it is aimed at.
  std::atomic<bool> workers_only{false};

  /// Tries to take the token for the worker with epoch `me`.
  bool claim(uint64_t me) {
    uint64_t none = 0;
    return holder.compare_exchange_strong(none, me);
  }

  /// Takes the token for the worker with epoch `me`, waiting a little while a guest
  /// holds it (a guest runs one batch for at most a time slice). False if a worker
  /// holds it, or the guest did not finish in time (the worker then retries later).
  bool claim_after_guests(uint64_t me) {
    for (int tries = 0; tries < 64; ++tries) {
      if (claim(me))
        return true;
      if ((holder.load() & guest_bit) == 0)
        return false;
      std::this_thread::yield();
    }
    return false;
  }

  /// Gives the token back (only its holder, or the supervisor for a dead holder).
  void release(uint64_t me) {
    uint64_t expected = me;
    holder.compare_exchange_strong(expected, 0);
  }

private:
  std::mutex posted_mutex_;
  posted_work posted_;
  std::atomic<bool> has_posted_{false};
};

/// Shared ownership of a partition_slot.
using slot_ptr = std::shared_ptr<partition_slot>;

} // namespace otkv

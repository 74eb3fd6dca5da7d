#pragma once

// Running a work_batch on a partition: what a partition worker does with each batch, and
// what a front end does when it runs a batch on its own thread (a guest: see
// broker_host::run_here). Plain C++; the caller holds the partition's token.

#include <functional>

#include "actors/batches.hpp"
#include "actors/partition_slot.hpp"
#include "store/log_file.hpp"

namespace otkv {

/// How run_batch ended.
enum class batch_outcome {
  done,    ///< every request ran: `out` holds the results
  skipped, ///< a resent copy of a batch that completed already: nothing to answer
  stopped, ///< `stop()` said so before a request: the slot keeps the progress
};

/// What a worker does between the requests of a batch for the requests that wait
/// (blocking commands: docs/data-types.md), as Redis serves its blocked clients after
/// each command.
class batch_hooks {
public:
  virtual ~batch_hooks() = default;
  /// Request `item` waits: its command found nothing and set op_context::blocked (with
  /// its timeout `block_ms`, 0: none; on its first `keys` keys, 0: all). The worker
  /// parks it.
  virtual void park(const work_item& item, uint64_t block_ms, uint32_t keys) = 0;
  /// Write request `item` ran: its keys may serve requests waiting on them.
  virtual void wrote(const work_item& item) = 0;
};

/// Applies `batch` to `slot` (the caller holds its token), resuming after the requests
/// a predecessor applied. Asks `stop()` before each request (a worker stops once it is
/// no longer the slot's current worker). With `hooks` (and a batch whose requests may
/// wait) a blocking command that finds nothing waits: its item in `out` says `blocked`.
/// Without, it answers at once, as inside MULTI.
batch_outcome run_batch(partition_slot& slot, const work_batch& batch,
                        const std::function<bool()>& stop, done_batch& out,
                        batch_hooks* hooks = nullptr);

/// Hands the op-log records of the batch just run to `file` (none: no op log) before
/// its replies leave, as Redis writes its AOF before replying. Returns true when records
/// were written; if they could not be, every reply in `out` becomes -MISCONF (the writes
/// must not be acknowledged; the records stay for the logger's retry).
bool write_records(partition_slot& slot, store::log_file* file, done_batch& out);

} // namespace otkv

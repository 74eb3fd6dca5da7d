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

/// Applies `batch` to `slot` (the caller holds its token), resuming after the requests
/// a predecessor applied. Asks `stop()` before each request (a worker stops once it is
/// no longer the slot's current worker). With `may_block` a blocking command that finds
/// nothing waits: its item in `out` says `blocked`, and the caller parks it.
batch_outcome run_batch(partition_slot& slot, const work_batch& batch,
                        const std::function<bool()>& stop, done_batch& out,
                        bool may_block = false);

/// Hands the op-log records of the batch just run to `file` (none: no op log) before
/// its replies leave, as Redis writes its AOF before replying. Returns true when records
/// were written; if they could not be, every reply in `out` becomes -MISCONF (the writes
/// must not be acknowledged; the records stay for the logger's retry).
bool write_records(partition_slot& slot, store::log_file* file, done_batch& out);

} // namespace otkv

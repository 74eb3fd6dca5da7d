#pragma once

#include <cstdint>
#include <deque>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/messages.hpp"
#include "actors/partition_slot.hpp"

namespace otkv {

/// State of a partition worker.
struct partition_worker_state {
  slot_ptr slot;
  uint32_t index = 0;
  uint64_t epoch = 0;              ///< this worker's epoch in the slot
  /// Batches waiting for the token, in order, with the actor to answer.
  std::deque<std::pair<batch_ref, caf::actor>> backlog;
  bool retry_scheduled = false;
  uint64_t drop_remaining = 0;     ///< DEBUG DROP-PARTITION: requests still to drop
  caf::actor logger;               ///< the op log (invalid: --appendonly no)
  bool fsync_always = false;       ///< replies wait for the logger's fsync
  static const char* name;
};

/// Serves one partition: applies each batch in order and answers its sender with a
/// done_batch; sweeps expired keys on a timer. Stops when it is no longer the slot's
/// current worker. Fault messages (sleep_atom, crash_atom, drop_atom) exist for tests.
caf::behavior partition_worker(caf::stateful_actor<partition_worker_state>* self, slot_ptr slot,
                               uint32_t index, uint64_t epoch, caf::actor logger,
                               bool fsync_always);

/// Hands a DEBUG fault (SLEEP-/CRASH-/DROP-PARTITION, tests only) to `worker`.
void deliver_fault(const caf::actor& worker, const cmd::fault_request& f);

} // namespace otkv

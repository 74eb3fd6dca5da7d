#pragma once

#include <cstdint>
#include <deque>
#include <variant>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "actors/partition_slot.hpp"

namespace otkv {

/// A snapshot image being taken in slices (image_atom), and the request to answer
/// with it. If the worker stops first, the request gets an error (the snapshot fails
/// and the next one starts over).
struct image_job {
  bool active = false;
  caf::typed_response_promise<partition_image> promise;
  partition_image image;
  image_job() = default;
  image_job(const image_job&) = delete;
  image_job& operator=(const image_job&) = delete;
  ~image_job() { fail(); }
  /// Answers the request with an error (if one is waiting).
  void fail() {
    if (active && promise.pending())
      promise.deliver(caf::make_error(caf::sec::request_receiver_down));
    active = false;
  }
};

/// State of a partition worker.
struct partition_worker_state {
  slot_ptr slot;
  image_job image;                 ///< the snapshot image under way, if any
  uint32_t index = 0;
  uint64_t epoch = 0;              ///< this worker's epoch in the slot
  /// Batches waiting for the token, in order, with the front end to answer.
  std::deque<std::pair<batch_ref, batch_sink>> backlog;
  /// Replication messages waiting for the token, in order (served before the backlog).
  std::deque<std::variant<wire_records, wire_commit, wire_pull>> chain_in;
  bool retry_scheduled = false;
  store::millis block_timer_at = 0; ///< deadline the block timer is set for (0: none)
  uint64_t drop_remaining = 0;     ///< DEBUG DROP-PARTITION: requests still to drop
  op_log log;
  static const char* name;
};

/// Serves one partition (worker_actor): applies each batch in order and answers its
/// sender with a done_batch; sweeps expired keys on a timer. Stops when it is no longer
/// the slot's current worker. Fault messages (sleep_atom, crash_atom, drop_atom) exist
/// for tests.
worker_actor::behavior_type
partition_worker(worker_actor::stateful_pointer<partition_worker_state> self, slot_ptr slot,
                 uint32_t index, uint64_t epoch, op_log log);

/// Hands a DEBUG fault (SLEEP-/CRASH-/DROP-PARTITION, tests only) to `worker`.
void deliver_fault(const worker_actor& worker, const cmd::fault_request& f);

} // namespace otkv

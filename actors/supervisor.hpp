#pragma once

#include <cstdint>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "actors/partition_slot.hpp"

namespace otkv {

/// The partitions recovered at start-up (moved into the slots).
struct recovered_data {
  std::vector<store::partition> parts;
  std::vector<uint64_t> seqs; ///< last op-log record per partition
};

/// Where the partition workers run.
enum class worker_threads : uint8_t {
  own,       ///< each on a thread of its own (detached): a hung worker holds only its own
  scheduler, ///< on the actor system's scheduler (deterministic tests)
};

/// State of the supervisor: each partition's slot (its data), the worker serving it,
/// and the actors to tell when a worker is replaced.
struct supervisor_state {
  std::vector<slot_ptr> slots;
  std::vector<worker_actor> workers;
  std::vector<uint64_t> epochs;    ///< epoch of each current worker
  uint64_t next_epoch = 1;
  std::vector<table_listener> subscribers;
  op_log log;
  worker_threads threads = worker_threads::own;
  static const char* name;
};

/// Spawns one worker per recovered partition and replaces a worker that dies (monitor) or that
/// a front end reports as not answering (`restart_atom`) with a fresh worker on the same
/// partition slot (supervisor_actor): `get_atom` → worker_table; `subscribe_atom` → the
/// sender receives `(update_atom, worker_table)` now and after every replacement;
/// `(restart_atom, partition, old worker)` replaces that worker if it is still current.
supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
           std::shared_ptr<recovered_data> data, op_log log, worker_threads threads);

} // namespace otkv

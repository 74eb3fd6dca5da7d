#pragma once

#include <cstdint>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/messages.hpp"

namespace otkv {

/// State of the supervisor: each partition's data, the worker serving it, and the
/// actors to tell when a worker is replaced.
struct supervisor_state {
  std::vector<partition_data> partitions;
  std::vector<caf::actor> workers;
  std::vector<caf::actor> subscribers;
  uint64_t restarts = 0;
  static const char* name;
};

/// Spawns one worker per partition, monitors them and replaces a worker that dies
/// with a fresh one serving the same partition data.
/// Messages: `get_atom` → worker_table; `subscribe_atom` (from a broker) → the
/// broker receives `(update_atom, worker_table)` now and on every replacement.
caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self, uint32_t partitions);

} // namespace otkv

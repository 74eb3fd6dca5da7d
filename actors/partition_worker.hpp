#pragma once

#include <cstdint>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/messages.hpp"

namespace otkv {

/// State of a partition worker: the partition it serves (shared with the supervisor,
/// which hands it to a replacement when this worker dies).
struct partition_worker_state {
  partition_data data;
  uint32_t index = 0;
  static const char* name;
};

/// Serves one partition: runs each work_batch on it and answers the sender with a
/// done_batch; sweeps expired keys on a timer.
caf::behavior partition_worker(caf::stateful_actor<partition_worker_state>* self,
                               partition_data data, uint32_t index);

} // namespace otkv

#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "store/log_file.hpp"

namespace otkv {

/// When the op log is fsynced.
enum class fsync_policy : uint8_t {
  always,   ///< before the write is acknowledged
  everysec, ///< in the background once a second
  no,       ///< when the OS decides
};

/// State of the logger: the op-log file it syncs, rotates and retries.
struct logger_state {
  std::shared_ptr<store::log_file> file;
  fsync_policy policy = fsync_policy::everysec;
  /// appendfsync always: replies waiting for this mailbox turn's fsync.
  std::vector<std::pair<batch_sink, done_batch>> waiting;
  bool flush_scheduled = false;
  bool retry_scheduled = false;
  static const char* name;
};

/// Keeps the op log (`file`, which the partition workers append to) durable under the
/// fsync policy (logger_actor): once a second (everysec), or for appendfsync always once
/// per mailbox turn for every batch whose replies wait (`log_append_ack`: group commit),
/// forwarding the replies after the fsync (-MISCONF errors if it failed). While the log
/// is failing it retries every second. `rotate_atom` → starts the next generation and
/// answers (new generation, whether the old one had records); `(compact_atom, gen)`
/// deletes the generations before `gen`; `get_atom` → syncs, then whether the log is
/// healthy. Spawned detached: fsync blocks its own thread.
logger_actor::behavior_type logger(logger_actor::stateful_pointer<logger_state> self,
                                   std::shared_ptr<store::log_file> file, fsync_policy policy);

using store::fsync_dir;

} // namespace otkv

#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/messages.hpp"

namespace otkv {

/// When the op log is fsynced.
enum class fsync_policy : uint8_t {
  always,   ///< before the write is acknowledged
  everysec, ///< in the background once a second
  no,       ///< when the OS decides
};

/// State of the logger: the open op-log file.
struct logger_state {
  std::string dir;
  uint32_t partitions = 0;
  uint64_t generation = 0;
  int fd = -1;
  fsync_policy policy = fsync_policy::everysec;
  bool dirty = false;                 ///< written since the last fsync
  std::string pending;                ///< always: records of this mailbox turn
  std::vector<std::pair<caf::actor, done_batch>> waiting; ///< always: replies held back
  bool flush_scheduled = false;
  uint64_t records_bytes = 0;         ///< bytes appended to the current generation
  uint64_t file_size = 0;             ///< bytes of complete records in the current file
  /// Records that could not be written yet (disk full, I/O error), oldest first: they are
  /// retried before anything newer, so the log never gets a gap or a torn record.
  std::string unwritten;
  bool failed = false;                ///< the last write or fsync failed
  bool retry_scheduled = false;
  log_health health;                  ///< published for the front ends
  ~logger_state();
  static const char* name;
};

/// Appends op-log records to `dir`/appendonly-<generation>.log with group commit and
/// the fsync policy. `rotate_atom` → starts the next generation and answers
/// (new generation, whether the old one had records); `(compact_atom, gen)` deletes the
/// generations before `gen`. Spawned detached: write(2) and fsync block its own thread.
/// A failed write is cut back to the last complete record and retried every second;
/// meanwhile `health` holds the error (and, with appendfsync always, the replies waiting
/// for the failed fsync become -MISCONF errors).
caf::behavior logger(caf::stateful_actor<logger_state>* self, std::string dir,
                     uint64_t generation, uint32_t partitions, fsync_policy policy,
                     log_health health);

/// fsyncs a directory so a rename or a new file in it is durable.
void fsync_dir(const std::string& dir);

} // namespace otkv

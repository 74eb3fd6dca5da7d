#pragma once

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/interfaces.hpp"
#include "store/recovery.hpp"

namespace otkv {

/// What the store's actors need, from flags or from an embedding application.
struct store_options {
  std::string dir;                      ///< data directory; empty: no files at all
  bool appendonly = true;
  std::string appendfsync = "everysec"; ///< always | everysec | no
  uint32_t save_interval = 60;          ///< seconds; 0 = no periodic snapshots
  /// A node of a replication chain: its role and link (null: no replication).
  std::shared_ptr<chain_hub> chain;
};

/// The actors behind one store, started by start_store.
struct store_actors {
  logger_actor logger;         ///< invalid without an op log
  supervisor_actor supervisor; ///< owns the partitions and their workers
  snapshot_actor snapshotter;  ///< invalid without a data directory
  worker_table table;     ///< the workers as started
  log_health health;      ///< the op log's state; write commands are refused while not 0
};

/// Starts the logger, the supervisor (with its workers on the recovered partitions) and
/// the snapshot actor in `sys`. Blocks until the worker table is known.
store_actors start_store(caf::actor_system& sys, store::recovery_result& recovered,
                         const store_options& opts);

/// Stops them in an order that keeps every op-log record: workers first, then the
/// logger once it has handled everything they sent.
void stop_store(caf::actor_system& sys, store_actors& actors);

} // namespace otkv

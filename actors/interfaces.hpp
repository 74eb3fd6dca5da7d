#pragma once

// The typed interfaces of the store's actors: what each one accepts and answers, checked
// by the compiler at every send. A message an actor sends itself (a timer, a retry) is
// part of its interface too: CAF 0.17 has no private handlers in a typed actor.
//
// The front ends (the TCP broker, a caf::io::broker, and the embedded front) stay
// dynamically typed; the store's actors hold them as the narrow handles below
// (batch_sink, table_listener, save_listener), made with caf::actor_cast from the sender
// of the batch or the subscription, so what they send back is checked too.

#include <cstdint>
#include <memory>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/batches.hpp"
#include "actors/cluster_wire.hpp"
#include "actors/messages.hpp"
#include "actors/partition_slot.hpp"
#include "store/log_file.hpp"
#include "store/partition.hpp"

namespace otkv {

// -- the front ends, as the store's actors see them ---------------------------

// batch_sink, where a partition worker sends the replies of a batch: actors/blocked_requests.hpp
// (a parked request keeps its front end's).

/// A subscriber of the snapshot actor (a front end: LASTSAVE, INFO persistence).
using save_listener = caf::typed_actor<
  /// A snapshot finished at the given time (ms), successfully or not.
  caf::reacts_to<saved_atom, store::millis, bool>>;

// -- logger (actors/logger.hpp) -------------------------------------------------

/// appendfsync always: the replies of a batch whose records the worker wrote; the logger
/// forwards `batch` to `reply_to` once they are fsynced.
struct log_append_ack {
  done_batch batch;
  batch_sink reply_to;
};

/// The logger: keeps the op log durable under the fsync policy.
using logger_actor = caf::typed_actor<
  /// appendfsync always: fsync this batch's records (group commit), then forward its
  /// replies to `reply_to`.
  caf::reacts_to<log_append_ack>,
  /// Its own: fsync now for the replies waiting in this mailbox turn.
  caf::reacts_to<caf::flush_atom>,
  /// Its own: appendfsync everysec's once-a-second fsync.
  caf::reacts_to<caf::tick_atom>,
  /// Its own: the log failed; write what is left and sync again.
  caf::reacts_to<retry_atom>,
  /// Start the next log generation: (new generation, whether the old one had records).
  caf::replies_to<rotate_atom>::with<uint64_t, bool>,
  /// Delete the log generations before the given one (a snapshot covers them).
  caf::reacts_to<compact_atom, uint64_t>,
  /// Sync everything received so far; whether the log is healthy.
  caf::replies_to<caf::get_atom>::with<bool>>;

class chain_hub;

/// A node's link as its partition workers see it (actors/cluster_node.hpp): records go
/// to the next node of the chain, commits to the previous one.
using chain_link = caf::typed_actor<caf::reacts_to<wire_records>, caf::reacts_to<wire_commit>,
                                    caf::reacts_to<wire_pull>>;

/// Where partition workers put their op-log records.
struct op_log {
  std::shared_ptr<store::log_file> file; ///< null: --appendonly no
  logger_actor syncer; ///< appendfsync always: the logger (replies wait for its fsync)
  /// With replication: the node's place in its chain; the records also go down it
  /// (actors/chain_replica.hpp). Null: no replication.
  std::shared_ptr<chain_hub> chain;
};

// -- partition worker (actors/partition_worker.hpp) ----------------------------

/// A partition worker: serves one partition until a newer worker replaces it.
using worker_actor = caf::typed_actor<
  /// Run a batch on the partition; its sender gets the done_batch.
  caf::reacts_to<batch_ref>,
  /// Its own: try again to take the partition (a predecessor still holds it).
  caf::reacts_to<retry_atom>,
  /// Its own: the 100 ms active expiry sweep.
  caf::reacts_to<caf::tick_atom>,
  /// The partition's point-in-time image, for a snapshot (answered once complete).
  caf::replies_to<image_atom>::with<partition_image>,
  /// Its own: encode the next slice of the image under way.
  caf::reacts_to<image_step_atom>,
  /// The partition's last op-log record number.
  caf::replies_to<seq_atom>::with<uint64_t>,
  /// Replication: records from the chain's previous node (through the gate).
  caf::reacts_to<wire_records>,
  /// Replication: the next node's commit and last record (through the gate).
  caf::reacts_to<wire_commit>,
  /// Replication: the previous node (a head that lost its data) asks for a full copy.
  caf::reacts_to<wire_pull>,
  /// Blocking commands: a front end posted work for the waiting requests in the slot
  /// (partition_slot::post_withdrawal, post_wake): do it now.
  caf::reacts_to<wake_atom>,
  /// Its own: a waiting request's timeout may have passed.
  caf::reacts_to<block_timeout_atom>,
  /// DEBUG SLEEP-PARTITION (tests only): hold the partition and sleep this many ms.
  caf::reacts_to<sleep_atom, uint32_t>,
  /// DEBUG CRASH-PARTITION (tests only): throw, so the worker dies.
  caf::reacts_to<crash_atom>,
  /// DEBUG DROP-PARTITION (tests only): drop whole batches until this many requests
  /// were dropped.
  caf::reacts_to<drop_atom, uint64_t>>;

/// The current partition → worker table (index = partition).
struct worker_table {
  std::vector<worker_actor> workers;
  /// The partitions' data (from the supervisor; empty elsewhere), and the op log their
  /// workers write: for a front end that runs a batch on its own thread when the
  /// partition is free (broker_host::run_here).
  std::vector<slot_ptr> slots;
  op_log log;
};

/// A subscriber of the supervisor (a front end, the snapshot actor).
using table_listener = caf::typed_actor<
  /// The worker table: on subscribing, and after every replacement.
  caf::reacts_to<caf::update_atom, worker_table>>;

// -- supervisor (actors/supervisor.hpp) -----------------------------------------

/// The supervisor: owns the partitions' data and replaces workers.
using supervisor_actor = caf::typed_actor<
  /// The current worker table.
  caf::replies_to<caf::get_atom>::with<worker_table>,
  /// Subscribe the sender (a table_listener) to the worker table.
  caf::reacts_to<caf::subscribe_atom>,
  /// Replace partition p's worker, if it is still the given one (it stopped answering).
  caf::reacts_to<restart_atom, uint32_t, worker_actor>>;

// -- snapshot actor (actors/snapshotter.hpp) ------------------------------------

/// The snapshot actor. It is a blocking actor (CAF 0.17 has no typed blocking actors),
/// so this handle is cast from its spawn: senders are checked, its receive is not.
using snapshot_actor = caf::typed_actor<
  /// Take a snapshot now; whether it was saved.
  caf::replies_to<save_atom>::with<bool>,
  /// Subscribe the sender (a save_listener) to (saved_atom, ms, ok).
  caf::reacts_to<caf::subscribe_atom>,
  /// The supervisor's worker table (the snapshot actor subscribes to it).
  caf::reacts_to<caf::update_atom, worker_table>>;

} // namespace otkv

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(otkv::worker_table)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(otkv::log_append_ack)

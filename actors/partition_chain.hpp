#pragma once

// A partition worker's part in its replication chain (docs/replication.md): what it does
// after a batch at the head, with records from the previous node, with the next node's
// commits and requests, and on its timer. The chain's state lives in the partition's slot
// (actors/chain_replica.hpp); these run while the worker holds the partition's token.

#include <cstdint>

#include "actors/interfaces.hpp"
#include "actors/partition_worker.hpp"

namespace otkv {

/// The worker, as these functions see it.
using worker_ptr = worker_actor::stateful_pointer<partition_worker_state>;

/// Takes on the chain layout in force (docs/replication.md, "Failover") if it changed:
/// a new head starts numbering and expiring, a new tail commits what it has, a node with
/// a new next node sends it what it lacks, a node alone in its chain commits its own
/// records. Called before the partition does anything else for its chain.
void chain_follow_view(worker_ptr self);

/// Publishes the partition's replication progress (INFO replication).
void publish_progress(worker_ptr self);

/// At the head: writes the records made since the last call to the op log and sends them
/// down the chain. Returns the number of the last record.
uint64_t ship_records(worker_ptr self);

/// At the head, after `batch` ran (its records numbered after `before`): ships them and
/// answers `out` to `reply_to` once every record its replies depend on is committed.
void chain_after_batch(worker_ptr self, const work_batch& batch, uint64_t before,
                       done_batch&& out, const batch_sink& reply_to);

/// Answers every request of `batch` with -TRYAGAIN, without running it: this node does
/// not know yet that it has every committed record.
void refuse_batch(worker_ptr self, const work_batch& batch, const batch_sink& reply_to);

/// Sends the whole partition as one image record to the next node, which lacks records
/// no longer kept here (it lost its data, or this node restarted); `up`: to the previous
/// node, a head that lost its data.
void send_image(worker_ptr self, bool up = false);

/// Records from the previous node: applies those after this node's last one, in order (a
/// gap waits for the previous node to send again), writes them to the op log and passes
/// them on, or at the tail commits them; then says where this node is, up the chain. A
/// message without records is the previous node's word that this node is in sync; at the
/// head, a full copy from the next node.
void chain_take_records(worker_ptr self, wire_records& in);

/// The next node's state: commits up to its commit (answering the replies that waited for
/// it) and passes the commit up; tells the next node it is in sync once it has every
/// committed record; at a head behind the next node, asks it for a full copy. What the
/// next node lacks is sent again by chain_tick, not here: reports cross records on the way.
void chain_take_commit(worker_ptr self, const wire_commit& in);

/// The worker's 100 ms timer. When the commit stood still for a while with records sent or
/// the next node behind: sends it again what it lacks (the records kept, or a full copy).
/// Then (but at the head) tells the previous node this node's state, a pulse; and forgets
/// replies held past their bound.
void chain_tick(worker_ptr self);

} // namespace otkv

#pragma once

// The units of work between a front end and the partition workers: plain C++ (no CAF),
// so the front-end core runs in unit tests without an actor system.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "commands/command.hpp"
#include "net/reply.hpp"
#include "net/request_parser.hpp"

namespace otkv {

/// One request (or one part of a multi-partition request) for a partition worker.
struct work_item {
  uint64_t conn;            ///< connection id
  uint64_t seq;             ///< request number on that connection
  uint32_t part;            ///< part index for multi-partition requests
  bool encode;              ///< the result is the final reply: encode it on the worker
  const cmd::command* cmd;  ///< entry of the static command table
  net::arg_list args;
  uint64_t hash = 0;        ///< store::key_hash of the first key if known (else 0)
  /// A read of a READONLY connection: on a replication chain, answer the local newest
  /// version without waiting for its commit.
  bool stale_ok = false;
};

/// A new batch id, unique in the process: the broker and embedded fronts share the
/// workers, whose at-most-once bookkeeping is keyed by batch id.
inline uint64_t next_batch_id() {
  static std::atomic<uint64_t> next{0};
  return ++next;
}

/// The requests for one partition gathered in one broker mailbox turn.
struct work_batch {
  uint64_t id = 0;        ///< from next_batch_id()
  uint32_t partition = 0;
  /// The partition as the front end that made the batch numbers them (cmd::key_router:
  /// another node's front end numbers this node's partitions after its own); handlers
  /// see it as op_context::partition (SCAN's cursor names it).
  uint32_t target = 0;
  /// Reply bytes one connection's requests may make in this batch: past it, the
  /// connection's further requests are not run (it is over its output limit and its
  /// front end drops it), so a client that never reads cannot make a worker build
  /// gigabytes of replies.
  uint64_t output_limit = UINT64_MAX;
  /// Whether its blocking commands may wait (op_context::may_block). A batch another
  /// node forwarded may not: the wait's later answer has no way back to that node, so
  /// they answer at once, as inside MULTI.
  bool may_block = true;
  std::vector<work_item> items;
};

/// A dispatched batch. The broker keeps a reference until the batch is answered, so it
/// can resend the same batch to a fresh worker; workers only read it.
struct batch_ref {
  std::shared_ptr<const work_batch> batch;
};

/// The result of one work_item.
struct done_item {
  uint64_t conn;
  uint64_t seq;
  uint32_t part;
  net::reply result;
  uint64_t ns = 0; ///< time the worker took to run it
  bool over_limit = false; ///< not run: the connection passed the batch's output_limit
  /// A blocking command that waits (its worker parked it, `result` means nothing): the
  /// front end keeps its slot open; its answer comes later, in a batch of id 0.
  bool blocked = false;
  uint64_t block_ms = 0; ///< with `blocked`: its timeout (0: none)
};

/// The results of one work_batch, in the order of its items.
struct done_batch {
  uint32_t partition;
  uint64_t id; ///< the work_batch answered
  std::vector<done_item> items;
};

} // namespace otkv

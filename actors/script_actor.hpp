#pragma once

// The script runner of a front end (docs/scripts.md): a detached actor, so a long script
// holds up neither the front end's other connections nor the scheduler's threads. It
// reserves the partitions a script declares, runs it (cmd::script_runner), writes its
// records to the op log as one group, releases the partitions and sends the reply back.

#include <cstdint>
#include <memory>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>

#include "actors/interfaces.hpp"
#include "commands/scripts.hpp"

namespace otkv {

/// A script for request `seq` of connection `conn`; the reply goes to `reply_to`.
struct script_job {
  uint64_t conn = 0;
  uint64_t seq = 0;
  std::shared_ptr<const cmd::script_call> call;
  batch_sink reply_to;
};

/// What a script actor works with.
struct script_actor_options {
  std::shared_ptr<cmd::script_registry> registry;
  cmd::key_router router;
  std::vector<slot_ptr> slots;          ///< the node's partitions (index = partition)
  std::shared_ptr<store::log_file> log; ///< null: --appendonly no
  logger_actor syncer;                  ///< appendfsync always: replies wait for its fsync
  uint64_t reserve_budget_ns = 0;       ///< how long to wait for the partitions
};

/// A script runner.
using script_actor = caf::typed_actor<
  /// Run the script, then send its reply (a done_batch of one item) to job.reply_to.
  caf::reacts_to<script_job>>;

/// Its behavior. Spawn it detached: a script runs on its own thread.
script_actor::behavior_type script_runner_actor(script_actor::pointer self,
                                                script_actor_options opts);

} // namespace otkv

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(otkv::script_job)

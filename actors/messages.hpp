#pragma once

// The atoms and data of the messages between the front ends (TCP broker, embedded
// front), the supervisor, the partition workers, the logger and the snapshot actor.
// Which actor accepts which message: the typed interfaces in actors/interfaces.hpp.
// Messages never leave the process, so they are allowed as unsafe (unserialised) types.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "actors/batches.hpp"
#include "commands/command.hpp"

namespace otkv {

/// Sent by a front end to itself: route the requests gathered in this mailbox turn.
using dispatch_atom = caf::atom_constant<caf::atom("dispatch")>;
/// Asks the server to stop: stop accepting, answer what is in flight, exit.
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
/// Asks the broker for the port it listens on.
using port_atom = caf::atom_constant<caf::atom("port")>;
/// Front end → supervisor: replace the worker of a partition that stopped answering.
using restart_atom = caf::atom_constant<caf::atom("restart")>;
/// Worker or logger → itself: try again (to take the partition / to write the log).
using retry_atom = caf::atom_constant<caf::atom("retry")>;
/// Faults for tests (DEBUG SLEEP-PARTITION / CRASH-PARTITION / DROP-PARTITION).
using sleep_atom = caf::atom_constant<caf::atom("sleep")>;
using crash_atom = caf::atom_constant<caf::atom("crash")>;
using drop_atom = caf::atom_constant<caf::atom("drop")>;
/// Blocking commands (actors/blocked_requests.hpp): work posted in the slot; a waiting
/// request's timeout.
using wake_atom = caf::atom_constant<caf::atom("wake")>;
using block_timeout_atom = caf::atom_constant<caf::atom("blocktime")>;
/// Snapshot actor: take a snapshot now (SAVE, BGSAVE, SHUTDOWN SAVE).
using save_atom = caf::atom_constant<caf::atom("save")>;
/// Snapshot actor → subscribers: a snapshot finished (time in ms, success).
using saved_atom = caf::atom_constant<caf::atom("saved")>;
/// Worker: the partition's image, or its last op-log record number.
using image_atom = caf::atom_constant<caf::atom("image")>;
using seq_atom = caf::atom_constant<caf::atom("seq")>;
/// Worker → itself: encode the next slice of the snapshot image under way.
using image_step_atom = caf::atom_constant<caf::atom("imgstep")>;
/// Logger: start a new log generation / delete generations before the given one.
using rotate_atom = caf::atom_constant<caf::atom("rotate")>;
using compact_atom = caf::atom_constant<caf::atom("compact")>;

// -- between the shards of a server (actors/shards.hpp) --------------------------------
/// Main → each shard's broker: every shard (in shard order) and the acceptor.
using peers_atom = caf::atom_constant<caf::atom("peers")>;
/// Acceptor → a shard's broker: serve this accepted socket (an int descriptor).
using adopt_atom = caf::atom_constant<caf::atom("adopt")>;
/// Shard → shard: your counters and clients, for a server-wide command (a shard_report).
using report_atom = caf::atom_constant<caf::atom("report")>;
/// Shard → shard: CONFIG RESETSTAT (false) or SLOWLOG RESET (true) ran on another shard.
using reset_atom = caf::atom_constant<caf::atom("resetstat")>;
/// Shard → shard: stop; answer once no reply is owed (SHUTDOWN on another shard).
using drain_atom = caf::atom_constant<caf::atom("drain")>;

/// One shard's counters and CLIENT LIST lines, copied for another shard.
struct shard_report {
  cmd::server_counters counters;
  std::string clients;
};

/// Shard → shard: a CONFIG SET that another shard checked and applied.
struct config_change {
  std::vector<std::pair<std::string, std::string>> pairs;
};

/// One partition's point-in-time image for a snapshot.
struct partition_image {
  uint32_t partition = 0;
  uint64_t seq = 0; ///< last op-log record the image includes
  std::string bytes;
};

/// Whether the op log can be written: 0, or the errno of the failure that stops it. The
/// logger sets it; front ends refuse write commands while it is not 0 (Redis's -MISCONF).
using log_health = std::shared_ptr<std::atomic<int>>;

} // namespace otkv

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(otkv::batch_ref)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(otkv::done_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(otkv::partition_image)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<otkv::shard_report>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(otkv::config_change)

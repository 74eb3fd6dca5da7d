#pragma once

// The command model: what a command is, where it runs, and the contexts its
// handlers see. Plain C++ (no CAF), so the whole command layer runs in unit tests.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_view.hpp"
#include "commands/command_stats.hpp"
#include "net/reply.hpp"
#include "store/watch_table.hpp"
#include "net/request_parser.hpp"
#include "store/key_hash.hpp"
#include "store/partition.hpp"

namespace otkv::cmd {

/// Command flags, as Redis reports them in COMMAND.
enum flag : uint32_t {
  write = 1u << 0,    ///< may modify data
  readonly = 1u << 1, ///< only reads data
  fast = 1u << 2,     ///< O(1) or O(log n)
  admin = 1u << 3,    ///< administrative
  noauth = 1u << 4,   ///< allowed before AUTH
  loading = 1u << 5,  ///< allowed while loading
  stale = 1u << 6,    ///< allowed on a stale replica
  one_partition = 1u << 7, ///< all keys must share a partition (atomic multi-key writes)
  /// Reports every front end's counters (INFO): on a server with several shards the front
  /// end gathers them first (effect::kind::gather).
  server_wide = 1u << 8,
  /// Some subcommands have rows of their own, named "command|subcommand" (as Redis 7
  /// names them): resolve() picks that row when there is one.
  subcommands = 1u << 9,
  /// Copies keys between nodes while their slots move (CLUSTER PUTKEYS): exempt from the
  /// slot checks (frozen, owned).
  moves_slots = 1u << 10,
  /// route::keys: the parts' results always go through on_merge, even when every key is
  /// in one partition (SINTER: a part answers each key's members, the merge combines).
  merged = 1u << 11,
  /// May wait for data (BLPOP, BZPOPMIN, …): its partition's worker parks it
  /// (op_context::blocked) and answers it when a write makes its key ready or its timeout
  /// passes (docs/data-types.md).
  blocking = 1u << 12,
};

/// Where a command runs.
enum class route : uint8_t {
  connection, ///< on the connection broker; touches no partition
  key,        ///< on the worker owning the key at first_key
  keys,       ///< split by partition over its keys, each part run by its owner, then merged
  all,        ///< on every partition (of every node, in a cluster that forwards), then merged
  node,       ///< on every partition of this node, then merged (INFO, CLUSTER COUNTKEYSINSLOT)
  cursor,     ///< on the partition the request's SCAN cursor names, then merged
};

/// A SCAN cursor: the place (cmd::key_router) in its top 24 bits, a position within the
/// place's partition in the low 40.
inline constexpr unsigned scan_position_bits = 40;

/// Everything a partition-side handler may touch: the partition and the time.
struct op_context {
  store::partition& data;
  store::millis now;
  uint32_t partition = 0; ///< which partition `data` is
  /// The reply goes to the client as it is: a handler may return it RESP-encoded (a raw
  /// reply made straight from the stored bytes). Else it is one part of a merge.
  bool encode = false;
  /// store::key_hash of the first key when the front end computed it already (routing
  /// the request), else 0.
  uint64_t key_hash = 0;
  /// A blocking command found nothing to take and may wait: it sets `blocked` (and
  /// `block_ms`, 0 for no limit) instead of answering. False inside MULTI and scripts,
  /// where it answers as if its timeout had passed, as Redis.
  bool may_block = false;
  /// A parked request runs again because one of its keys was written: a key of another
  /// type counts as missing (it keeps waiting), as Redis serves only keys of its type.
  bool waking = false;
  /// With `waking`: the key whose write woke it; a pop takes from that key, as Redis
  /// serves the key that became ready.
  std::string_view ready_key{};
  bool blocked = false;  ///< set by a blocking command that waits (its reply is ignored)
  uint64_t block_ms = 0; ///< with `blocked`: its timeout in milliseconds (0: none)
  /// With `blocked`: it waits on its first this many keys (0: all; BLMOVE: its source).
  uint32_t block_keys = 0;

  /// store::key_hash(key) for the request's first key `key`, computed at most once.
  uint64_t first_key_hash(std::string_view key) const {
    return key_hash != 0 ? key_hash : store::key_hash(key);
  }
};

/// Supervision counters of one partition (INFO partitions).
struct partition_stats {
  uint64_t requests = 0;       ///< requests (or parts) sent to the partition
  uint64_t timeouts = 0;       ///< requests answered with -TIMEOUT
  uint64_t resends = 0;        ///< batches resent to a fresh worker
  uint64_t restarts = 0;       ///< workers replaced
  store::millis last_restart_ms = 0;
};

/// A fault a test asked for with DEBUG …-PARTITION; the broker delivers it.
struct fault_request {
  enum class kind : uint8_t { none, sleep, crash, drop };
  kind what = kind::none;
  uint32_t partition = 0;
  uint64_t value = 0; ///< milliseconds (sleep) or requests (drop)
};

/// What a connection command asks of its front end beyond its reply. Each front end (the
/// TCP broker, the embedded store) performs the effects it can and answers a clear error
/// for those it cannot, so no command is acknowledged without its effect.
struct effect {
  enum class kind : uint8_t {
    none,
    close,       ///< QUIT: close the connection once the reply is written
    auth_failed, ///< a failed AUTH: log it
    config_set,  ///< CONFIG SET: apply `config` all or nothing; the front answers
    save,        ///< SAVE: snapshot now; the reply waits for it
    bgsave,      ///< BGSAVE: snapshot in the background
    shutdown,    ///< SHUTDOWN: stop, after a snapshot as `save` says; no reply
    fault,       ///< DEBUG …-PARTITION: deliver `fault` to its partition's worker
    /// The command reports the counters of every shard: the front end gathers them
    /// and runs it again over their sum (front_core::rerun); no reply yet.
    gather,
    /// CONFIG RESETSTAT / SLOWLOG RESET reset this shard's counters: the other shards
    /// reset theirs too (`slowlog_only`: just the slow log).
    reset_stats,
    /// CLUSTER MOVESLOTS: move slots `args[0]` … `args[1]` to node `args[2]`; the reply
    /// waits for the move.
    move_slots,
    /// EXEC: run the client's queued commands (client_context::tx) as one step
    /// (docs/transactions.md); the front end answers.
    exec,
    /// WATCH: watch keys `args[1…]` (client_context::watch); the front end answers.
    watch,
    /// EVAL / EVALSHA: run the script the request names (docs/scripts.md); the front
    /// end answers.
    script,
  };
  /// SHUTDOWN's snapshot choice: as configured, SAVE, or NOSAVE.
  enum class save_choice : uint8_t { configured, save, nosave };
  kind what = kind::none;
  std::vector<std::pair<std::string, std::string>> config; ///< names lower case
  fault_request fault;
  save_choice save = save_choice::configured;
  bool slowlog_only = false; ///< reset_stats: only the slow log
  net::arg_list args;        ///< gather: the request, to run again; move_slots: what to move
};

class script_registry;

/// What a server is and how it is set up: filled in by its front end (at start, and by
/// the effects it performs), read-only to commands.
struct server_info {
  std::string version;
  std::string bind;
  uint16_t port = 0;
  uint32_t partitions = 1;
  /// I/O shards serving clients, each a front end with its own counters (--threads).
  uint32_t shards = 1;
  int64_t pid = 0;
  store::millis started_ms = 0;
  std::string executable;
  std::string config_file;
  /// Whether DEBUG fault commands are allowed (--enable-debug-command yes).
  bool debug_enabled = false;
  /// The password clients must give with AUTH (empty: none needed).
  std::string requirepass;
  /// Parameters CONFIG GET reports, in order.
  std::vector<std::pair<std::string, std::string>> config;
  /// Produces the CLIENT LIST text (one line per client); empty: no connections.
  std::function<std::string()> client_list;
  /// Persistence, for INFO persistence.
  bool aof_enabled = false;
  std::string appendfsync;
  std::string recovery_summary;   ///< what start-up loaded
  /// The op log's state (0 or the errno that stops it); null: no op log to watch.
  std::shared_ptr<const std::atomic<int>> log_error;
  /// The cluster this server is a node of (--cluster-config); null: a single server.
  std::shared_ptr<const cluster::view> cluster;
  /// The node's scripts (SCRIPT, EVAL; commands/scripts.hpp); null: none (embedded).
  std::shared_ptr<script_registry> scripts;
};

/// What a front end counts. Commands read them (INFO, LASTSAVE, SLOWLOG) and reset some
/// (CONFIG RESETSTAT, SLOWLOG RESET).
struct server_counters {
  uint64_t connected_clients = 0;
  uint64_t blocked_clients = 0; ///< requests waiting in workers (BLPOP, …)
  uint64_t total_connections = 0;
  uint64_t total_commands = 0;
  uint64_t rejected_connections = 0;
  uint64_t net_input_bytes = 0;
  uint64_t net_output_bytes = 0;
  /// Per-partition supervision counters.
  std::vector<partition_stats> partition_counters;
  store::millis last_save_ms = 0; ///< last successful snapshot (0: none)
  bool last_save_ok = true;
  /// Per-command counters, latency percentiles and the slow log.
  command_stats stats;
  /// These are every shard's counters summed (gathered for a server-wide command).
  bool server_wide = false;
  /// With server_wide: the CLIENT LIST lines of the other shards' clients.
  std::string other_clients;
};

/// Adds `from`'s counts to `into` (a shard's counters to the server's sum): totals and
/// per-command counters add up, the slow logs merge newest first, the last save is the
/// latest.
void add_counters(server_counters& into, const server_counters& from);

/// What CONFIG RESETSTAT (or, with `slowlog_only`, SLOWLOG RESET) clears.
void reset_counters(server_counters& counters, bool slowlog_only);

/// A front end's server: what it is, and what it counts.
struct server_context {
  server_info info;
  server_counters counters;
};

/// One client connection's state as commands see it.
struct client_context;

/// Whether a command reporting server-wide counters must have them gathered first: the
/// server has several shards and `client`'s counters are its own shard's only.
bool needs_gather(const client_context& client);

/// A connection's transaction (MULTI … EXEC, WATCH): docs/transactions.md.
struct transaction_state {
  bool active = false; ///< inside MULTI: commands are queued, not run
  bool failed = false; ///< one was refused while queueing: EXEC aborts
  std::vector<std::pair<const command*, net::arg_list>> queued;
  uint64_t queued_bytes = 0; ///< the queued arguments' bytes (bounded by the front end)
  int slot = -1; ///< in a cluster: the one slot its keys are in (-1: no key yet)
};

/// A connection's WATCHed keys (docs/transactions.md).
struct watch_state {
  /// Dirty once a watched key changed (set by the partitions' watch tables); null: none
  /// watched.
  store::watch_flag flag;
  struct key {
    std::string name;
    uint32_t partition = 0;
    store::millis deadline = 0; ///< its expiry when watched (0: none): past it, changed
  };
  std::vector<key> keys;
};

/// One client connection's state as commands see it.
struct client_context {
  uint64_t id = 0;
  std::string name;
  std::string lib_name;
  std::string lib_ver;
  std::string addr;
  std::string laddr;
  store::millis created_ms = 0;
  store::millis now = 0;
  /// Whether the client may run commands (always, when no password is set).
  bool authenticated = true;
  /// READONLY (until READWRITE): its reads on a node of a replication chain answer the
  /// local newest version at once, committed or not (docs/replication.md).
  bool readonly = false;
  /// What the last command asked of its front end beyond its reply; the front end
  /// takes it (std::exchange) after each connection command.
  effect pending;
  /// MULTI … EXEC.
  transaction_state tx;
  /// WATCH … EXEC.
  watch_state watch;
  const server_info* info = nullptr; ///< the server (read-only)
  server_counters* counters = nullptr; ///< its counters
};

/// A multi-partition request being gathered: one result per part, in part order.
struct fanout {
  net::arg_list args;                        ///< the original request (route::all)
  std::vector<std::vector<uint32_t>> slots;  ///< key ordinals each part holds (route::keys)
  std::vector<net::reply> results;           ///< one per part
  size_t keys = 0;                           ///< number of keys in the request
  uint32_t places = 0;                       ///< route::cursor: how many places there are
  uint32_t next_place = 0;                   ///< route::cursor: the place after the cursor's (0: none)
};

/// Runs a command (or one part of it) on the partition that owns its keys.
using partition_op = net::reply (*)(op_context&, const net::arg_list& args);
/// Runs a command on the connection.
using connection_op = net::reply (*)(client_context&, net::arg_list& args);
/// Combines the parts of a multi-partition command into its reply.
using merge_op = net::reply (*)(client_context&, fanout&);

/// One row of the command table.
struct command {
  std::string_view name;     ///< lower case
  int arity;                 ///< Redis convention: N exactly N words, -N at least N
  uint32_t flags;
  int first_key;             ///< position of the first key, 0 if none
  int last_key;              ///< position of the last key, negative counts from the end
                             ///< (numkeys_last: the word before the first key counts them)
  int key_step;              ///< distance between keys
  route where;
  partition_op on_partition; ///< route::key, keys, all
  connection_op on_connection; ///< route::connection
  merge_op on_merge;         ///< route::keys (with several parts) and route::all
  std::string_view group;    ///< Redis's command group, for COMMAND DOCS
  std::string_view summary;  ///< one line, for COMMAND DOCS
};

/// command::last_key for a command whose keys are counted by the word before its first
/// key (SINTERCARD numkeys key [key …] …).
inline constexpr int numkeys_last = -1000000;

/// command::last_key for a command whose first key, a destination, comes before the count
/// of its other keys (ZUNIONSTORE destination numkeys key [key …] …).
inline constexpr int dest_numkeys_last = -1000001;

/// The position of the request's last key for `c`; a numkeys count that is not a number
/// ≥ 1 counts as 1 (numkeys_last) or 0 (dest_numkeys_last), one past the request's words
/// as the words there are (the command's handler refuses both).
int last_key(const command& c, const net::arg_list& args);

/// Whether `c` counts its keys with a numkeys word (numkeys_last, dest_numkeys_last):
/// COMMAND reports such keys as movable.
inline bool movable_keys(const command& c) {
  return c.last_key == numkeys_last || c.last_key == dest_numkeys_last;
}

/// Calls `f(position)` for each key of request `args` for `c`, in order: first_key …
/// last_key every key_step, except that a dest_numkeys_last destination is followed by
/// its count, which is not a key.
template <class F>
void for_each_key(const command& c, const net::arg_list& args, F&& f) {
  if (c.first_key <= 0)
    return;
  auto argc = static_cast<int>(args.size());
  int last = last_key(c, args);
  int k = c.first_key;
  if (c.last_key == dest_numkeys_last) {
    if (k < argc)
      f(k);
    k += 2;
  }
  for (; k <= last && k < argc; k += c.key_step)
    f(k);
}

/// Every command, in table order (filled by the families: commands/command_table.hpp).
const std::vector<command>& command_table();

/// The command named `name` (any case), or nullptr.
const command* find_command(std::string_view name);

/// Lower-cases ASCII.
std::string to_lower(std::string_view s);

/// Case-insensitive ASCII comparison; `lower` must be lower case.
bool iequals(std::string_view s, std::string_view lower);

} // namespace otkv::cmd

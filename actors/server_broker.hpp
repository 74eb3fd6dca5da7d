#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/io/broker.hpp>

#include "actors/config.hpp"
#include "actors/front_core.hpp"
#include "actors/interfaces.hpp"
#include "actors/reservation.hpp"
#include "actors/script_actor.hpp"
#include "cluster/cluster_view.hpp"
#include "net/request_parser.hpp"

namespace otkv {

/// What a server's shards share, and touch only through atomics: the client count
/// (maxclients is server-wide) and the ids of clients and slow-log entries.
struct shard_shared {
  std::atomic<uint64_t> clients{0};
  std::atomic<uint64_t> next_client_id{1};
  std::shared_ptr<std::atomic<uint64_t>> slowlog_ids = std::make_shared<std::atomic<uint64_t>>(0);
  /// The node's scripts (SCRIPT LOAD on one shard, EVALSHA on another).
  std::shared_ptr<cmd::script_registry> scripts = std::make_shared<cmd::script_registry>();
};

/// What the broker needs to know at start.
struct broker_options {
  /// The settings (the option table's); CONFIG SET changes the broker's copy.
  server_config cfg;
  snapshot_actor snapshotter;   ///< answers save_atom (null: no snapshots)
  std::string recovery_summary; ///< what start-up loaded, for INFO
  log_health log_error;         ///< the op log's state (null: none)
  /// One shard of several (actors/shards.hpp): the acceptor hands it its connections
  /// (adopt_atom) and it learns the other shards from peers_atom. Else the broker
  /// listens on cfg.bind:cfg.port itself (the embedding API's TCP port).
  bool fed = false;
  uint32_t shard = 0;  ///< this shard's index
  uint32_t shards = 1; ///< shards in the server
  std::shared_ptr<shard_shared> shared; ///< null: the broker's own
  /// A node of a cluster (--cluster-config): its view, and its link to the other nodes
  /// (actors/cluster_node.hpp), which batches for their partitions go through. Null: a
  /// single server.
  std::shared_ptr<const cluster::view> cluster;
  caf::actor link;
};

/// One client connection: its session in the front-end core, and its socket.
struct connection : front_session {
  caf::io::connection_handle hdl;
  net::request_parser parser;
  bool closing = false;            ///< read nothing more (QUIT, protocol error, shutdown)
  size_t read_size = 0;            ///< bytes CAF asks of the socket per read
  /// After the peer half-closed (shut down its sending side) while replies were
  /// pending, CAF drops its socket; a duplicate of it (`peer_fd`) carries the
  /// remaining replies, as Redis answers `printf 'GET k\r\n' | nc -q1 …`.
  int peer_fd = -1;
  std::string peer_out;            ///< bytes not yet accepted by `peer_fd`
  /// Reply bytes handed to CAF and not yet written by it; while not 0, new replies go
  /// behind them through CAF instead of straight to the socket.
  uint64_t caf_unsent = 0;
  bool acking_writes = false;      ///< CAF reports its writes (data_transferred_msg)
  /// Replies waiting until CAF's buffer for this connection drains (see feed_caf).
  std::deque<std::string> backlog;
  uint64_t backlog_bytes = 0;
  /// Parsing is paused: the client has its pipeline cap of requests waiting for replies.
  /// `stash` holds bytes read but not parsed yet (at most client-query-buffer-limit);
  /// they are parsed first on resuming.
  bool paused = false;
  std::string stash;
  store::millis last_active_ms = 0; ///< last time a request arrived (steady_ms)
  store::millis peer_deadline = 0; ///< give up on `peer_fd` after this (steady_ms)
};

struct server_broker_state;

/// The front-end core's view of the broker: batches go to the workers, restarts to the
/// supervisor, and a client over its output limit is dropped.
struct broker_host : front_host {
  caf::io::stateful_broker<server_broker_state>* self = nullptr;
  void send_batch(std::shared_ptr<const work_batch> batch) override;
  void restart_worker(uint32_t partition) override;
  void over_output_limit(front_session& s) override;
  /// Runs `batch` on the broker's thread when its partition's token is free (no worker
  /// is inside a batch: a hung worker holds it, so its partition's requests still go the
  /// supervised way), no worker left a batch half-done, the partition got no DEBUG
  /// fault, replies need not wait for an fsync (appendfsync always), and no request in it
  /// walks a whole partition (KEYS, SCAN, FLUSHALL: left to the workers).
  bool run_here(const work_batch& batch, done_batch& out) override;
  /// Whether the node serving `target` is reachable (the cluster view says).
  bool reachable(uint32_t target) override;
  /// EXEC (docs/transactions.md): with the partitions at hand (not a hand-made table)
  /// and not on a replication chain, whose records go down the chain from the workers.
  bool transactions() const override;
  bool reserve(const std::vector<uint32_t>& partitions, uint64_t deadline_ns) override;
  store::partition* reserved(uint32_t p) override;
  store::watch_table* watches(uint32_t p) override;
  int end_reservation() override;
  bool reply_after_sync(uint64_t conn, uint64_t seq, net::reply& reply) override;
  bool held_by_guest(uint32_t p) override;
  void unblock(uint32_t partition, uint64_t conn, uint64_t seq) override;
  /// EVAL (docs/scripts.md): on the broker's script actor, started at the first script.
  bool run_script(uint64_t conn, uint64_t seq, std::shared_ptr<cmd::script_call> call) override;
};

/// State of the server broker: the listening socket and the socket side of every
/// connection; the request path is the front-end core's.
struct server_broker_state {
  broker_options opts;
  cmd::server_context server;
  std::vector<worker_actor> workers;
  /// The partitions and the op log, for batches the broker runs itself (run_here).
  std::vector<slot_ptr> slots;
  std::shared_ptr<store::log_file> log_file;
  bool runs_here = false;   ///< whether it may (not with appendfsync always)
  logger_actor syncer;      ///< appendfsync always: the logger (EXEC replies wait for it)
  std::unique_ptr<reservation> reserved; ///< an EXEC's partitions, while it runs
  uint64_t guest_token = 0; ///< its token in a partition_slot while it runs a batch
  cmd::key_router router;   ///< where keys go (the core's, for the script actor)
  script_actor scripts;     ///< runs EVAL (null until the first script)
  supervisor_actor supervisor;
  broker_host host;
  std::unique_ptr<front_core> core; ///< sessions (connections), batches, timeouts, stats
  bool dispatch_scheduled = false;
  std::unordered_map<int64_t, uint64_t> by_handle; ///< connection handle id → client id
  std::vector<uint64_t> paused;   ///< connections whose parsing is paused
  std::vector<std::pair<uint64_t, uint64_t>> touched; ///< scratch: replies that became ready
  std::string out;                ///< scratch: the replies of one write
  caf::io::accept_handle acceptor; ///< its own listener (not fed)
  std::vector<caf::actor> peers;   ///< the other shards
  caf::actor feeder;               ///< the acceptor (fed)
  /// Shutdown across shards: peers not yet drained (this shard started it), and the
  /// shards waiting for this one to drain (drain_atom).
  size_t peers_draining = 0;
  std::vector<caf::response_promise> drain_waiters;
  bool draining = false;
  size_t closed_pending = 0;      ///< connections marked closed since the last reap
  bool saving_for_shutdown = false;
  bool shutdown_requested = false; ///< SHUTDOWN ran: stop once its reply is out
  cmd::effect::save_choice shutdown_save = cmd::effect::save_choice::configured;
  static const char* name;
};

/// The TCP front end: accepts connections, reads and parses requests, hands them to its
/// front-end core (which batches them to the partition workers and merges the results)
/// and writes the replies in request order. Answers `port_atom` with the bound port and `shutdown_atom` by
/// draining and stopping.
caf::behavior server_broker(caf::io::stateful_broker<server_broker_state>* self,
                            broker_options opts, worker_table table,
                            supervisor_actor supervisor);

} // namespace otkv

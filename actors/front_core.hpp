#pragma once

// The front-end core: what every front end (the TCP broker, the embedded store, the
// in-process test harness) does with a request between reading it and answering it:
// admission, batching per partition, reply slots in request order, the merge of split
// commands, the request-timeout policy and the statistics. Plain C++ (no CAF, no
// sockets); the front end passes the time in, so tests step the clocks.

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/batches.hpp"
#include "actors/inflight_batches.hpp"
#include "actors/ring_buffer.hpp"
#include "commands/command.hpp"
#include "commands/dispatch.hpp"
#include "commands/scripts.hpp"

namespace otkv {

/// One request's reply, filled in as its parts are answered.
struct reply_slot {
  bool ready = false;
  bool close_after = false;          ///< the front closes the connection after it
  net::reply reply;                  ///< once ready; kind raw in an encoding session
  const cmd::command* cmd = nullptr; ///< the command (null: refused at admission)
  std::unique_ptr<cmd::fanout> fan;  ///< results gathered so far (merged requests)
  /// Every shard's counters, which a gathered command reports instead of its own shard's.
  std::unique_ptr<cmd::server_counters> view;
  uint64_t ns = 0;                   ///< worker time so far; start time (connection commands)
  size_t missing = 0;                ///< parts not answered yet
  uint32_t partition = 0;            ///< partition of the first part (for errors)
  store::millis deadline = 0;        ///< -TIMEOUT after this (monotonic)
  /// EXEC waiting for the connection's earlier requests: the commands it runs.
  std::unique_ptr<cmd::transaction_state> tx;
  /// EVAL waiting for the connection's earlier requests: the script it runs.
  std::unique_ptr<cmd::script_call> script;
  bool script_running = false; ///< its script was handed to the front end
  /// A blocking command that waits in its partition's worker (done_item::blocked): no
  /// deadline here, the worker answers it (data, or its timeout).
  bool blocked = false;
};

/// A client of a front end: its context and its replies in request order. Front ends
/// derive their connection state from it.
struct front_session {
  virtual ~front_session() = default;
  cmd::client_context client;
  ring_buffer<reply_slot> queue; ///< unreleased replies; the front has sequence first_seq
  uint64_t first_seq = 0;
  /// Replies as RESP bytes (kind raw, mostly made on the workers); else as reply objects.
  bool encode = true;
  /// A ready reply is reported (touched) only once every earlier one is: replies leave in
  /// request order (a connection). Else each is reported when ready (embedded callers).
  bool in_order = true;
  bool closed = false; ///< gone: results for it are dropped and reap() forgets it
  /// An EXEC or EVAL waiting for this connection's earlier requests, or a script running
  /// (its sequence; 0: none). The front end reads no further request of the connection
  /// meanwhile (order).
  uint64_t exec_waiting = 0;
  /// Running average of reply sizes (starts high, so a first burst of unknown replies
  /// counts as large): the broker's pipeline cap is a reply byte budget over it.
  uint64_t reply_avg = 128 * 1024;

  /// The slot of request `seq`, or nullptr once it was released.
  reply_slot* slot(uint64_t seq) {
    if (seq < first_seq || seq - first_seq >= queue.size())
      return nullptr;
    return &queue[seq - first_seq];
  }
  /// Sequence number the next request gets.
  uint64_t next_seq() const { return first_seq + queue.size(); }
  /// Releases the front slot (the front end has sent or delivered its reply).
  void pop_front() {
    queue.pop_front();
    ++first_seq;
  }
};

/// Request-path settings a front end may change while it runs (CONFIG SET).
struct front_settings {
  store::millis request_timeout_ms = 500; ///< time one attempt may take
  uint32_t request_attempts = 2;          ///< attempts before -TIMEOUT
  uint64_t output_limit = UINT64_MAX;     ///< reply bytes per session per batch (workers)
  /// Argument bytes one connection may queue inside MULTI: past it the command is refused
  /// and EXEC aborts (as a query buffer, a transaction's queue has a bound).
  uint64_t multi_queue_bytes = uint64_t{512} << 20;

  /// When a request gets its -TIMEOUT at the latest: every attempt, plus slack for the
  /// detection tick and the worker replacement.
  store::millis final_deadline_ms() const {
    return request_timeout_ms * request_attempts + 1000;
  }
};

/// What the core asks of its front end.
class front_host {
public:
  virtual ~front_host() = default;
  /// Sends `batch` to the worker of its partition (first time or resend).
  virtual void send_batch(std::shared_ptr<const work_batch> batch) = 0;
  /// Asks for a fresh worker for `partition`: its oldest batch is overdue.
  virtual void restart_worker(uint32_t partition) = 0;
  /// `s` made more reply bytes in one batch than the output limit: drop it.
  virtual void over_output_limit(front_session& s) = 0;
  /// Runs `batch` on the front end's own thread if it can (instead of send_batch),
  /// filling `out` with its results. Asked only while none of this front end's batches
  /// for the partition is in flight, so its requests keep their order.
  virtual bool run_here(const work_batch& batch, done_batch& out) {
    (void)batch;
    (void)out;
    return false;
  }
  /// Whether the node of `target`, another node's partition (cmd::key_router), can be
  /// reached now: if not, its requests are answered -CLUSTERDOWN at once.
  virtual bool reachable(uint32_t target) {
    (void)target;
    return true;
  }

  // -- transactions (docs/transactions.md) -----------------------------------------
  /// Whether this front end can reserve partitions for EXEC (it reaches their data).
  virtual bool transactions() const { return false; }
  /// Reserves this node's partitions `partitions` (ascending, each once) for one EXEC,
  /// waiting until cmd::monotonic_ns() passes `deadline_ns` at most: true with all held,
  /// false with none (a worker stayed inside a batch).
  virtual bool reserve(const std::vector<uint32_t>& partitions, uint64_t deadline_ns) {
    (void)partitions;
    (void)deadline_ns;
    return false;
  }
  /// Partition `p`'s data while it is reserved.
  virtual store::partition* reserved(uint32_t p) {
    (void)p;
    return nullptr;
  }
  /// Partition `p`'s WATCH table while it is reserved.
  virtual store::watch_table* watches(uint32_t p) {
    (void)p;
    return nullptr;
  }
  /// Writes the records the reserved partitions made to the op log as one group, then
  /// releases them. Returns 0, or the op log's errno (nothing may be acknowledged).
  virtual int end_reservation() { return 0; }
  /// With appendfsync always: sends `reply` for request `seq` of connection `conn` back
  /// through on_done() once the op log is on disk, and returns true; false: answer now.
  virtual bool reply_after_sync(uint64_t conn, uint64_t seq, net::reply& reply) {
    (void)conn;
    (void)seq;
    (void)reply;
    return false;
  }
  /// Whether a script or a transaction (a guest, not a worker) holds partition `p` now:
  /// its late requests are busy, not lost to a hung worker.
  virtual bool held_by_guest(uint32_t p) {
    (void)p;
    return false;
  }
  /// Request `seq` of connection `conn` waits in partition `partition`'s worker (a
  /// blocking command) but nobody will take its answer (the connection closed, or it was
  /// answered already): the worker forgets it, so no later write is taken for it.
  virtual void unblock(uint32_t partition, uint64_t conn, uint64_t seq) {
    (void)partition;
    (void)conn;
    (void)seq;
  }
  /// Runs script `call` for request `seq` of connection `conn` with its partitions
  /// reserved (docs/scripts.md), and answers it through on_done() (a done_batch of one
  /// item), perhaps before returning. False: this front end runs no scripts.
  virtual bool run_script(uint64_t conn, uint64_t seq, std::shared_ptr<cmd::script_call> call) {
    (void)conn;
    (void)seq;
    (void)call;
    return false;
  }
};

/// A connection command whose effect the front end must perform before it answers.
struct pending_effect {
  cmd::effect effect; ///< kind none: the request was answered already
  net::reply reply;   ///< the command's own reply
  uint64_t seq = 0;   ///< its slot: answer() it
};

/// The request path shared by every front end. See the file comment.
class front_core {
public:
  /// Serves the places `router` names: this node's partitions and, in a cluster that
  /// forwards, the other nodes' (host_.send_batch sends their batches to their node,
  /// which supervises them: they are not resent from here). Counts into `server` (which
  /// must outlive it).
  front_core(front_host& host, cmd::server_context& server, cmd::key_router router);

  /// A forwarded request is answered by its node within that node's request budget:
  /// its own -TIMEOUT comes after this much more (for the network and the node's tick).
  static constexpr store::millis forward_slack_ms = 1000;

  /// Run-time settings.
  front_settings settings;
  /// Clock for the run time of connection commands (statistics), replaceable in tests.
  std::function<uint64_t()> ns_clock;

  // -- sessions ----------------------------------------------------------------

  /// Adds a session of type S (derived from front_session) under `id`.
  template <class S>
  S& open(uint64_t id) {
    auto owned = std::make_unique<S>();
    S& s = *owned;
    s.client.id = id;
    s.client.info = &server_.info;
    s.client.counters = &server_.counters;
    sessions_[id] = std::move(owned);
    return s;
  }
  /// The session `id`, or nullptr.
  front_session* find(uint64_t id) {
    auto i = sessions_.find(id);
    return i == sessions_.end() ? nullptr : i->second.get();
  }
  /// Every session, by id.
  std::unordered_map<uint64_t, std::unique_ptr<front_session>>& sessions() { return sessions_; }
  /// Forgets the sessions marked closed; calls `gone(session)` before each goes. Their
  /// requests waiting in workers (blocking commands) are withdrawn.
  template <class F>
  void reap(F&& gone) {
    for (auto i = sessions_.begin(); i != sessions_.end();) {
      if (i->second->closed) {
        withdraw_blocked(*i->second);
        gone(*i->second);
        i = sessions_.erase(i);
      } else {
        ++i;
      }
    }
  }

  // -- requests ----------------------------------------------------------------

  /// Admits one request of `s` at wall-clock `now` and monotonic `tnow`: refuses it
  /// (unknown, arity, NOAUTH, CROSSSLOT, MISCONF), runs it (connection commands) or
  /// queues it for its partitions (dispatch() sends them). Returns true when it is a
  /// connection command with an effect: take_effect() says which, and the request's slot
  /// waits for answer().
  bool submit(front_session& s, net::arg_list&& args, store::millis now, store::millis tnow);

  /// The effect the last submit() returned true for.
  pending_effect take_effect() { return std::move(effect_); }
  /// Runs request `seq` of `s` (`args`), which asked for effect::kind::gather, again
  /// over `view`: the sum of every shard's counters. (route::all requests are queued:
  /// dispatch() sends them.)
  void rerun(front_session& s, uint64_t seq, net::arg_list&& args,
             std::unique_ptr<cmd::server_counters> view, store::millis now, store::millis tnow);

  /// Gives slot `seq` of `s` its reply (after a connection command's effect).
  void answer(front_session& s, uint64_t seq, net::reply r, bool close_after = false);

  /// Adds a ready slot holding `r` (a reply the front end makes itself).
  void push_ready(front_session& s, const net::reply& r, bool close_after = false);

  /// Whether requests wait for dispatch().
  bool has_batches() const { return queued_ > 0; }

  /// Sends the requests gathered since the last call, one batch per partition, or runs
  /// a batch at once where the front end can (front_host::run_here); `now`: wall clock,
  /// `tnow`: monotonic.
  void dispatch(store::millis now, store::millis tnow);

  /// Applies a worker's results (`now`: wall clock, for merges).
  void on_done(done_batch& batch, store::millis now);

  /// A fresh worker serves `partition`: resends its unanswered batches (or fails those
  /// out of attempts).
  void worker_replaced(uint32_t partition, store::millis now, store::millis tnow);

  /// Takes a new partition → worker table (`W`: the front end's worker handle): each
  /// partition whose worker changed gets its unanswered batches again (worker_replaced).
  template <class W>
  void take_workers(std::vector<W>& current, std::vector<W>&& fresh, store::millis now,
                    store::millis tnow) {
    auto old = std::move(current);
    current = std::move(fresh);
    for (uint32_t p = 0; p < current.size() && p < old.size(); ++p)
      if (current[p] != old[p])
        worker_replaced(p, now, tnow);
  }

  /// Supervision at monotonic `tnow`: overdue partitions get a fresh worker, batches out
  /// of attempts and requests past their final deadline get -TIMEOUT, and requests
  /// forwarded to a node that went down get -CLUSTERDOWN.
  void tick(store::millis tnow);

  /// Sessions with replies that became ready since the last call: (id, request sequence)
  /// pairs into `out` (replacing its content; its capacity is reused).
  void take_touched(std::vector<std::pair<uint64_t, uint64_t>>& out) {
    out.clear();
    out.swap(touched_);
  }

  /// Whether every request of `s` not answered yet waits in a worker (a blocking
  /// command, and the requests behind it): a shutdown does not wait for those.
  static bool only_blocked(const front_session& s) {
    for (size_t i = 0; i < s.queue.size(); ++i)
      if (!s.queue[i].ready)
        return s.queue[i].blocked;
    return true;
  }

  /// Whether a request of `s` waits in a worker (a blocking command).
  static bool has_blocked(const front_session& s) {
    for (size_t i = 0; i < s.queue.size(); ++i)
      if (s.queue[i].blocked && !s.queue[i].ready)
        return true;
    return false;
  }

private:
  /// Tells the workers to forget the waiting requests of `s` (it is going).
  void withdraw_blocked(front_session& s);
  void queue_request(front_session& s, uint64_t seq, reply_slot& slot, const cmd::command* c,
                     net::arg_list&& args, store::millis tnow);
  void queue_part(front_session& s, uint64_t seq, uint32_t partition, uint32_t part,
                  bool encode, const cmd::command* c, net::arg_list&& args);
  void complete(front_session& s, uint64_t seq, reply_slot& slot, net::reply&& r);
  /// Queues request `args` (command `c`) of `s`, inside MULTI: answers +QUEUED, or the
  /// error that makes its EXEC abort.
  void queue_in_multi(front_session& s, const cmd::command* c, net::arg_list&& args,
                      net::reply&& refused);
  /// Runs EXEC `seq` of `s` now if every earlier request of `s` is answered, else when
  /// they are (front_session::exec_waiting).
  void exec(front_session& s, uint64_t seq, reply_slot& slot);
  /// WATCH `args` (request `seq` of `s`): registers its keys in their partitions' watch
  /// tables under the connection's flag; answers it.
  void watch(front_session& s, uint64_t seq, reply_slot& slot, const net::arg_list& args);
  /// EVAL `args` (request `seq` of `s`): places its keys, then runs it once every
  /// earlier request of `s` is answered.
  void script(front_session& s, uint64_t seq, reply_slot& slot, const net::arg_list& args);
  /// Hands script `call` (request `seq` of `s`) to the front end; `s` reads nothing more
  /// until it is answered.
  void start_script(front_session& s, uint64_t seq, std::unique_ptr<cmd::script_call> call);

public:
  /// How long WATCH, EXEC and EVAL wait for their partitions: the request budget, in ns.
  uint64_t reserve_budget_ns() const {
    return static_cast<uint64_t>(settings.request_timeout_ms) * settings.request_attempts
           * 1'000'000;
  }

private:
  /// Runs the transaction of EXEC `seq` of `s`: its partitions reserved, its commands in
  /// order, its records one group; answers the EXEC.
  void run_transaction(front_session& s, uint64_t seq, cmd::transaction_state tx);
  void apply(done_item& item, uint32_t partition, const net::arg_list* args, store::millis now);
  void fail_batch(const work_batch& batch, const net::reply& error);
  /// The error for a request whose first part went to `target` and got no reply in time.
  net::reply late_reply(uint32_t target);
  void count(const front_session& s, const cmd::command& c, uint64_t ns, bool failed,
             const net::arg_list* args, store::millis now);

  front_host& host_;
  cmd::server_context& server_;
  cmd::key_router router_;
  std::unordered_map<uint64_t, std::unique_ptr<front_session>> sessions_;
  std::vector<work_batch> batches_; ///< gathered per partition since the last dispatch
  size_t queued_ = 0;
  inflight_batches inflight_;       ///< sent to workers, not answered yet
  /// Batches sent to other nodes, not answered yet, by id, with the time they left: for
  /// the statistics of their requests, and -CLUSTERDOWN when their node goes down.
  std::unordered_map<uint64_t, std::pair<std::shared_ptr<const work_batch>, store::millis>>
    forwarded_;
  std::vector<std::pair<uint64_t, uint64_t>> touched_;
  pending_effect effect_; ///< the last connection command's effect (see submit)
  store::millis now_ = 0; ///< the wall clock as last passed in (a waiting EXEC runs at it)
  done_batch ran_;        ///< scratch: the results of a batch run by the front end
};

} // namespace otkv

#include "actors/server_broker.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <chrono>

#include <spdlog/spdlog.h>

#include "actors/batch_run.hpp"
#include "actors/chain_replica.hpp"
#include "actors/cluster_wire.hpp"
#include "actors/clock.hpp"
#include "actors/config.hpp"
#include "actors/partition_worker.hpp"
#include "actors/protected_mode.hpp"
#include "commands/errors.hpp"

namespace otkv {

const char* server_broker_state::name = "server_broker";

namespace {

using broker_ptr = caf::io::stateful_broker<server_broker_state>*;

/// Bytes asked of the socket per read. CAF shrinks its read buffer to what a read got and
/// re-grows it to this size, zero-filling, before the next read: every read costs a memset
/// of about this size, which at 16 KiB was a fifth of the broker thread's instructions for
/// small pipelined requests. So reads are small (4 KiB: a pipeline of a hundred small
/// requests), and larger (up to 64 KiB) only while a large bulk is being read, which fills
/// what was zeroed.
constexpr size_t read_chunk = 4 * 1024;
constexpr size_t max_read_chunk = 64 * 1024;
/// How long a broker runs one batch itself (run_here) before it hands the rest to the
/// partition's worker.
constexpr uint64_t run_here_slice_ns = 250'000;
/// How often deadlines and the shutdown drain are checked.
constexpr auto tick_interval = std::chrono::milliseconds(50);
/// Requests one connection may have waiting for replies before the broker stops reading
/// it (resuming at half): at most max_pipeline, and fewer when its replies are large, so
/// that about reply_budget bytes of replies are being made for one client at a time. A
/// client that pipelines large replies without reading them costs the workers and the
/// broker small slices of work, between which other clients are served.
constexpr uint64_t max_pipeline = 256;
constexpr uint64_t reply_budget = 4 << 20;
/// Unwritten bytes of one connection that CAF's write buffer may hold; more wait in the
/// connection's backlog.
constexpr uint64_t caf_high_water = 1 << 20;

/// Sends `xs` to `dest` (an actor of the store, in the home actor system) as from the
/// broker, to be scheduled by `dest`'s own system. (A plain send wakes the receiver on
/// the sender's execution unit: for a broker of another shard, that shard's scheduler.)
template <class Dest, class... Ts>
void send_home(broker_ptr self, const Dest& dest, Ts&&... xs) {
  if (dest)
    dest->eq_impl(caf::make_message_id(), self->ctrl(), nullptr, std::forward<Ts>(xs)...);
}

/// Keeps what the broker needs of `t` to run batches itself (broker_host::run_here).
void take_partitions(server_broker_state& st, const worker_table& t) {
  if (t.slots.empty())
    return; // a table made by hand (tests, the embedding API): workers only
  st.slots = t.slots;
  st.log_file = t.log.file;
  st.runs_here = !t.log.syncer;
  st.syncer = t.log.syncer;
}

/// The connection `id`, or nullptr.
connection* find_conn(server_broker_state& st, uint64_t id) {
  return static_cast<connection*>(st.core->find(id));
}

uint64_t pipeline_cap(const connection& c) {
  return std::clamp<uint64_t>(reply_budget / std::max<uint64_t>(c.reply_avg, 1), 1,
                              max_pipeline);
}

void schedule_dispatch(broker_ptr self) {
  if (!self->state.dispatch_scheduled) {
    self->state.dispatch_scheduled = true;
    self->send(self, dispatch_atom::value);
  }
}

/// Marks `c` closed; reap() forgets it.
void mark_closed(server_broker_state& st, connection& c) {
  if (!c.closed) {
    c.closed = true;
    ++st.closed_pending;
  }
}

/// Sends what it can of `c.peer_out` on the duplicated socket; closes that socket
/// once every reply is out, or when it fails.
void write_peer(broker_ptr self, connection& c) {
  while (!c.peer_out.empty()) {
    auto n = ::send(c.peer_fd, c.peer_out.data(), c.peer_out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return; // retried on the next tick
    if (n <= 0) {
      c.peer_out.clear();
      c.queue.clear();
      break;
    }
    c.peer_out.erase(0, static_cast<size_t>(n));
  }
  if (c.queue.empty()) {
    ::close(c.peer_fd);
    c.peer_fd = -1;
    mark_closed(self->state, c);
  }
}

/// Drops a client whose replies exceed the output limit (as Redis does): it does not read
/// them, and buffering them without bound would let it take the server's memory.
void drop_over_limit(broker_ptr self, connection& c, uint64_t bytes) {
  spdlog::warn("client {} dropped: {} bytes of unread replies exceed the output limit",
               c.client.addr, bytes);
  c.backlog.clear();
  c.backlog_bytes = 0;
  if (c.peer_fd >= 0) {
    // Half-closed: CAF's handle (a descriptor number) may already belong to a newer
    // connection; only the duplicate is ours.
    ::close(c.peer_fd);
    c.peer_fd = -1;
    c.peer_out.clear();
  } else if (!c.closed) {
    self->wr_buf(c.hdl).clear();
    // shutdown(2) makes CAF's pending write fail, so its buffers are freed too.
    ::shutdown(static_cast<int>(c.hdl.id()), SHUT_RDWR);
    self->close(c.hdl);
  }
  c.queue.clear();
  c.stash.clear();
  c.closing = true;
  mark_closed(self->state, c);
}

/// Hands backlog replies to CAF while it holds less than caf_high_water unwritten bytes of
/// this connection (`all`: everything, before a close). CAF's buffer is one vector that
/// is copied when it grows: the backlog keeps the replies of a slow reader as they are
/// (moved, never copied) until the socket takes them.
void feed_caf(broker_ptr self, connection& c, bool all = false) {
  if (c.backlog.empty() || (c.caf_unsent >= caf_high_water && !all))
    return;
  auto& buf = self->wr_buf(c.hdl);
  while (!c.backlog.empty() && (all || c.caf_unsent < caf_high_water)) {
    auto& bytes = c.backlog.front();
    buf.insert(buf.end(), bytes.begin(), bytes.end());
    c.caf_unsent += bytes.size();
    c.backlog_bytes -= bytes.size();
    c.backlog.pop_front();
  }
  if (!c.acking_writes) { // learn when CAF has written it (data_transferred_msg)
    c.acking_writes = true;
    self->ack_writes(c.hdl, true);
  }
  self->flush(c.hdl);
}

/// Writes the replies at the front of the queue that are ready; closes the connection
/// after a reply that asks for it.
void write_ready(broker_ptr self, connection& c) {
  if (c.closed)
    return;
  if (c.peer_fd >= 0) {
    while (!c.queue.empty() && c.queue.front().ready) {
      auto& bytes = c.queue.front().reply.text;
      c.peer_out += bytes;
      self->state.server.counters.net_output_bytes += bytes.size();
      bool close = c.queue.front().close_after;
      c.pop_front();
      if (close)
        c.queue.clear();
    }
    write_peer(self, c);
    return;
  }
  auto& out = self->state.out;
  out.clear();
  bool close = false;
  // Nothing waits in CAF's buffers or the backlog: the ready replies go straight to the
  // socket (CAF's handle id is its descriptor), which spares CAF's epoll_ctl add and
  // remove of write interest for every flush. Otherwise they queue, in order.
  bool direct = c.caf_unsent == 0 && c.backlog.empty();
  while (!c.queue.empty() && c.queue.front().ready) {
    auto& slot = c.queue.front();
    auto& bytes = slot.reply.text; // encoded: the session encodes
    self->state.server.counters.net_output_bytes += bytes.size();
    if (direct) {
      out += bytes;
    } else {
      c.backlog_bytes += bytes.size();
      c.backlog.push_back(std::move(bytes));
    }
    close = slot.close_after;
    c.pop_front();
    if (close)
      break;
  }
  if (!out.empty()) {
    auto n = ::send(static_cast<int>(c.hdl.id()), out.data(), out.size(),
                    MSG_DONTWAIT | MSG_NOSIGNAL);
    size_t sent = n > 0 ? static_cast<size_t>(n) : 0;
    if (sent < out.size()) {
      c.backlog_bytes += out.size() - sent;
      c.backlog.push_back(out.substr(sent));
    }
  }
  if (c.caf_unsent + c.backlog_bytes > self->state.core->settings.output_limit)
    return drop_over_limit(self, c, c.caf_unsent + c.backlog_bytes);
  feed_caf(self, c, close);
  if (close) {
    self->close(c.hdl);
    mark_closed(self->state, c);
  }
}

/// Writes the ready replies of the connections touched since the last call.
void flush_touched(broker_ptr self) {
  auto& st = self->state;
  st.core->take_touched(st.touched);
  for (auto [id, seq] : st.touched)
    if (auto* c = find_conn(st, id))
      write_ready(self, *c);
}

/// Forgets connections that were closed.
void reap(broker_ptr self) {
  auto& st = self->state;
  if (st.closed_pending == 0)
    return;
  st.closed_pending = 0;
  st.core->reap([&](front_session& s) {
    auto h = st.by_handle.find(static_cast<connection&>(s).hdl.id());
    if (h != st.by_handle.end() && h->second == s.client.id)
      st.by_handle.erase(h);
    --st.server.counters.connected_clients;
    st.opts.shared->clients.fetch_sub(1, std::memory_order_relaxed);
  });
}

/// Every connection, as `f(connection&)`.
template <class F>
void for_each_conn(server_broker_state& st, F&& f) {
  for (auto& [id, s] : st.core->sessions())
    f(static_cast<connection&>(*s));
}

void parse_input(broker_ptr self, connection& c, const char* pos, const char* end,
                 bool capped);

/// Ends the pause of `c` and parses its stash (`capped`: it may pause again).
void unpause(broker_ptr self, connection& c, bool capped) {
  c.paused = false;
  std::string input = std::move(c.stash);
  c.stash.clear();
  parse_input(self, c, input.data(), input.data() + input.size(), capped);
}

void check_drained(broker_ptr self);

/// Stops accepting and drains. `initiator`: this shard was told to stop (SHUTDOWN, a
/// signal), so it stops the acceptor and the other shards too, and finishes once they
/// have drained (so that a snapshot taken on the way out holds every reply's write).
void begin_shutdown(broker_ptr self, const char* why, bool initiator = true) {
  auto& st = self->state;
  if (initiator && st.feeder) {
    caf::anon_send(st.feeder, shutdown_atom::value);
    st.feeder = nullptr;
  }
  if (initiator) {
    for (auto& peer : st.peers) {
      ++st.peers_draining;
      self->request(peer, caf::infinite, drain_atom::value)
        .then([=](bool) {
                --self->state.peers_draining;
                check_drained(self);
              },
              [=](caf::error&) {
                --self->state.peers_draining;
                check_drained(self);
              });
    }
    st.peers.clear();
  }
  if (st.draining)
    return;
  st.draining = true;
  st.opts.shared->scripts->stop_all(); // a running script stops at its next check
  spdlog::info("shutting down ({}): no new connections, draining requests in flight", why);
  if (!st.opts.fed)
    self->close(st.acceptor);
  for_each_conn(st, [&](connection& c) {
    if (c.paused && !c.closing && !c.closed)
      unpause(self, c, false); // requests already read but held back are answered too
    c.closing = true;
  });
}

void finish_shutdown(broker_ptr self) {
  for_each_conn(self->state, [&](connection& c) {
    if (!c.closed)
      self->close(c.hdl);
  });
  spdlog::info("all requests answered; stopping");
  self->quit();
}

/// Whether stopping takes a snapshot unless told NOSAVE: the op log is off and snapshots
/// are on, so the data since the last snapshot would be lost otherwise.
bool save_on_shutdown(const server_config& cfg) {
  return !cfg.appendonly && cfg.save_interval > 0;
}

/// During shutdown: stops once no connection waits for a reply (after a snapshot,
/// for SHUTDOWN SAVE).
void check_drained(broker_ptr self) {
  auto& st = self->state;
  if (!st.draining || st.saving_for_shutdown)
    return;
  for (auto& [id, s] : st.core->sessions())
    if (!s->closed && !front_core::only_blocked(*s)) // a blocking wait is not drained
      return;
  for (auto& rp : st.drain_waiters) // shards waiting for this one
    rp.deliver(true);
  st.drain_waiters.clear();
  if (st.peers_draining > 0)
    return; // answered here; the other shards still answer theirs
  using choice = cmd::effect::save_choice;
  bool save = st.shutdown_save == choice::save
              || (save_on_shutdown(st.opts.cfg) && st.shutdown_save == choice::configured);
  if (save && st.opts.snapshotter) {
    st.saving_for_shutdown = true;
    spdlog::info("taking a snapshot before exiting ({})",
                 st.shutdown_save == choice::save ? "SHUTDOWN SAVE" : "the op log is off");
    self->request(st.opts.snapshotter, std::chrono::minutes(10), save_atom::value)
      .then([=](bool) { finish_shutdown(self); },
            [=](caf::error&) { finish_shutdown(self); });
    return;
  }
  finish_shutdown(self);
}

void flush_touched(broker_ptr self);

/// CONFIG SET: validates every pair on a copy of the settings, then applies them all (or
/// none) to the running broker; CONFIG GET then shows the new values.
/// The other shards apply the change too (`from_peer`: it came from one; checked there).
net::reply apply_config_set(broker_ptr self,
                            const std::vector<std::pair<std::string, std::string>>& changes,
                            bool from_peer = false) {
  auto& st = self->state;
  auto cfg = st.opts.cfg;
  if (auto err = check_config_set(cfg, changes); !err.empty())
    return cmd::err::text(err);
  st.opts.cfg = cfg;
  if (!from_peer) { // before this reply leaves, so the client's next step sees it anywhere
    for (auto& peer : st.peers)
      caf::anon_send(peer, config_change{changes});
    send_home(self, st.opts.link, config_change{changes}); // a cluster node's gate and link
  }
  // What is read where it is used (limits, maxclients, timeout, protected mode) needs
  // nothing more; these live in the core, the statistics and the logger.
  auto& settings = st.core->settings;
  settings.request_timeout_ms = cfg.request_timeout_ms;
  settings.request_attempts = cfg.request_attempts;
  settings.output_limit = cfg.output_limit;
  auto& stats = st.server.counters.stats;
  stats.slowlog_threshold_us = cfg.slowlog_log_slower_than;
  stats.slowlog_max_len = cfg.slowlog_max_len;
  stats.slowlog.resize(std::min(stats.slowlog.size(), static_cast<size_t>(cfg.slowlog_max_len)));
  stats.latency_tracking = cfg.latency_tracking;
  apply_encoding_limits(cfg);
  st.server.info.requirepass = cfg.requirepass;
  st.server.info.config = cfg.as_pairs();
  spdlog::set_level(spdlog::level::from_str(cfg.spdlog_level()));
  if (!from_peer)
    spdlog::info("CONFIG SET: {} setting(s) changed", changes.size());
  return net::reply::ok();
}

std::string client_list(broker_ptr self);

/// This shard's counters and client lines, copied for another shard.
std::shared_ptr<shard_report> make_report(broker_ptr self) {
  auto r = std::make_shared<shard_report>();
  cmd::add_counters(r->counters, self->state.server.counters);
  r->clients = client_list(self);
  return r;
}

/// A server-wide command of `c` (fx.seq): asks every other shard for its counters, then
/// runs the command again over the sum. A shard that does not answer within a second
/// is left out (it cannot happen while it runs: brokers never block).
void gather(broker_ptr self, connection& c, pending_effect&& fx) {
  struct pending {
    uint64_t conn, seq;
    net::arg_list args;
    std::unique_ptr<cmd::server_counters> sum;
    size_t missing;
  };
  auto& st = self->state;
  auto g = std::make_shared<pending>(pending{c.client.id, fx.seq, std::move(fx.effect.args),
                                             std::make_unique<cmd::server_counters>(),
                                             st.peers.size()});
  cmd::add_counters(*g->sum, st.server.counters);
  auto done = [self, g] {
    auto& st = self->state;
    if (auto* c = find_conn(st, g->conn)) {
      st.core->rerun(*c, g->seq, std::move(g->args), std::move(g->sum), now_ms(), steady_ms());
      if (st.core->has_batches())
        schedule_dispatch(self);
      flush_touched(self);
    }
  };
  if (g->missing == 0)
    return done();
  for (auto& peer : st.peers)
    self->request(peer, std::chrono::seconds(1), report_atom::value)
      .then(
        [=](std::shared_ptr<shard_report>& r) {
          cmd::add_counters(*g->sum, r->counters);
          g->sum->other_clients += r->clients;
          if (--g->missing == 0)
            done();
        },
        [=](caf::error&) {
          if (--g->missing == 0)
            done();
        });
}

/// Answers request `seq` of `c` later (when an effect that waits is done), if `c` is
/// still there then.
auto answer_later(broker_ptr self, const connection& c, uint64_t seq) {
  return [self, id = c.client.id, seq](net::reply r) {
    auto& st = self->state;
    if (auto* c = find_conn(st, id)) {
      st.core->answer(*c, seq, std::move(r));
      flush_touched(self);
    }
  };
}

/// Performs what connection command `fx.seq` of `c` asked beyond its reply, and answers it.
void perform(broker_ptr self, connection& c, pending_effect&& fx) {
  using kind = cmd::effect::kind;
  auto& st = self->state;
  auto& core = *st.core;
  switch (fx.effect.what) {
    case kind::none:
    case kind::exec: // run by the front-end core itself
    case kind::watch:
    case kind::script:
      return;
    case kind::close:
      core.answer(c, fx.seq, std::move(fx.reply), true);
      c.closing = true;
      return;
    case kind::auth_failed:
      spdlog::warn("failed AUTH from {}", c.client.addr);
      break;
    case kind::fault: {
      auto p = fx.effect.fault.partition;
      if (p < st.slots.size()) // from now on the fault's worker gets every batch
        st.slots[p]->workers_only = true;
      deliver_fault(st.workers[p], fx.effect.fault);
      break;
    }
    case kind::config_set:
      fx.reply = apply_config_set(self, fx.effect.config);
      break;
    case kind::shutdown:
      st.shutdown_requested = true;
      st.shutdown_save = fx.effect.save;
      core.answer(c, fx.seq, std::move(fx.reply), true);
      c.closing = true;
      return;
    case kind::gather:
      return gather(self, c, std::move(fx));
    case kind::move_slots: { // the reply waits for the move
      if (!st.opts.link) {
        fx.reply = cmd::err::cluster_disabled();
        break;
      }
      auto answer = answer_later(self, c, fx.seq);
      const auto& a = fx.effect.args;
      self->request(st.opts.link, std::chrono::minutes(30), move_atom::value,
                    static_cast<uint16_t>(std::stoul(a[0])), static_cast<uint16_t>(std::stoul(a[1])),
                    a[2])
        .then([=](bool ok, const std::string& text) {
                answer(ok ? net::reply::status(text) : cmd::err::text(text));
              },
              [=](caf::error& e) { answer(cmd::err::text("ERR slot move failed: " + to_string(e))); });
      return;
    }
    case kind::reset_stats:
      for (auto& peer : st.peers)
        caf::anon_send(peer, reset_atom::value, fx.effect.slowlog_only);
      break;
    case kind::bgsave:
      if (!st.opts.snapshotter)
        fx.reply = cmd::err::snapshots_off();
      else
        caf::anon_send(st.opts.snapshotter, save_atom::value);
      break;
    case kind::save: { // the reply waits for the snapshot
      if (!st.opts.snapshotter) {
        fx.reply = cmd::err::snapshots_off();
        break;
      }
      auto answer = answer_later(self, c, fx.seq);
      self->request(st.opts.snapshotter, std::chrono::minutes(30), save_atom::value)
        .then([=](bool ok) {
                answer(ok ? net::reply::ok() : cmd::err::snapshot_failed());
              },
              [=](caf::error& e) {
                answer(cmd::err::snapshot_failed(to_string(e)));
              });
      return;
    }
  }
  core.answer(c, fx.seq, std::move(fx.reply));
}

/// Handles one parsed request of connection `c`.
/// `now`: wall-clock time (for the command); `tnow`: monotonic time (for its deadline).
void handle_request(broker_ptr self, connection& c, net::arg_list&& args, store::millis now,
                    store::millis tnow) {
  auto& st = self->state;
  bool was_authenticated = c.client.authenticated;
  bool effect = st.core->submit(c, std::move(args), now, tnow);
  if (c.client.authenticated && !was_authenticated)
    c.parser.set_limits(st.opts.cfg.limits); // the pre-AUTH limits no longer apply
  if (effect)
    perform(self, c, st.core->take_effect());
  else if (st.core->has_batches())
    schedule_dispatch(self);
}

/// Stops parsing `c` until its replies drain; its unparsed input [pos, end), and what it
/// sends meanwhile, wait in its stash. (Reading is not halted: CAF 0.17 loses a `trigger`
/// that follows a `halt` within one loop of its multiplexer, leaving the socket unread.)
void pause(broker_ptr self, connection& c, const char* pos, const char* end) {
  c.paused = true;
  c.stash.assign(pos, end);
  self->state.paused.push_back(c.client.id);
}

/// Parses and handles the requests in [pos, end); pauses the connection when it has
/// as many requests waiting for replies as its cap (unless `capped` is false).
void parse_input(broker_ptr self, connection& c, const char* pos, const char* end,
                 bool capped = true) {
  auto& st = self->state;
  store::millis now = now_ms(), tnow = steady_ms();
  net::arg_list args;
  while (pos < end && !c.closing) {
    // An EXEC waiting for the connection's earlier requests: what follows waits for it.
    if (c.exec_waiting != 0 || (capped && c.queue.size() >= pipeline_cap(c))) {
      pause(self, c, pos, end);
      break;
    }
    switch (c.parser.feed(pos, end, args)) {
      case net::parse_status::need_more:
        break;
      case net::parse_status::done:
        handle_request(self, c, std::move(args), now, tnow);
        args.clear();
        break;
      case net::parse_status::error:
        st.core->push_ready(c, cmd::err::protocol(c.parser.error()), true);
        c.closing = true;
        break;
      case net::parse_status::abuse:
        spdlog::warn("possible cross-protocol attack from {}: connection closed", c.client.addr);
        c.queue.clear();
        self->close(c.hdl);
        mark_closed(self->state, c);
        c.closing = true;
        break;
    }
  }
  if (st.shutdown_requested)
    begin_shutdown(self, "SHUTDOWN command");
  write_ready(self, c);
}

void handle_data(broker_ptr self, connection& c, const std::vector<char>& buf) {
  self->state.server.counters.net_input_bytes += buf.size();
  if (c.closing)
    return;
  c.last_active_ms = steady_ms();
  if (c.paused) { // parsed on resuming, in order; bounded as Redis bounds a query buffer
    c.stash.append(buf.data(), buf.size());
    if (c.stash.size() > self->state.opts.cfg.limits.max_query) {
      spdlog::warn("client {} closed: {} bytes of unprocessed requests exceed "
                   "client-query-buffer-limit", c.client.addr, c.stash.size());
      c.queue.clear();
      c.stash.clear();
      c.closing = true;
      self->close(c.hdl);
      mark_closed(self->state, c);
    }
  } else {
    parse_input(self, c, buf.data(), buf.data() + buf.size());
  }
  // A large bulk is read in larger pieces, small requests in small ones (see read_chunk).
  auto want = std::clamp(c.parser.bulk_remaining(), read_chunk, max_read_chunk);
  if (want != c.read_size && !c.closed) {
    c.read_size = want;
    self->configure_read(c.hdl, caf::io::receive_policy::at_most(want));
  }
}

/// Parses again for paused connections whose waiting requests dropped to half of their
/// cap, starting with what they sent meanwhile.
void resume_paused(broker_ptr self) {
  auto& st = self->state;
  if (st.paused.empty())
    return;
  auto ids = std::move(st.paused);
  st.paused.clear();
  for (auto id : ids) {
    auto* found = find_conn(st, id);
    if (found == nullptr || found->closed || !found->paused)
      continue;
    auto& c = *found;
    if (c.queue.size() > pipeline_cap(c) / 2 || c.exec_waiting != 0) {
      st.paused.push_back(id);
      continue;
    }
    unpause(self, c, true);
  }
}

/// Per tick (`now`: steady_ms()): retries replies owed on a half-closed connection's
/// duplicate, closes clients idle past the timeout, and gives up on duplicates past
/// their deadline.
void check_connections(broker_ptr self, store::millis now) {
  auto& st = self->state;
  auto idle = st.opts.cfg.timeout;
  for_each_conn(st, [&](connection& c) {
    if (c.peer_fd >= 0)
      write_ready(self, c);
    if (idle > 0 && !c.closed && c.queue.empty() && c.peer_fd < 0
        && now - c.last_active_ms > static_cast<store::millis>(idle) * 1000) {
      self->close(c.hdl);
      mark_closed(st, c);
    }
    if (c.peer_fd >= 0 && c.peer_deadline <= now) {
      ::close(c.peer_fd);
      c.peer_fd = -1;
      mark_closed(st, c);
    }
  });
}

std::string client_list(broker_ptr self) {
  std::string out;
  store::millis now = now_ms();
  for_each_conn(self->state, [&](connection& c) {
    out += "id=" + std::to_string(c.client.id) + " addr=" + c.client.addr + " laddr=" + c.client.laddr
           + " name=" + c.client.name + " age=" + std::to_string((now - c.client.created_ms) / 1000)
           + " db=0 qbuf=" + std::to_string(c.stash.size())
           + " omem=" + std::to_string(c.caf_unsent + c.backlog_bytes)
           + " qbuf-pending=" + std::to_string(c.queue.size())
           + " lib-name=" + c.client.lib_name + " lib-ver=" + c.client.lib_ver
           + " io-thread=" + std::to_string(self->state.opts.shard) + "\n";
  });
  return out;
}

/// Fills in what INFO, CONFIG GET and CLIENT LIST report about this server.
void describe_server(broker_ptr self) {
  auto& st = self->state;
  auto& cfg = st.opts.cfg;
  auto& srv = st.server;
  srv.info.version = version;
  srv.info.bind = cfg.bind;
  srv.info.port = cfg.port;
  srv.info.pid = static_cast<int64_t>(::getpid());
  char exe[4096];
  auto len = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (len > 0)
    srv.info.executable.assign(exe, static_cast<size_t>(len));
  srv.info.started_ms = now_ms();
  srv.info.aof_enabled = cfg.appendonly;
  srv.info.appendfsync = cfg.appendfsync;
  srv.info.recovery_summary = st.opts.recovery_summary;
  srv.info.log_error = st.opts.log_error;
  srv.info.debug_enabled = cfg.enable_debug_command;
  srv.counters.stats.slowlog_threshold_us = cfg.slowlog_log_slower_than;
  srv.counters.stats.slowlog_max_len = cfg.slowlog_max_len;
  srv.counters.stats.latency_tracking = cfg.latency_tracking;
  apply_encoding_limits(cfg);
  srv.info.requirepass = cfg.requirepass;
  srv.info.config = cfg.as_pairs();
  srv.info.config_file = cfg.config_file;
  srv.info.client_list = [self] { return client_list(self); };
  srv.info.shards = st.opts.shards;
  srv.info.cluster = st.opts.cluster;
  srv.counters.stats.shared_slowlog_ids = st.opts.shared->slowlog_ids;
}

/// A new client: refused (protected mode, maxclients, shutting down) or given a session.
void accept(broker_ptr self, caf::io::connection_handle hdl) {
  auto& st = self->state;
  if (st.draining) {
    self->close(hdl);
    return;
  }
  auto remote = self->remote_addr(hdl);
  if (protected_mode_denies(st.opts.cfg.protected_mode, !st.opts.cfg.requirepass.empty(), remote)) {
    spdlog::warn("protected mode: refused {} (no --requirepass set)", remote);
    self->write(hdl, std::strlen(protected_mode_error), protected_mode_error);
    self->flush(hdl);
    self->close(hdl);
    ++st.server.counters.rejected_connections;
    return;
  }
  if (st.opts.shared->clients.load(std::memory_order_relaxed) >= st.opts.cfg.maxclients) {
    auto& full = cmd::err::max_clients_line;
    self->write(hdl, sizeof(full) - 1, full);
    self->flush(hdl);
    self->close(hdl);
    ++st.server.counters.rejected_connections;
    return;
  }
  self->configure_read(hdl, caf::io::receive_policy::at_most(read_chunk));
  uint64_t id = st.opts.shared->next_client_id.fetch_add(1, std::memory_order_relaxed);
  auto& c = st.core->open<connection>(id);
  c.hdl = hdl;
  c.read_size = read_chunk;
  c.client.authenticated = st.opts.cfg.requirepass.empty();
  c.parser.set_limits(c.client.authenticated ? st.opts.cfg.limits
                                             : net::unauthenticated_limits(st.opts.cfg.limits));
  c.client.addr = self->remote_addr(hdl) + ":"
                  + std::to_string(self->remote_port(hdl));
  c.client.laddr = st.opts.cfg.bind + ":" + std::to_string(st.server.info.port);
  c.client.created_ms = now_ms();
  c.last_active_ms = steady_ms();
  st.by_handle[hdl.id()] = id;
  ++st.server.counters.connected_clients;
  ++st.server.counters.total_connections;
  st.opts.shared->clients.fetch_add(1, std::memory_order_relaxed);
}

/// The peer closed its side (or the connection failed).
void peer_closed(broker_ptr self, const caf::io::connection_closed_msg& msg) {
  auto& st = self->state;
  auto h = st.by_handle.find(msg.handle.id());
  if (h == st.by_handle.end())
    return;
  auto* found = find_conn(st, h->second);
  if (found == nullptr)
    return;
  auto& c = *found;
  // The peer may only have shut down its sending side: CAF cannot write to this
  // handle any more, but replies still owed go out on a duplicate of the socket
  // (CAF's connection handle id is the socket descriptor, still open here).
  st.by_handle.erase(h);
  if (front_core::has_blocked(c)) { // a client gone while it waits is gone, as in Redis:
    mark_closed(st, c);            // its waits are withdrawn now, and take nothing
    return;
  }
  if (c.paused && !c.closing) // requests it sent before closing are answered too
    unpause(self, c, false);
  for (auto& bytes : c.backlog) // replies that CAF never got go out first
    c.peer_out += bytes;
  c.backlog.clear();
  c.backlog_bytes = 0;
  if (!c.queue.empty() || !c.peer_out.empty()) {
    c.peer_fd = ::fcntl(static_cast<int>(msg.handle.id()), F_DUPFD_CLOEXEC, 0);
    c.peer_deadline = steady_ms() + st.core->settings.final_deadline_ms();
    c.closing = true;
  }
  if (c.peer_fd < 0)
    mark_closed(st, c);
  else
    write_ready(self, c);
  reap(self);
  check_drained(self);
}

} // namespace

void broker_host::send_batch(std::shared_ptr<const work_batch> batch) {
  auto p = batch->partition;
  auto& st = self->state;
  if (p < st.workers.size())
    return send_home(self, st.workers[p], batch_ref{std::move(batch)});
  // Another node's partition: through the link (cmd::key_router numbers them).
  auto partitions = static_cast<uint32_t>(st.workers.size());
  send_home(self, st.opts.link, to_wire(*batch, p % partitions, st.opts.shard));
}

bool broker_host::reachable(uint32_t target) {
  auto& st = self->state;
  if (!st.opts.cluster)
    return true;
  auto partitions = static_cast<uint32_t>(st.workers.size());
  return st.opts.cluster->up(st.opts.cluster->node_of_ordinal(target / partitions));
}

void broker_host::unblock(uint32_t p, uint64_t conn, uint64_t seq) {
  auto& st = self->state;
  if (p >= st.slots.size() || p >= st.workers.size())
    return;
  // Posted in the slot, not sent: it must reach whichever worker serves the partition
  // next, even if the one named here is being replaced.
  st.slots[p]->post_withdrawal(caf::actor_cast<batch_sink>(self), conn, seq);
  send_home(self, st.workers[p], wake_atom::value);
}

void broker_host::restart_worker(uint32_t p) {
  auto& st = self->state;
  send_home(self, st.supervisor, restart_atom::value, p, st.workers[p]);
}

bool broker_host::run_here(const work_batch& batch, done_batch& out) {
  auto& st = self->state;
  if (!st.runs_here)
    return false;
  for (const auto& item : batch.items)
    if (item.cmd->where == cmd::route::all || item.cmd->where == cmd::route::node
        || item.cmd->where == cmd::route::cursor || (item.cmd->flags & cmd::flag::blocking) != 0)
      return false; // a blocking command may wait: only a worker parks it
  auto& slot = *st.slots[batch.partition];
  if (slot.waiting.load(std::memory_order_relaxed) != 0)
    return false; // requests wait here: the worker must see every write
  if (slot.chain) // replication: reads only, and only while nothing here waits for a commit
    for (const auto& item : batch.items)
      if ((item.cmd->flags & cmd::flag::write) != 0)
        return false;
  if (slot.workers_only.load(std::memory_order_relaxed) || !slot.claim(st.guest_token))
    return false;
  if (slot.waiting.load(std::memory_order_relaxed) != 0) { // parked while we claimed
    slot.release(st.guest_token);
    return false;
  }
  if (slot.chain && (!slot.chain->synced || slot.chain->state.any_dirty())) {
    slot.release(st.guest_token);
    return false;
  }
  // A time slice: what is left of a longer batch goes to the worker, which resumes
  // after the requests run here, so the shard's other connections are not held up.
  uint64_t until = cmd::monotonic_ns() + run_here_slice_ns;
  uint32_t n = 0;
  auto out_of_time = [&] { return (++n & 31) == 0 && cmd::monotonic_ns() > until; };
  bool ran = run_batch(slot, batch, out_of_time, out) == batch_outcome::done;
  // A chain's records (a head's expiry of a key read here) are shipped by its worker.
  if (ran && !slot.chain)
    write_records(slot, st.log_file.get(), out);
  slot.release(st.guest_token);
  return ran;
}

bool broker_host::transactions() const {
  auto& st = self->state;
  return !st.slots.empty() && !(st.opts.cluster && st.opts.cluster->replicated());
}

bool broker_host::reserve(const std::vector<uint32_t>& partitions, uint64_t deadline_ns) {
  auto& st = self->state;
  std::vector<std::pair<uint32_t, partition_slot*>> slots;
  for (auto p : partitions) {
    if (p >= st.slots.size())
      return false;
    slots.emplace_back(p, st.slots[p].get());
  }
  st.reserved = std::make_unique<reservation>(std::move(slots), st.guest_token);
  if (st.reserved->acquire(cmd::monotonic_ns, deadline_ns))
    return true;
  st.reserved.reset();
  return false;
}

store::partition* broker_host::reserved(uint32_t p) {
  auto& st = self->state;
  return st.reserved && p < st.slots.size() ? &st.slots[p]->data : nullptr;
}

store::watch_table* broker_host::watches(uint32_t p) {
  auto& st = self->state;
  return st.reserved && p < st.slots.size() ? &st.slots[p]->watches : nullptr;
}

int broker_host::end_reservation() {
  auto& st = self->state;
  if (!st.reserved)
    return 0;
  int error = log_reserved(*st.reserved, st.log_file.get());
  std::vector<uint32_t> waited; // partitions with waiting requests: the change may serve them
  for (auto [p, slot] : st.reserved->slots())
    if (slot->waiting.load(std::memory_order_relaxed) != 0) {
      slot->post_wake();
      waited.push_back(p);
    }
  st.reserved.reset(); // gives the tokens back
  for (auto p : waited)
    if (p < st.workers.size())
      send_home(self, st.workers[p], wake_atom::value);
  return error;
}

bool broker_host::reply_after_sync(uint64_t conn, uint64_t seq, net::reply& reply) {
  auto& st = self->state;
  if (!st.syncer)
    return false;
  done_batch out{0, 0, {}};
  out.items.push_back({conn, seq, 0, std::move(reply)});
  send_home(self, st.syncer, log_append_ack{std::move(out), caf::actor_cast<batch_sink>(self)});
  return true;
}

bool broker_host::held_by_guest(uint32_t p) {
  auto& st = self->state;
  return p < st.slots.size()
         && (st.slots[p]->holder.load(std::memory_order_acquire) & partition_slot::guest_bit) != 0;
}

bool broker_host::run_script(uint64_t conn, uint64_t seq,
                             std::shared_ptr<cmd::script_call> call) {
  auto& st = self->state;
  if (st.slots.empty())
    return false;
  if (!st.scripts) {
    script_actor_options opts{st.opts.shared->scripts, st.router, st.slots, st.log_file,
                              st.syncer, st.core->reserve_budget_ns()};
    st.scripts = self->spawn<caf::detached + caf::linked>(script_runner_actor, std::move(opts));
  }
  self->send(st.scripts, script_job{conn, seq, std::move(call),
                                    caf::actor_cast<batch_sink>(self)});
  return true;
}

void broker_host::over_output_limit(front_session& s) {
  drop_over_limit(self, static_cast<connection&>(s), self->state.core->settings.output_limit);
}

caf::behavior server_broker(caf::io::stateful_broker<server_broker_state>* self,
                            broker_options opts, worker_table table,
                            supervisor_actor supervisor) {
  auto& st = self->state;
  st.opts = std::move(opts);
  take_partitions(st, table);
  st.guest_token = new_guest_token();
  st.workers = std::move(table.workers);
  st.supervisor = supervisor;
  st.host.self = self;
  cmd::key_router router(static_cast<uint32_t>(st.workers.size()));
  if (st.opts.cluster && !st.opts.cluster->redirect()) { // forwards to the other nodes
    router.nodes = st.opts.cluster->nodes();
    router.slot_ordinal = st.opts.cluster->slot_ordinals();
    if (st.opts.cluster->replicated()) { // reads of its own chain's keys stay here
      router.read_ordinal = st.opts.cluster->read_ordinals();
      router.write_fan = &st.opts.cluster->fan_ordinals(true);
      router.read_fan = &st.opts.cluster->fan_ordinals(false);
    }
  }
  st.router = router;
  st.core = std::make_unique<front_core>(st.host, st.server, router);
  auto& cfg = st.opts.cfg;
  st.core->settings.request_timeout_ms = cfg.request_timeout_ms;
  st.core->settings.request_attempts = cfg.request_attempts;
  st.core->settings.output_limit = cfg.output_limit;
  if (!st.opts.shared)
    st.opts.shared = std::make_shared<shard_shared>();
  st.server.info.scripts = st.opts.shared->scripts;
  auto bound = st.opts.fed ? caf::expected<std::pair<caf::io::accept_handle, uint16_t>>{
                               std::make_pair(caf::io::accept_handle{}, cfg.port)}
                           : self->add_tcp_doorman(cfg.port, cfg.bind.c_str(), true);
  if (!bound) {
    spdlog::error("cannot listen on {}:{}: {}", cfg.bind, cfg.port,
                  self->system().render(bound.error()));
    // Answer the port request with the error, then stop.
    return {
      [=](port_atom) -> caf::result<uint16_t> {
        self->quit(bound.error());
        return bound.error();
      },
    };
  }
  st.acceptor = bound->first;
  cfg.port = bound->second;
  describe_server(self);
  if (st.opts.snapshotter) // LASTSAVE and INFO persistence follow the snapshots
    send_home(self, st.opts.snapshotter, caf::subscribe_atom_v);
  send_home(self, supervisor, caf::subscribe_atom_v);
  self->delayed_send(self, tick_interval, caf::tick_atom_v);
  return {
    [=](const caf::io::new_connection_msg& msg) { accept(self, msg.handle); },
    [=](adopt_atom, int fd) {
      if (self->state.draining) {
        ::close(fd);
        return;
      }
      accept(self, self->add_scribe(fd));
    },
    [=](peers_atom, const std::vector<caf::actor>& shards, const caf::actor& feeder) {
      auto& st = self->state;
      st.peers.clear();
      for (auto& s : shards)
        if (s != self)
          st.peers.push_back(s);
      st.feeder = feeder;
    },
    [=](report_atom) { return make_report(self); },
    [=](reset_atom, bool slowlog_only) {
      cmd::reset_counters(self->state.server.counters, slowlog_only);
    },
    [=](const config_change& change) { apply_config_set(self, change.pairs, true); },
    [=](drain_atom) -> caf::result<bool> {
      auto rp = self->make_response_promise();
      auto& st = self->state;
      st.drain_waiters.push_back(rp);
      if (!st.draining) // the shard that started it takes the snapshot, if any
        st.shutdown_save = cmd::effect::save_choice::nosave;
      begin_shutdown(self, "SHUTDOWN on another shard", false);
      check_drained(self);
      return rp;
    },
    [=](const caf::io::new_data_msg& msg) {
      auto& st = self->state;
      auto h = st.by_handle.find(msg.handle.id());
      if (h == st.by_handle.end())
        return;
      if (auto* c = find_conn(st, h->second))
        handle_data(self, *c, msg.buf);
      reap(self);
      check_drained(self);
    },
    [=](const caf::io::connection_closed_msg& msg) { peer_closed(self, msg); },
    [=](const caf::io::acceptor_closed_msg&) {},
    [=](const caf::io::data_transferred_msg& msg) {
      auto& st = self->state;
      auto h = st.by_handle.find(msg.handle.id());
      if (h == st.by_handle.end())
        return;
      if (auto* c = find_conn(st, h->second)) {
        c->caf_unsent = msg.remaining;
        if (!c->closed)
          feed_caf(self, *c);
      }
    },
    [=](dispatch_atom) {
      auto& st = self->state;
      st.dispatch_scheduled = false;
      st.core->dispatch(now_ms(), steady_ms());
      // Batches run here are answered already.
      flush_touched(self);
      resume_paused(self);
      reap(self);
      check_drained(self);
    },
    [=](done_batch& batch) {
      self->state.core->on_done(batch, now_ms());
      flush_touched(self);
      resume_paused(self);
      reap(self);
      check_drained(self);
    },
    [=](caf::update_atom, worker_table& t) {
      auto& st = self->state;
      take_partitions(st, t);
      st.core->take_workers(st.workers, std::move(t.workers), now_ms(), steady_ms());
      flush_touched(self);
    },
    [=](caf::tick_atom) {
      auto now = steady_ms();
      self->state.core->tick(now);
      flush_touched(self);
      check_connections(self, now);
      resume_paused(self);
      reap(self);
      check_drained(self);
      self->delayed_send(self, tick_interval, caf::tick_atom_v);
    },
    [=](shutdown_atom) {
      begin_shutdown(self, "signal");
      check_drained(self);
    },
    [=](port_atom) { return self->state.server.info.port; },
    [=](saved_atom, store::millis when, bool ok) {
      auto& srv = self->state.server;
      srv.counters.last_save_ok = ok;
      if (ok)
        srv.counters.last_save_ms = when;
    },
  };
}

} // namespace otkv

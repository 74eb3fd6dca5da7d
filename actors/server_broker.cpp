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

#include "actors/clock.hpp"
#include "commands/dispatch.hpp"
#include "actors/config.hpp"
#include "actors/partition_worker.hpp"
#include "actors/protected_mode.hpp"
#include "store/key_hash.hpp"

namespace otkv {

const char* server_broker_state::name = "server_broker";

namespace {

using broker_ptr = caf::io::stateful_broker<server_broker_state>*;

/// Bytes asked of the socket per read (Redis reads 16 KiB too). CAF re-grows its read
/// buffer to this size, zero-filling, after every read: larger costs a memset per read.
constexpr size_t read_chunk = 16 * 1024;
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
      c.peer_out += c.queue.front().bytes;
      self->state.server.net_output_bytes += c.queue.front().bytes.size();
      bool close = c.queue.front().close_after;
      c.queue.pop_front();
      ++c.first_seq;
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
    self->state.server.net_output_bytes += slot.bytes.size();
    if (direct) {
      out += slot.bytes;
    } else {
      c.backlog_bytes += slot.bytes.size();
      c.backlog.push_back(std::move(slot.bytes));
    }
    close = slot.close_after;
    c.queue.pop_front();
    ++c.first_seq;
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
  if (c.caf_unsent + c.backlog_bytes > self->state.opts.output_limit)
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
  for (auto id : st.touched) {
    auto i = st.conns.find(id);
    if (i != st.conns.end())
      write_ready(self, i->second);
  }
  st.touched.clear();
}

/// Forgets connections that were closed.
void reap(broker_ptr self) {
  auto& st = self->state;
  if (st.closed_pending == 0)
    return;
  st.closed_pending = 0;
  for (auto i = st.conns.begin(); i != st.conns.end();) {
    if (i->second.closed) {
      auto h = st.by_handle.find(i->second.hdl.id());
      if (h != st.by_handle.end() && h->second == i->first)
        st.by_handle.erase(h);
      --st.server.connected_clients;
      i = st.conns.erase(i);
    } else {
      ++i;
    }
  }
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

void begin_shutdown(broker_ptr self, const char* why) {
  auto& st = self->state;
  if (st.draining)
    return;
  st.draining = true;
  spdlog::info("shutting down ({}): no new connections, draining requests in flight", why);
  self->close(st.acceptor);
  for (auto& [id, c] : st.conns) {
    if (c.paused && !c.closing && !c.closed)
      unpause(self, c, false); // requests already read but held back are answered too
    c.closing = true;
  }
}

void finish_shutdown(broker_ptr self) {
  for (auto& [id, c] : self->state.conns)
    if (!c.closed)
      self->close(c.hdl);
  spdlog::info("all requests answered; stopping");
  self->quit();
}

/// During shutdown: stops once no connection waits for a reply (after a snapshot,
/// for SHUTDOWN SAVE).
void check_drained(broker_ptr self) {
  auto& st = self->state;
  if (!st.draining || st.saving_for_shutdown)
    return;
  for (auto& [id, c] : st.conns)
    if (!c.closed && !c.queue.empty())
      return;
  using choice = cmd::effect::save_choice;
  bool save = st.shutdown_save == choice::save
              || (st.opts.save_on_shutdown && st.shutdown_save == choice::configured);
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

/// When a request gets its -TIMEOUT at the latest: every attempt, plus slack for the
/// detection tick and the worker replacement.
store::millis final_deadline_ms(const broker_options& o) {
  return o.request_timeout_ms * o.request_attempts + 1000;
}

/// Adds a slot holding a final reply.
void push_ready(connection& c, const net::reply& r, bool close_after = false) {
  auto& slot = c.queue.emplace_back();
  slot.bytes = net::encode(r);
  slot.ready = true;
  slot.close_after = close_after;
}

void apply_result(broker_ptr self, done_item& item, const net::arg_list* args);
void flush_touched(broker_ptr self);

/// CONFIG SET: validates every pair on a copy of the settings, then applies them all (or
/// none) to the running broker and to what CONFIG GET reports.
net::reply apply_config_set(broker_ptr self,
                            const std::vector<std::pair<std::string, std::string>>& changes) {
  auto& st = self->state;
  server_config cfg;
  if (auto err = check_config_set(cfg, changes); !err.empty())
    return net::reply::error(err);
  for (const auto& [name, value] : changes) {
    set_option(cfg, name, value);
    if (name == "timeout")
      st.opts.idle_timeout_s = cfg.timeout;
    else if (name == "maxclients")
      st.opts.maxclients = cfg.maxclients;
    else if (name == "client-output-limit")
      st.opts.output_limit = cfg.output_limit;
    else if (name == "proto-max-bulk-len") // new connections, and clients authenticating
      st.opts.limits.max_bulk = cfg.limits.max_bulk;
    else if (name == "client-query-buffer-limit")
      st.opts.limits.max_query = cfg.limits.max_query;
    else if (name == "proto-inline-max-size")
      st.opts.limits.max_inline = cfg.limits.max_inline;
    else if (name == "proto-max-multibulk-len")
      st.opts.limits.max_multibulk = cfg.limits.max_multibulk;
    else if (name == "loglevel")
      spdlog::set_level(spdlog::level::from_str(cfg.loglevel));
    else if (name == "request-timeout-ms")
      st.opts.request_timeout_ms = cfg.request_timeout_ms;
    else if (name == "request-attempts")
      st.opts.request_attempts = cfg.request_attempts;
    else if (name == "protected-mode")
      st.opts.protected_mode = cfg.protected_mode;
    else if (name == "slowlog-log-slower-than")
      st.server.stats.slowlog_threshold_us = cfg.slowlog_log_slower_than;
    else if (name == "slowlog-max-len") {
      st.server.stats.slowlog_max_len = cfg.slowlog_max_len;
      st.server.stats.slowlog.resize(std::min(st.server.stats.slowlog.size(),
                                              static_cast<size_t>(cfg.slowlog_max_len)));
    }
    else if (name == "latency-tracking")
      st.server.stats.latency_tracking = cfg.latency_tracking;
    else if (name == "requirepass")
      st.opts.requirepass = st.server.requirepass = value;
    bool listed = false;
    for (auto& [key, shown] : st.server.config)
      if (key == name) {
        shown = value;
        listed = true;
      }
    if (!listed && name != "requirepass")
      st.server.config.emplace_back(name, value);
  }
  spdlog::info("CONFIG SET: {} setting(s) changed", changes.size());
  return net::reply::ok();
}

/// Counts one run of `command` that took `ns` in the statistics, and in the slow log if
/// it was slow (`args`: what ran; nullptr for a reply made by the broker).
void count_command(broker_ptr self, connection& c, const cmd::command& command, uint64_t ns,
                   bool failed, const net::arg_list* args) {
  auto& stats = self->state.server.stats;
  if (stats.record(command, ns, failed) && args != nullptr)
    stats.log_slow(command, ns, *args, now_ms(), c.client.addr, c.client.name);
}

/// Handles one parsed request of connection `c`.
/// `now`: wall-clock time (for the command); `tnow`: monotonic time (for its deadline).
void handle_request(broker_ptr self, connection& c, net::arg_list&& args, store::millis now,
                    store::millis tnow) {
  auto& st = self->state;
  ++st.server.total_commands;
  net::reply error;
  const cmd::command* command = cmd::resolve(args, error);
  if (command == nullptr || !cmd::check_auth(*command, c.client, error)
      || !cmd::check_partitions(*command, args, static_cast<uint32_t>(st.workers.size()), error)
      || !cmd::check_writable(*command, st.server, error)) {
    if (command == nullptr && !args.empty())
      command = cmd::find_command(args[0]); // known, but the arity was wrong
    if (command != nullptr)
      st.server.stats.reject(*command);
    push_ready(c, error);
    return;
  }
  if (command->where == cmd::route::connection) {
    uint64_t started = cmd::monotonic_ns();
    c.client.now = now;
    bool was_authenticated = c.client.authenticated;
    net::reply r = command->on_connection(c.client, args);
    if (c.client.authenticated && !was_authenticated)
      c.parser.set_limits(st.opts.limits); // the pre-AUTH limits no longer apply
    using effect = cmd::effect;
    auto fx = std::exchange(c.client.pending, effect{});
    bool close = false;
    switch (fx.what) {
      case effect::kind::none:
        break;
      case effect::kind::close:
        close = true;
        break;
      case effect::kind::auth_failed:
        spdlog::warn("failed AUTH from {}", c.client.addr);
        break;
      case effect::kind::fault:
        deliver_fault(st.workers[fx.fault.partition], fx.fault);
        break;
      case effect::kind::config_set:
        r = apply_config_set(self, fx.config);
        break;
      case effect::kind::shutdown:
        st.shutdown_requested = true;
        st.shutdown_save = fx.save;
        close = true;
        break;
      case effect::kind::bgsave:
        caf::anon_send(st.opts.snapshotter, save_atom::value);
        break;
      case effect::kind::save: { // the reply waits for the snapshot
        uint64_t seq = c.first_seq + c.queue.size();
        auto& slot = c.queue.emplace_back();
        slot.deadline = tnow + 3600 * 1000;
        uint64_t conn = c.client.id;
        count_command(self, c, *command, cmd::monotonic_ns() - started, false, &args);
        auto answer = [=](net::reply r) {
          done_item item{conn, seq, 0, std::move(r)};
          apply_result(self, item, nullptr);
          flush_touched(self);
        };
        self->request(st.opts.snapshotter, std::chrono::minutes(30), save_atom::value)
          .then([=](bool ok) {
                  answer(ok ? net::reply::ok()
                            : net::reply::error("ERR snapshot failed; see the server log"));
                },
                [=](caf::error& e) {
                  answer(net::reply::error("ERR snapshot failed: " + to_string(e)));
                });
        return;
      }
    }
    count_command(self, c, *command, cmd::monotonic_ns() - started, r.is_error(), &args);
    push_ready(c, r, close);
    if (close)
      c.closing = true;
    return;
  }
  uint64_t seq = c.first_seq + c.queue.size();
  auto& slot = c.queue.emplace_back();
  slot.deadline = tnow + final_deadline_ms(st.opts);
  slot.cmd = command;
  if (command->where == cmd::route::key) { // the common case: no split, no merge
    auto p = store::partition_of(args[static_cast<size_t>(command->first_key)],
                                 static_cast<uint32_t>(st.workers.size()));
    slot.missing = 1;
    slot.partition = p;
    st.batches[p].items.push_back({c.client.id, seq, 0, true, command, std::move(args)});
    schedule_dispatch(self);
    return;
  }
  cmd::fanout f;
  auto parts = cmd::split(*command, std::move(args), static_cast<uint32_t>(st.workers.size()), f);
  bool merge = cmd::needs_merge(*command, parts.size());
  slot.missing = parts.size();
  slot.partition = parts.front().partition;
  if (merge) {
    f.results.resize(parts.size());
    slot.fan = std::make_unique<cmd::fanout>(std::move(f));
  }
  for (uint32_t i = 0; i < parts.size(); ++i)
    st.batches[parts[i].partition].items.push_back(
      {c.client.id, seq, i, !merge, command, std::move(parts[i].args)});
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
    if (capped && c.queue.size() >= pipeline_cap(c)) {
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
        push_ready(c, net::reply::error("ERR Protocol error: " + c.parser.error()), true);
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
  self->state.server.net_input_bytes += buf.size();
  if (c.closing)
    return;
  c.last_active_ms = steady_ms();
  if (c.paused) { // parsed on resuming, in order; bounded as Redis bounds a query buffer
    c.stash.append(buf.data(), buf.size());
    if (c.stash.size() > self->state.opts.limits.max_query) {
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
    auto i = st.conns.find(id);
    if (i == st.conns.end() || i->second.closed || !i->second.paused)
      continue;
    auto& c = i->second;
    if (c.queue.size() > pipeline_cap(c) / 2) {
      st.paused.push_back(id);
      continue;
    }
    unpause(self, c, true);
  }
}

/// Applies one worker result to its reply slot; `args` are the arguments the worker ran
/// (nullptr for a reply made by the broker).
void apply_result(broker_ptr self, done_item& item, const net::arg_list* args) {
  auto& st = self->state;
  auto i = st.conns.find(item.conn);
  if (i == st.conns.end() || i->second.closed)
    return; // the client went away
  auto& c = i->second;
  if (item.seq < c.first_seq || item.seq - c.first_seq >= c.queue.size())
    return;
  auto& slot = c.queue[item.seq - c.first_seq];
  if (slot.ready)
    return; // already answered (timed out)
  if (item.over_limit) // the worker stopped running its requests: it is over its limit
    return drop_over_limit(self, c, st.opts.output_limit);
  slot.ns += item.ns;
  if (slot.fan) {
    slot.fan->results[item.part] = std::move(item.result);
    if (--slot.missing > 0)
      return;
    c.client.now = now_ms();
    slot.bytes = net::encode(slot.cmd->on_merge(c.client, *slot.fan));
    slot.fan.reset();
  } else if (item.result.type == net::reply::kind::raw) {
    slot.bytes = std::move(item.result.text);
  } else {
    slot.bytes = net::encode(item.result);
  }
  slot.ready = true;
  c.reply_avg = (c.reply_avg * 7 + slot.bytes.size()) / 8;
  // Counted with the worker time of all its parts; `args` are those of the part that
  // completed it (the whole request unless it was split).
  if (args != nullptr && slot.cmd != nullptr)
    count_command(self, c, *slot.cmd, slot.ns, slot.bytes[0] == '-', args);
  if (&slot == &c.queue.front())
    st.touched.push_back(item.conn);
}

/// The error a request gets after its last attempt.
std::string timeout_error(uint32_t partition, uint32_t attempts) {
  return net::encode(timeout_reply(partition, attempts));
}

/// Answers every request of an in-flight batch that is still unanswered with -TIMEOUT.
void fail_batch(broker_ptr self, const work_batch& batch, uint32_t attempts) {
  auto& st = self->state;
  for (const auto& item : batch.items) {
    auto i = st.conns.find(item.conn);
    if (i == st.conns.end() || i->second.closed)
      continue;
    auto& c = i->second;
    if (item.seq < c.first_seq || item.seq - c.first_seq >= c.queue.size())
      continue;
    auto& slot = c.queue[item.seq - c.first_seq];
    if (slot.ready)
      continue;
    ++st.server.partition_counters[batch.partition].timeouts;
    slot.bytes = timeout_error(batch.partition, attempts);
    slot.fan.reset();
    slot.ready = true;
    st.touched.push_back(item.conn);
  }
}

/// Supervision, broker side (`now`: steady_ms()): a partition whose oldest batch is overdue gets a fresh
/// worker (through the supervisor) and its batches are resent; batches out of
/// attempts are answered with -TIMEOUT.
void check_partitions(broker_ptr self, store::millis now) {
  auto& st = self->state;
  st.inflight.check(
    now, st.opts.request_timeout_ms, st.opts.request_attempts,
    [&](const work_batch& b, uint32_t attempts) { fail_batch(self, b, attempts); },
    [&](uint32_t p) { self->send(st.supervisor, restart_atom::value, p, st.workers[p]); });
}

/// Answers requests past their final deadline (`now`: steady_ms()) with a timeout error (a safety net:
/// check_partitions normally answers first).
void expire_requests(broker_ptr self, store::millis now) {
  auto& st = self->state;
  for (auto& [id, c] : st.conns) {
    bool any = false;
    for (size_t i = 0; i < c.queue.size(); ++i) {
      auto& slot = c.queue[i];
      if (slot.ready || slot.deadline > now)
        continue;
      ++st.server.partition_counters[slot.partition].timeouts;
      slot.bytes = timeout_error(slot.partition, st.opts.request_attempts);
      slot.fan.reset();
      slot.ready = true;
      any = true;
    }
    if (any || c.peer_fd >= 0)
      write_ready(self, c);
    auto idle = st.opts.idle_timeout_s;
    if (idle > 0 && !c.closed && c.queue.empty() && c.peer_fd < 0
        && now - c.last_active_ms > static_cast<store::millis>(idle) * 1000) {
      self->close(c.hdl);
      mark_closed(st, c);
    }
    if (c.peer_fd >= 0 && c.peer_deadline <= now) {
      ::close(c.peer_fd);
      c.peer_fd = -1;
      mark_closed(self->state, c);
    }
  }
}

std::string client_list(broker_ptr self) {
  std::string out;
  store::millis now = now_ms();
  for (auto& [id, c] : self->state.conns) {
    out += "id=" + std::to_string(id) + " addr=" + c.client.addr + " laddr=" + c.client.laddr
           + " name=" + c.client.name + " age=" + std::to_string((now - c.client.created_ms) / 1000)
           + " db=0 qbuf=" + std::to_string(c.stash.size())
           + " omem=" + std::to_string(c.caf_unsent + c.backlog_bytes)
           + " qbuf-pending=" + std::to_string(c.queue.size())
           + " lib-name=" + c.client.lib_name + " lib-ver=" + c.client.lib_ver + "\n";
  }
  return out;
}

} // namespace

caf::behavior server_broker(caf::io::stateful_broker<server_broker_state>* self,
                            broker_options opts, worker_table table, caf::actor supervisor) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.workers = std::move(table.workers);
  st.supervisor = supervisor;
  auto partitions = st.workers.size();
  st.batches.resize(partitions);
  st.inflight.resize(partitions);
  auto bound = self->add_tcp_doorman(st.opts.port, st.opts.bind.c_str(), true);
  if (!bound) {
    spdlog::error("cannot listen on {}:{}: {}", st.opts.bind, st.opts.port,
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
  auto& srv = st.server;
  srv.version = version;
  srv.bind = st.opts.bind;
  srv.port = bound->second;
  srv.partitions = static_cast<uint32_t>(st.workers.size());
  srv.pid = static_cast<int64_t>(::getpid());
  char exe[4096];
  auto len = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (len > 0)
    srv.executable.assign(exe, static_cast<size_t>(len));
  srv.started_ms = now_ms();
  srv.partition_counters.resize(partitions);
  srv.aof_enabled = st.opts.aof_enabled;
  srv.appendfsync = st.opts.appendfsync;
  srv.recovery_summary = st.opts.recovery_summary;
  srv.log_error = st.opts.log_error;
  if (st.opts.snapshotter)
    self->send(st.opts.snapshotter, caf::subscribe_atom_v);
  srv.debug_enabled = st.opts.debug_enabled;
  srv.stats.slowlog_threshold_us = st.opts.slowlog_threshold_us;
  srv.stats.slowlog_max_len = st.opts.slowlog_max_len;
  srv.stats.latency_tracking = st.opts.latency_tracking;
  srv.requirepass = st.opts.requirepass;
  srv.config = st.opts.config;
  for (auto& [name, value] : srv.config)
    if (name == "port")
      value = std::to_string(srv.port);
  srv.config_file = st.opts.config_file;
  srv.client_list = [self] { return client_list(self); };
  self->send(supervisor, caf::subscribe_atom_v);
  self->delayed_send(self, tick_interval, caf::tick_atom_v);
  return {
    [=](const caf::io::new_connection_msg& msg) {
      auto& st = self->state;
      if (st.draining) {
        self->close(msg.handle);
        return;
      }
      auto remote = self->remote_addr(msg.handle);
      if (protected_mode_denies(st.opts.protected_mode, !st.opts.requirepass.empty(), remote)) {
        spdlog::warn("protected mode: refused {} (no --requirepass set)", remote);
        self->write(msg.handle, std::strlen(protected_mode_error), protected_mode_error);
        self->flush(msg.handle);
        self->close(msg.handle);
        ++st.server.rejected_connections;
        return;
      }
      if (st.server.connected_clients >= st.opts.maxclients) {
        static constexpr char full[] = "-ERR max number of clients reached\r\n";
        self->write(msg.handle, sizeof(full) - 1, full);
        self->flush(msg.handle);
        self->close(msg.handle);
        ++st.server.rejected_connections;
        return;
      }
      self->configure_read(msg.handle, caf::io::receive_policy::at_most(read_chunk));
      uint64_t id = st.next_client_id++;
      auto& c = st.conns[id];
      c.hdl = msg.handle;
      c.client.authenticated = st.opts.requirepass.empty();
      c.parser.set_limits(c.client.authenticated ? st.opts.limits
                                                 : net::unauthenticated_limits(st.opts.limits));
      c.client.id = id;
      c.client.addr = self->remote_addr(msg.handle) + ":"
                      + std::to_string(self->remote_port(msg.handle));
      c.client.laddr = st.opts.bind + ":" + std::to_string(st.server.port);
      c.client.created_ms = now_ms();
      c.last_active_ms = steady_ms();
      c.client.server = &st.server;
      st.by_handle[msg.handle.id()] = id;
      ++st.server.connected_clients;
      ++st.server.total_connections;
    },
    [=](const caf::io::new_data_msg& msg) {
      auto& st = self->state;
      auto h = st.by_handle.find(msg.handle.id());
      if (h == st.by_handle.end())
        return;
      handle_data(self, st.conns[h->second], msg.buf);
      reap(self);
      check_drained(self);
    },
    [=](const caf::io::connection_closed_msg& msg) {
      auto& st = self->state;
      auto h = st.by_handle.find(msg.handle.id());
      if (h == st.by_handle.end())
        return;
      auto& c = st.conns[h->second];
      // The peer may only have shut down its sending side: CAF cannot write to this
      // handle any more, but replies still owed go out on a duplicate of the socket
      // (CAF's connection handle id is the socket descriptor, still open here).
      st.by_handle.erase(h);
      if (c.paused && !c.closing) // requests it sent before closing are answered too
        unpause(self, c, false);
      for (auto& bytes : c.backlog) // replies that CAF never got go out first
        c.peer_out += bytes;
      c.backlog.clear();
      c.backlog_bytes = 0;
      if (!c.queue.empty() || !c.peer_out.empty()) {
        c.peer_fd = ::fcntl(static_cast<int>(msg.handle.id()), F_DUPFD_CLOEXEC, 0);
        c.peer_deadline = steady_ms() + final_deadline_ms(st.opts);
        c.closing = true;
      }
      if (c.peer_fd < 0)
        mark_closed(st, c);
      else
        write_ready(self, c);
      reap(self);
      check_drained(self);
    },
    [=](const caf::io::acceptor_closed_msg&) {},
    [=](const caf::io::data_transferred_msg& msg) {
      auto& st = self->state;
      auto h = st.by_handle.find(msg.handle.id());
      if (h != st.by_handle.end()) {
        auto& c = st.conns[h->second];
        c.caf_unsent = msg.remaining;
        if (!c.closed)
          feed_caf(self, c);
      }
    },
    [=](dispatch_atom) {
      auto& st = self->state;
      st.dispatch_scheduled = false;
      auto now = steady_ms();
      for (uint32_t p = 0; p < st.batches.size(); ++p) {
        if (st.batches[p].items.empty())
          continue;
        size_t n = st.batches[p].items.size();
        st.server.partition_counters[p].requests += n;
        auto batch = std::make_shared<work_batch>(std::move(st.batches[p]));
        batch->id = next_batch_id();
        batch->partition = p;
        batch->output_limit = st.opts.output_limit;
        st.inflight.add(batch, now);
        self->send(st.workers[p], batch_ref{std::move(batch)});
        st.batches[p] = work_batch{};
        st.batches[p].items.reserve(n); // the next turn is likely as large
      }
    },
    [=](done_batch& batch) {
      auto& st = self->state;
      // The batch as sent: its items' arguments, for the slow log.
      auto sent = st.inflight.answered(batch.partition, batch.id);
      for (size_t i = 0; i < batch.items.size(); ++i)
        apply_result(self, batch.items[i],
                     sent && i < sent->items.size() ? &sent->items[i].args : nullptr);
      flush_touched(self);
      resume_paused(self);
      reap(self);
      check_drained(self);
    },
    [=](caf::update_atom, worker_table& t) {
      auto& st = self->state;
      auto now = now_ms();
      auto old = std::move(st.workers);
      st.workers = std::move(t.workers);
      for (uint32_t p = 0; p < st.workers.size() && p < old.size(); ++p) {
        if (st.workers[p] == old[p])
          continue;
        auto& counters = st.server.partition_counters[p];
        ++counters.restarts;
        counters.last_restart_ms = now;
        st.inflight.replaced(
          p, steady_ms(), st.opts.request_attempts,
          [&](const work_batch& b, uint32_t attempts) { fail_batch(self, b, attempts); },
          [&](const std::shared_ptr<const work_batch>& b) {
            ++counters.resends;
            self->send(st.workers[p], batch_ref{b});
          });
      }
      flush_touched(self);
    },
    [=](caf::tick_atom) {
      auto now = steady_ms();
      check_partitions(self, now);
      flush_touched(self);
      expire_requests(self, now);
      resume_paused(self);
      reap(self);
      check_drained(self);
      self->delayed_send(self, tick_interval, caf::tick_atom_v);
    },
    [=](shutdown_atom) {
      begin_shutdown(self, "signal");
      check_drained(self);
    },
    [=](port_atom) { return self->state.server.port; },
    [=](saved_atom, store::millis when, bool ok) {
      auto& srv = self->state.server;
      srv.last_save_ok = ok;
      if (ok)
        srv.last_save_ms = when;
    },
  };
}

} // namespace otkv

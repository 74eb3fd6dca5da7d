#include "actors/front_core.hpp"

#include "commands/command_table.hpp"
#include "commands/dispatch.hpp"
#include "commands/errors.hpp"
#include "store/key_hash.hpp"

namespace otkv {

namespace {

/// Whether `r` is an error reply (also when encoded already).
bool failed(const net::reply& r) {
  return r.is_error() || (r.type == net::reply::kind::raw && !r.text.empty() && r.text[0] == '-');
}

} // namespace

front_core::front_core(front_host& host, cmd::server_context& server, cmd::key_router router)
  : ns_clock(cmd::monotonic_ns), host_(host), server_(server), router_(router) {
  batches_.resize(router_.targets());
  inflight_.resize(router_.targets());
  server_.info.partitions = router_.partitions;
  server_.counters.partition_counters.resize(router_.targets());
}

bool front_core::submit(front_session& s, net::arg_list&& args, store::millis now,
                        store::millis tnow) {
  ++server_.counters.total_commands;
  now_ = now;
  net::reply error;
  const cmd::command* c = cmd::resolve(args, error);
  if (c != nullptr && (c->flags & cmd::flag::moves_slots) != 0) { // the gates' own steps
    error = cmd::err::unknown_subcommand(args[1], "cluster");
    c = nullptr;
  }
  if (s.client.tx.active && (c == nullptr || !cmd::runs_inside_multi(*c))) {
    queue_in_multi(s, c, std::move(args), std::move(error));
    return false;
  }
  if (c != nullptr && c->where == cmd::route::connection && !host_.transactions()
      && (c->name == "multi" || c->name == "watch")) {
    push_ready(s, c->name == "multi" ? cmd::err::multi_not_embedded()
                                     : cmd::err::watch_not_embedded());
    return false;
  }
  if (c == nullptr || !cmd::check_auth(*c, s.client, error)
      || !cmd::check_cluster(*c, args, server_.info.cluster.get(), error, s.client.readonly)
      || !cmd::check_partitions(*c, args, router_, error)
      || !cmd::check_writable(*c, server_.info, error)) {
    if (c == nullptr && !args.empty())
      c = cmd::find_command(args[0]); // known, but the arity was wrong
    if (c != nullptr)
      server_.counters.stats.reject(*c);
    push_ready(s, error);
    return false;
  }
  uint64_t seq = s.next_seq();
  auto& slot = s.queue.emplace_back();
  slot.cmd = c;
  if ((c->flags & cmd::flag::server_wide) && cmd::needs_gather(s.client)) {
    slot.ns = ns_clock();
    effect_ = {cmd::effect{}, net::reply{}, seq};
    effect_.effect.what = cmd::effect::kind::gather;
    effect_.effect.args = std::move(args);
    return true;
  }
  if (c->where == cmd::route::connection) {
    slot.ns = ns_clock();
    s.client.now = now;
    auto r = c->on_connection(s.client, args);
    if (s.client.pending.what == cmd::effect::kind::exec) { // EXEC: run the transaction
      s.client.pending = cmd::effect{};
      exec(s, seq, slot);
      return false;
    }
    if (s.client.pending.what == cmd::effect::kind::script) {
      s.client.pending = cmd::effect{};
      script(s, seq, slot, args);
      return false;
    }
    if (s.client.pending.what == cmd::effect::kind::watch) {
      s.client.pending = cmd::effect{};
      watch(s, seq, slot, args);
      return false;
    }
    if (s.client.pending.what != cmd::effect::kind::none) {
      effect_ = {std::exchange(s.client.pending, cmd::effect{}), std::move(r), seq};
      if (effect_.effect.what == cmd::effect::kind::gather)
        effect_.effect.args = std::move(args);
      return true;
    }
    count(s, *c, ns_clock() - slot.ns, failed(r), &args, now);
    complete(s, seq, slot, std::move(r));
    return false;
  }
  queue_request(s, seq, slot, c, std::move(args), tnow);
  return false;
}

void front_core::rerun(front_session& s, uint64_t seq, net::arg_list&& args,
                       std::unique_ptr<cmd::server_counters> view, store::millis now,
                       store::millis tnow) {
  auto* slot = s.slot(seq);
  if (slot == nullptr || slot->ready || slot->cmd == nullptr)
    return;
  const auto* c = slot->cmd;
  view->server_wide = true;
  slot->view = std::move(view);
  slot->ns = 0; // statistics: the run time, not the wait for the other shards
  if (c->where != cmd::route::connection)
    return queue_request(s, seq, *slot, c, std::move(args), tnow);
  slot->ns = ns_clock();
  auto* own = std::exchange(s.client.counters, slot->view.get());
  s.client.now = now;
  auto r = c->on_connection(s.client, args);
  s.client.counters = own;
  s.client.pending = cmd::effect{}; // run over the sum, it asks for nothing more
  count(s, *c, ns_clock() - slot->ns, failed(r), &args, now);
  complete(s, seq, *slot, std::move(r));
}

/// Whether a write request of `s` before `seq` is not answered yet.
static bool write_pending(front_session& s, uint64_t seq) {
  for (uint64_t i = s.first_seq; i < seq; ++i) {
    const auto* slot = s.slot(i);
    if (slot != nullptr && !slot->ready && slot->cmd != nullptr
        && (slot->cmd->flags & cmd::flag::write) != 0)
      return true;
  }
  return false;
}

/// Queues the parts of key request `seq` (slot `slot`, command `c`) for their partitions.
void front_core::queue_request(front_session& s, uint64_t seq, reply_slot& slot,
                               const cmd::command* c, net::arg_list&& args, store::millis tnow) {
  slot.deadline = tnow + settings.final_deadline_ms();
  // With replication chains a read goes to this node's copy, unless a write of the same
  // connection is still on its way to the chain's head: then it follows the write there,
  // so a pipeline reads its own writes (as from one Redis server).
  bool write = (c->flags & cmd::flag::write) != 0
               || (router_.read_ordinal != nullptr && write_pending(s, seq));
  if (c->where == cmd::route::key) { // the common case: no split, no merge
    // The key is hashed once: its hash picks the partition and, without a hash tag,
    // its bucket in the partition too.
    std::string_view key = args[static_cast<size_t>(c->first_key)];
    auto routing = store::routing_key(key);
    uint64_t hash = store::key_hash(routing);
    auto p = router_.target_of(routing, hash, write);
    slot.missing = 1;
    slot.partition = p;
    if (!router_.local(p))
      slot.deadline += forward_slack_ms;
    queue_part(s, seq, p, 0, s.encode, c, std::move(args));
    if (routing.size() == key.size())
      batches_[p].items.back().hash = hash;
    return;
  }
  cmd::fanout f;
  auto parts = cmd::split(*c, std::move(args), router_, f, write);
  bool merge = cmd::needs_merge(*c, parts.size());
  slot.missing = parts.size();
  slot.partition = parts.front().partition;
  for (const auto& part : parts)
    if (!router_.local(part.partition)) {
      slot.deadline += forward_slack_ms;
      break;
    }
  if (merge) {
    if (c->where == cmd::route::keys)
      f.args = cmd::rejoin(*c, parts, f);
    f.results.resize(parts.size());
    slot.fan = std::make_unique<cmd::fanout>(std::move(f));
  }
  for (uint32_t i = 0; i < parts.size(); ++i)
    queue_part(s, seq, parts[i].partition, i, s.encode && !merge, c, std::move(parts[i].args));
}

void front_core::queue_part(front_session& s, uint64_t seq, uint32_t partition, uint32_t part,
                            bool encode, const cmd::command* c, net::arg_list&& args) {
  batches_[partition].items.push_back({s.client.id, seq, part, encode, c, std::move(args)});
  batches_[partition].items.back().stale_ok =
    s.client.readonly && (c->flags & cmd::flag::write) == 0;
  ++queued_;
}

void front_core::queue_in_multi(front_session& s, const cmd::command* c, net::arg_list&& args,
                                net::reply&& refused) {
  auto& tx = s.client.tx;
  net::reply error = std::move(refused);
  const auto* cluster = server_.info.cluster.get();
  bool keyed = c != nullptr && c->first_key > 0
               && static_cast<size_t>(c->first_key) < args.size();
  if (c == nullptr) { // unknown, or the wrong arity: resolve() said which
  } else if (!cmd::check_auth(*c, s.client, error)
             || !cmd::check_cluster(*c, args, cluster, error, s.client.readonly)
             || !cmd::check_partitions(*c, args, router_, error)
             || !cmd::check_writable(*c, server_.info, error)) {
  } else if ((c->flags & cmd::flag::server_wide) && cmd::needs_gather(s.client)) {
    error = cmd::err::multi_gathered(c->name);
  } else if (cluster != nullptr && !keyed && c->where != cmd::route::connection) {
    error = cmd::err::multi_all_nodes(c->name);
  } else if (cluster != nullptr && keyed) {
    // As Redis Cluster: every key of a transaction in one slot, served by this node.
    cmd::for_each_key(*c, args, [&](int k) {
      auto slot = cluster::key_slot(args[static_cast<size_t>(k)]);
      if (error.is_error())
        return;
      if (tx.slot >= 0 && slot != tx.slot)
        error = cmd::err::crossslot();
      else if (tx.slot = slot; !router_.local(router_.target_of(args[static_cast<size_t>(k)], true)))
        error = cmd::err::moved(slot, cluster->address_of(slot));
    });
  }
  uint64_t bytes = 0;
  for (const auto& a : args)
    bytes += a.size() + 16; // and its bookkeeping
  if (!error.is_error() && c != nullptr && tx.queued_bytes + bytes > settings.multi_queue_bytes)
    error = cmd::err::multi_queue_full(settings.multi_queue_bytes);
  if (!error.is_error() && c != nullptr) {
    tx.queued_bytes += bytes;
    tx.queued.emplace_back(c, std::move(args));
    push_ready(s, net::reply::status("QUEUED"));
    return;
  }
  if (c != nullptr)
    server_.counters.stats.reject(*c);
  tx.failed = true; // EXEC answers -EXECABORT
  push_ready(s, error);
}

void front_core::exec(front_session& s, uint64_t seq, reply_slot& slot) {
  auto tx = std::exchange(s.client.tx, cmd::transaction_state{});
  for (uint64_t i = s.first_seq; i < seq; ++i)
    if (auto* earlier = s.slot(i); earlier != nullptr && !earlier->ready) {
      slot.tx = std::make_unique<cmd::transaction_state>(std::move(tx));
      s.exec_waiting = seq; // run by complete() once the earlier requests are answered
      return;
    }
  run_transaction(s, seq, std::move(tx));
}

void front_core::watch(front_session& s, uint64_t seq, reply_slot& slot,
                       const net::arg_list& args) {
  auto& w = s.client.watch;
  std::vector<uint32_t> partitions;
  std::vector<uint32_t> of_key;
  for (size_t i = 1; i < args.size(); ++i) {
    auto p = router_.target_of(args[i], true);
    if (!router_.local(p)) { // a forwarding node: the key is another node's (as Redis Cluster)
      auto key_slot = cluster::key_slot(args[i]);
      return complete(s, seq, slot,
                      cmd::err::moved(key_slot, server_.info.cluster->address_of(key_slot)));
    }
    of_key.push_back(p);
    partitions.push_back(p);
  }
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  if (!host_.reserve(partitions, cmd::monotonic_ns() + reserve_budget_ns()))
    return complete(s, seq, slot, cmd::err::watch_busy(reserve_budget_ns() / 1'000'000));
  if (!w.flag)
    w.flag = std::make_shared<std::atomic<bool>>(false);
  for (size_t i = 1; i < args.size(); ++i) {
    auto p = of_key[i - 1];
    auto* e = host_.reserved(p)->find(args[i], now_); // (an expired key goes now)
    host_.watches(p)->watch(args[i], w.flag);
    w.keys.push_back({args[i], p, e != nullptr ? e->expire_at() : 0});
  }
  host_.end_reservation(); // nothing was written
  complete(s, seq, slot, net::reply::ok());
}

void front_core::script(front_session& s, uint64_t seq, reply_slot& slot,
                        const net::arg_list& args) {
  auto call = std::make_unique<cmd::script_call>();
  cmd::parse_script_call(args, *call); // EVAL's handler checked it
  const auto* cluster = server_.info.cluster.get();
  if (!host_.transactions())
    return complete(s, seq, slot, cluster != nullptr && cluster->replicated()
                                    ? cmd::err::scripts_on_chains()
                                    : cmd::err::scripts_not_embedded());
  // The declared keys' partitions are reserved; as Redis Cluster, one slot of this node.
  int key_slot = -1;
  for (const auto& key : call->keys) {
    if (cluster != nullptr) {
      auto ks = cluster::key_slot(key);
      if (key_slot >= 0 && ks != key_slot)
        return complete(s, seq, slot, cmd::err::crossslot());
      key_slot = ks;
    }
    auto p = router_.target_of(key, true);
    if (!router_.local(p)) {
      auto ks = cluster::key_slot(key);
      return complete(s, seq, slot, cmd::err::moved(ks, cluster->address_of(ks)));
    }
    call->partitions.push_back(p);
  }
  if (call->keys.empty()) // no key declared: the whole node, as Redis runs a script
    for (uint32_t p = 0; p < router_.partitions; ++p)
      call->partitions.push_back(p);
  std::sort(call->partitions.begin(), call->partitions.end());
  call->partitions.erase(std::unique(call->partitions.begin(), call->partitions.end()),
                         call->partitions.end());
  for (uint64_t i = s.first_seq; i < seq; ++i)
    if (auto* earlier = s.slot(i); earlier != nullptr && !earlier->ready) {
      slot.script = std::move(call);
      s.exec_waiting = seq; // started by complete() once the earlier requests are answered
      return;
    }
  start_script(s, seq, std::move(call));
}

void front_core::start_script(front_session& s, uint64_t seq,
                              std::unique_ptr<cmd::script_call> call) {
  s.exec_waiting = seq; // until its reply: the connection's later requests wait
  if (auto* slot = s.slot(seq))
    slot->script_running = true;
  if (!host_.run_script(s.client.id, seq, std::move(call))) {
    s.exec_waiting = 0;
    if (auto* slot = s.slot(seq)) {
      slot->script_running = false;
      complete(s, seq, *slot, cmd::err::scripts_not_embedded());
    }
  }
}

void front_core::run_transaction(front_session& s, uint64_t seq, cmd::transaction_state tx) {
  // Split every keyed command into its parts; the partitions they touch are reserved.
  std::vector<std::vector<cmd::part>> parts(tx.queued.size());
  std::vector<cmd::fanout> fans(tx.queued.size());
  std::vector<uint32_t> partitions;
  for (size_t i = 0; i < tx.queued.size(); ++i) {
    const auto* c = tx.queued[i].first;
    if (c->where == cmd::route::connection)
      continue;
    parts[i] = cmd::split(*c, net::arg_list(tx.queued[i].second), router_, fans[i],
                          (c->flags & cmd::flag::write) != 0);
    for (const auto& part : parts[i])
      partitions.push_back(part.partition);
  }
  auto watched = std::exchange(s.client.watch, cmd::watch_state{}); // EXEC ends the WATCH
  for (const auto& key : watched.keys) // their partitions too: checked while reserved
    partitions.push_back(key.partition);
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  auto* slot = s.slot(seq);
  for (auto p : partitions)
    if (!router_.local(p)) // queueing checked the keys: only if the slots moved since
      return complete(s, seq, *slot, cmd::err::exec_moved());
  if (!partitions.empty()
      && !host_.reserve(partitions, cmd::monotonic_ns() + reserve_budget_ns()))
    return complete(s, seq, *slot, cmd::err::exec_busy(reserve_budget_ns() / 1'000'000));
  // A watched key changed (or expired) since WATCH: nothing runs, EXEC answers nil.
  bool changed = watched.flag && watched.flag->load(std::memory_order_acquire);
  for (const auto& key : watched.keys)
    changed = changed || (key.deadline != 0 && key.deadline <= now_);
  if (changed) {
    if (!partitions.empty())
      host_.end_reservation();
    return complete(s, seq, *slot, net::reply::null_array());
  }
  std::vector<net::reply> replies;
  replies.reserve(tx.queued.size());
  uint64_t started = ns_clock();
  for (size_t i = 0; i < tx.queued.size(); ++i) {
    const auto* c = tx.queued[i].first;
    s.client.now = now_;
    if (c->where == cmd::route::connection) {
      auto r = c->on_connection(s.client, tx.queued[i].second);
      if (s.client.pending.what != cmd::effect::kind::none) { // no effect applies here
        s.client.pending = cmd::effect{};
        r = cmd::err::effect_in_exec(cmd::to_lower(c->name));
      }
      replies.push_back(std::move(r));
      continue;
    }
    auto reserved = [this](uint32_t p) { return host_.reserved(p); };
    auto r = cmd::run_reserved(*c, parts[i], fans[i], s.client, reserved, now_);
    replies.push_back(std::move(r));
  }
  int log_error = partitions.empty() ? 0 : host_.end_reservation();
  if (auto* exec = cmd::find_command("exec"))
    count(s, *exec, ns_clock() - started, log_error != 0, nullptr, now_);
  net::reply r = log_error == 0 ? net::reply::array(std::move(replies))
                                : cmd::err::misconf(log_error);
  if (host_.reply_after_sync(s.client.id, seq, r))
    return; // on_done() answers it once the op log is on disk
  complete(s, seq, *s.slot(seq), std::move(r));
}

void front_core::answer(front_session& s, uint64_t seq, net::reply r, bool close_after) {
  auto* slot = s.slot(seq);
  if (slot == nullptr || slot->ready)
    return;
  slot->close_after = close_after;
  if (slot->cmd != nullptr)
    count(s, *slot->cmd, ns_clock() - slot->ns, failed(r), nullptr, s.client.now);
  complete(s, seq, *slot, std::move(r));
}

void front_core::push_ready(front_session& s, const net::reply& r, bool close_after) {
  uint64_t seq = s.next_seq();
  auto& slot = s.queue.emplace_back();
  slot.close_after = close_after;
  complete(s, seq, slot, net::reply(r));
}

void front_core::withdraw_blocked(front_session& s) {
  for (size_t i = 0; i < s.queue.size(); ++i) {
    auto& slot = s.queue[i];
    if (slot.blocked && !slot.ready) {
      host_.unblock(slot.partition, s.client.id, s.first_seq + i);
      slot.blocked = false;
      --server_.counters.blocked_clients;
    }
  }
}

/// Makes `slot` ready with `r` (encoded for an encoding session) and reports it.
void front_core::complete(front_session& s, uint64_t seq, reply_slot& slot, net::reply&& r) {
  if (slot.blocked) {
    slot.blocked = false;
    --server_.counters.blocked_clients;
  }
  if (s.encode && r.type != net::reply::kind::raw)
    r = net::reply::raw(net::encode(r));
  if (s.encode)
    s.reply_avg = (s.reply_avg * 7 + r.text.size()) / 8;
  slot.reply = std::move(r);
  slot.fan.reset();
  slot.view.reset();
  slot.ready = true;
  if (!s.in_order || seq == s.first_seq)
    touched_.emplace_back(s.client.id, seq);
  if (seq == s.exec_waiting) // a script answered: the connection's input goes on
    s.exec_waiting = 0;
  if (s.exec_waiting != 0 && seq < s.exec_waiting) { // an EXEC or EVAL waits for this one?
    uint64_t exec_seq = s.exec_waiting;
    for (uint64_t i = s.first_seq; i < exec_seq; ++i)
      if (auto* earlier = s.slot(i); earlier != nullptr && !earlier->ready)
        return;
    s.exec_waiting = 0;
    auto* waiting = s.slot(exec_seq);
    if (waiting == nullptr || s.closed)
      return;
    if (waiting->script)
      return start_script(s, exec_seq, std::move(waiting->script));
    if (!waiting->tx)
      return;
    auto tx = std::move(*waiting->tx);
    waiting->tx.reset();
    run_transaction(s, exec_seq, std::move(tx));
  }
}

void front_core::dispatch(store::millis now, store::millis tnow) {
  queued_ = 0;
  for (uint32_t p = 0; p < batches_.size(); ++p) {
    if (batches_[p].items.empty())
      continue;
    size_t n = batches_[p].items.size();
    server_.counters.partition_counters[p].requests += n;
    auto batch = std::make_shared<work_batch>(std::move(batches_[p]));
    batch->id = next_batch_id();
    batch->partition = p;
    batch->target = p;
    batch->output_limit = settings.output_limit;
    batches_[p] = work_batch{};
    batches_[p].items.reserve(n); // the next turn is likely as large
    if (!router_.local(p)) { // another node's: that node supervises it
      if (host_.reachable(p)) {
        forwarded_.emplace(batch->id, std::make_pair(batch, tnow));
        host_.send_batch(std::move(batch));
      } else {
        fail_batch(*batch, cmd::err::clusterdown());
      }
      continue;
    }
    if (inflight_.idle(p) && host_.run_here(*batch, ran_)) {
      for (size_t i = 0; i < ran_.items.size(); ++i)
        apply(ran_.items[i], batch->partition, &batch->items[i].args, now);
      ran_.items.clear();
      continue;
    }
    inflight_.add(batch, tnow);
    host_.send_batch(std::move(batch));
  }
}

void front_core::on_done(done_batch& batch, store::millis now) {
  // The batch as sent: its items' arguments, for the slow log.
  std::shared_ptr<const work_batch> sent;
  if (router_.local(batch.partition)) {
    sent = inflight_.answered(batch.partition, batch.id);
  } else if (auto f = forwarded_.find(batch.id); f != forwarded_.end()) {
    sent = std::move(f->second.first);
    forwarded_.erase(f);
  }
  for (size_t i = 0; i < batch.items.size(); ++i)
    apply(batch.items[i], batch.partition,
          sent && i < sent->items.size() ? &sent->items[i].args : nullptr, now);
}

/// Applies one worker result to its reply slot; `args` are the arguments the worker ran.
void front_core::apply(done_item& item, uint32_t partition, const net::arg_list* args,
                       store::millis now) {
  auto* s = find(item.conn);
  auto* slot = s == nullptr || s->closed ? nullptr : s->slot(item.seq);
  if (slot == nullptr || slot->ready) { // the client went away, or it was answered (timed out)
    if (item.blocked) // it waits in the worker for nobody: withdraw it
      host_.unblock(partition, item.conn, item.seq);
    return;
  }
  if (item.over_limit) // the worker stopped running its requests: it is over its limit
    return host_.over_output_limit(*s);
  slot->ns += item.ns;
  if (slot->script_running) { // a script's reply (its front end ran it)
    count(*s, *slot->cmd, ns_clock() - slot->ns, failed(item.result), nullptr, now);
    return complete(*s, item.seq, *slot, std::move(item.result));
  }
  if (item.blocked && !slot->fan) { // it waits in the worker, which answers it later
    if (!slot->blocked) {
      slot->blocked = true;
      slot->deadline = 0;
      ++server_.counters.blocked_clients;
      if (args != nullptr && slot->cmd != nullptr)
        count(*s, *slot->cmd, slot->ns, false, args, now);
    }
    return;
  }
  if (!slot->fan) { // the common case: the whole request, answered by one worker
    if (args != nullptr && slot->cmd != nullptr)
      count(*s, *slot->cmd, slot->ns, failed(item.result), args, now);
    return complete(*s, item.seq, *slot, std::move(item.result));
  }
  if (item.part >= slot->fan->results.size())
    return; // no such part (a node with another command table answered)
  slot->fan->results[item.part] = std::move(item.result);
  if (--slot->missing > 0)
    return;
  s->client.now = now;
  auto* own = s->client.counters;
  if (slot->view) // a gathered request reports every shard's counters
    s->client.counters = slot->view.get();
  auto r = slot->cmd->on_merge(s->client, *slot->fan);
  s->client.counters = own;
  // Counted with the worker time of all its parts, as the whole request.
  if (args != nullptr && slot->cmd != nullptr)
    count(*s, *slot->cmd, slot->ns, failed(r), &slot->fan->args, now);
  complete(*s, item.seq, *slot, std::move(r));
}

/// Answers every request of a batch that is still unanswered with `error`.
void front_core::fail_batch(const work_batch& batch, const net::reply& error) {
  for (const auto& item : batch.items) {
    auto* s = find(item.conn);
    if (s == nullptr || s->closed)
      continue;
    auto* slot = s->slot(item.seq);
    if (slot == nullptr || slot->ready)
      continue;
    ++server_.counters.partition_counters[batch.partition].timeouts;
    complete(*s, item.seq, *slot, net::reply(error));
  }
}

net::reply front_core::late_reply(uint32_t target) {
  if (router_.local(target) && host_.held_by_guest(target))
    return cmd::err::busy_partition(target);
  if (router_.local(target) || !server_.info.cluster)
    return cmd::err::timeout(target, settings.request_attempts);
  if (!host_.reachable(target))
    return cmd::err::clusterdown();
  const auto& view = *server_.info.cluster;
  const auto& node = view.config().nodes[view.node_of_ordinal(target / router_.partitions)];
  return cmd::err::node_timeout(node.id, settings.final_deadline_ms() + forward_slack_ms);
}

void front_core::worker_replaced(uint32_t p, store::millis now, store::millis tnow) {
  auto& counters = server_.counters.partition_counters[p];
  ++counters.restarts;
  counters.last_restart_ms = now;
  inflight_.replaced(
    p, tnow, settings.request_attempts,
    [&](const work_batch& b, uint32_t attempts) {
      fail_batch(b, cmd::err::timeout(b.partition, attempts));
    },
    [&](const std::shared_ptr<const work_batch>& b) {
      ++counters.resends;
      host_.send_batch(b);
    });
}

void front_core::tick(store::millis tnow) {
  inflight_.check(
    tnow, settings.request_timeout_ms, settings.request_attempts,
    [&](const work_batch& b, uint32_t attempts) {
      fail_batch(b, cmd::err::timeout(b.partition, attempts));
    },
    [&](uint32_t p) {
      if (host_.held_by_guest(p))
        return false; // a script or transaction holds it: busy, not hung
      host_.restart_worker(p);
      return true;
    });
  // Forwarded batches: -CLUSTERDOWN once their node is known down; forgotten once their
  // requests are past their deadline (answered by the safety net below).
  for (auto i = forwarded_.begin(); i != forwarded_.end();) {
    const auto& [batch, sent] = i->second;
    bool late = tnow - sent > settings.final_deadline_ms() + forward_slack_ms;
    if (!late && host_.reachable(batch->partition)) {
      ++i;
      continue;
    }
    if (!late)
      fail_batch(*batch, cmd::err::clusterdown());
    i = forwarded_.erase(i);
  }
  // A safety net: the policy above normally answers first.
  for (auto& [id, s] : sessions_) {
    if (s->closed)
      continue;
    for (size_t i = 0; i < s->queue.size(); ++i) {
      auto& slot = s->queue[i];
      if (slot.ready || slot.cmd == nullptr || slot.deadline == 0 || slot.deadline > tnow)
        continue;
      ++server_.counters.partition_counters[slot.partition].timeouts;
      complete(*s, s->first_seq + i, slot, late_reply(slot.partition));
    }
  }
}

void front_core::count(const front_session& s, const cmd::command& c, uint64_t ns, bool failed,
                       const net::arg_list* args, store::millis now) {
  auto& stats = server_.counters.stats;
  if (stats.record(c, ns, failed) && args != nullptr)
    stats.log_slow(c, ns, *args, now, s.client.addr, s.client.name);
}

} // namespace otkv

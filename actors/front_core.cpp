#include "actors/front_core.hpp"

#include "commands/dispatch.hpp"
#include "commands/errors.hpp"
#include "store/key_hash.hpp"

namespace otkv {

namespace {

/// Whether `r` is an error reply (also when encoded already).
bool failed(const net::reply& r) {
  return r.is_error() || (r.type == net::reply::kind::raw && !r.text.empty() && r.text[0] == '-');
}

/// The request a split route::keys request was made of, put back together from its
/// parts (for the slow log, which shows the whole request).
net::arg_list rejoin(const cmd::command& c, const std::vector<cmd::part>& parts,
                     const cmd::fanout& f) {
  auto step = static_cast<size_t>(c.key_step), first = static_cast<size_t>(c.first_key);
  net::arg_list args(first + f.keys * step);
  for (size_t w = 0; w < first; ++w)
    args[w] = parts.front().args[w];
  for (size_t i = 0; i < parts.size(); ++i)
    for (size_t j = 0; j < f.slots[i].size(); ++j)
      for (size_t w = 0; w < step; ++w)
        args[first + f.slots[i][j] * step + w] = parts[i].args[first + j * step + w];
  return args;
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
  net::reply error;
  const cmd::command* c = cmd::resolve(args, error);
  if (c != nullptr && (c->flags & cmd::flag::moves_slots) != 0) { // the gates' own steps
    error = cmd::err::unknown_subcommand(args[1], "cluster");
    c = nullptr;
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
      f.args = rejoin(*c, parts, f);
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

/// Makes `slot` ready with `r` (encoded for an encoding session) and reports it.
void front_core::complete(front_session& s, uint64_t seq, reply_slot& slot, net::reply&& r) {
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
        apply(ran_.items[i], &batch->items[i].args, now);
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
    apply(batch.items[i], sent && i < sent->items.size() ? &sent->items[i].args : nullptr, now);
}

/// Applies one worker result to its reply slot; `args` are the arguments the worker ran.
void front_core::apply(done_item& item, const net::arg_list* args, store::millis now) {
  auto* s = find(item.conn);
  if (s == nullptr || s->closed)
    return; // the client went away
  auto* slot = s->slot(item.seq);
  if (slot == nullptr || slot->ready)
    return; // released, or answered already (timed out)
  if (item.over_limit) // the worker stopped running its requests: it is over its limit
    return host_.over_output_limit(*s);
  slot->ns += item.ns;
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
    [&](uint32_t p) { host_.restart_worker(p); });
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

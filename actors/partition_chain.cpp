#include "actors/partition_chain.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "actors/chain_replica.hpp"
#include "actors/clock.hpp"
#include "commands/errors.hpp"
#include "store/journal.hpp"

namespace otkv {

namespace {

/// How long the commit may stand still, with records sent, before they are sent again.
constexpr int64_t resend_after_ms = 500;
/// How often a replica tells its predecessor its state when nothing else does.
constexpr int64_t pulse_ms = 200;
/// Bytes of records a partition keeps for a next node that does not commit them: past
/// it the oldest are forgotten, and that node gets a full copy when it is back.
constexpr uint64_t max_sent_bytes = uint64_t{32} << 20;
/// How long a reply may wait for its commit: its front end answered -TIMEOUT long before.
constexpr int64_t max_held_ms = 60000;

/// Sends `out` to `reply_to` (through the logger's fsync with appendfsync always).
void deliver(worker_ptr self, done_batch&& out, const batch_sink& reply_to) {
  auto& log = self->state.log;
  if (log.syncer)
    self->send(log.syncer, log_append_ack{std::move(out), reply_to});
  else
    self->send(reply_to, std::move(out));
}

/// Sends `msg` to this node's link (which passes it to the next or previous node).
template <class T>
void to_link(worker_ptr self, T&& msg) {
  if (auto link = self->state.log.chain->link())
    self->send(link, std::forward<T>(msg));
}

/// Writes the records the journal holds to this node's op log; false (logged) if that
/// failed (the log keeps them for its retry).
bool log_records(worker_ptr self, std::string_view records) {
  auto& file = self->state.log.file;
  if (!file || records.empty())
    return true;
  if (file->append(std::string(records)))
    return true;
  spdlog::error("partition {}: the op log failed: {}", self->state.index, file->error());
  return false;
}

/// The record number `item`'s reply depends on: for a read, the newest uncommitted
/// change of a key it read (every key's, for a read of the whole keyspace: DBSIZE, KEYS,
/// SCAN, RANDOMKEY). This node's own reports (INFO, CLUSTER COUNTKEYSINSLOT) and the reads of
/// READONLY connections answer at once.
uint64_t read_dependency(const cluster::chain_state& chain, const work_item& item) {
  const auto& c = *item.cmd;
  if ((c.flags & cmd::flag::write) != 0 || c.where == cmd::route::node || item.stale_ok)
    return 0;
  if (c.first_key <= 0)
    return chain.newest_dirty();
  uint64_t seq = 0;
  cmd::for_each_key(c, item.args, [&](int k) {
    seq = std::max(seq, chain.dirty_seq(item.args[static_cast<size_t>(k)]));
  });
  return seq;
}

/// Answers the held replies whose records are committed now.
void release_held(worker_ptr self) {
  auto& ch = *self->state.slot->chain;
  ch.held.release(ch.state.committed(), [&](std::pair<done_batch, batch_sink>&& r) {
    deliver(self, std::move(r.first), r.second);
  });
}

/// At the head: writes the records made since the last call to the op log and sends
/// At the head, after `batch` ran (its records numbered after `before`): ships them and
/// Answers every request of `batch` with -TRYAGAIN, without running it: this node does
/// Tells the predecessor this node's commit and last record.
void report_up(worker_ptr self) {
  auto& slot = *self->state.slot;
  auto& ch = *slot.chain;
  ch.last_pulse_ms = steady_ms();
  to_link(self, wire_commit{self->state.index, ch.state.committed(), slot.journal.last_seq(),
                            ch.synced});
}

/// This partition knows now that it has every committed record: it serves.
void now_synced(worker_ptr self, const char* how) {
  auto& ch = *self->state.slot->chain;
  if (ch.synced)
    return;
  ch.synced = true;
  ch.pulling = false;
  spdlog::info("partition {}: in sync with the chain ({}), record {}", self->state.index, how,
               self->state.slot->journal.last_seq());
}

} // namespace

void chain_follow_view(worker_ptr self) {
  auto& slot = *self->state.slot;
  auto& ch = *slot.chain;
  const auto& v = self->state.log.chain->view();
  uint64_t epoch = v.epoch();
  if (epoch == ch.epoch)
    return;
  ch.epoch = epoch;
  auto role = v.role();
  int predecessor = v.predecessor();
  int successor = v.successor();
  bool new_predecessor = predecessor != ch.predecessor;
  bool new_successor = successor != ch.successor;
  ch.predecessor = predecessor;
  ch.successor = successor;
  uint64_t applied = slot.journal.last_seq();
  if (role != ch.state.role()) {
    spdlog::info("partition {}: now the {} of its chain (layout epoch {}), record {}",
                 self->state.index, cluster::to_string(role), epoch, applied);
    ch.state.set_role(role);
    slot.data.set_expiry_mode(role == cluster::chain_role::head ? store::expiry_mode::record
                                                                : store::expiry_mode::hide);
    if (role == cluster::chain_role::head)
      ch.shipped = applied; // records from here on are this node's to number and send
  }
  if (new_successor) {
    // What the new next node has is unknown until its first pulse: at least every
    // committed record, unless it is new (then its pulse says 0 and it gets a copy).
    ch.next_applied = ch.state.committed();
    ch.syncing = false;
    ch.last_progress_ms = steady_ms();
  }
  if (successor < 0 && ch.state.commit(applied)) // the tail, or a head alone: committed
    release_held(self);
  if (role == cluster::chain_role::head && successor < 0 && v.active(v.self()))
    now_synced(self, "alone in its chain");
  if (new_predecessor && predecessor >= 0)
    report_up(self);
}

void publish_progress(worker_ptr self) {
  auto& slot = *self->state.slot;
  auto& ch = *slot.chain;
  auto& p = self->state.log.chain->progress(self->state.index);
  p.applied.store(slot.journal.last_seq(), std::memory_order_relaxed);
  p.committed.store(ch.state.committed(), std::memory_order_relaxed);
  p.sent_bytes.store(ch.state.sent_bytes(), std::memory_order_relaxed);
  p.next_applied.store(ch.next_applied, std::memory_order_relaxed);
  p.synced.store(ch.synced, std::memory_order_relaxed);
}

uint64_t ship_records(worker_ptr self) {
  auto& slot = *self->state.slot;
  auto& ch = *slot.chain;
  uint64_t last = slot.journal.last_seq();
  if (last <= ch.shipped)
    return last;
  auto records = slot.journal.take();
  log_records(self, records);
  if (ch.successor < 0) { // alone in its chain: nobody else to wait for
    ch.state.commit(last);
    ch.shipped = last;
    release_held(self);
    return last;
  }
  if (ch.state.sent().empty())
    ch.last_progress_ms = steady_ms();
  to_link(self, wire_records{self->state.index, ch.shipped, last, records});
  ch.state.keep_sent(ch.shipped, last, std::move(records));
  ch.state.trim_sent(max_sent_bytes);
  ch.shipped = last;
  return last;
}

void chain_after_batch(worker_ptr self, const work_batch& batch, uint64_t before,
                       done_batch&& out, const batch_sink& reply_to) {
  auto& slot = *self->state.slot;
  auto& ch = *slot.chain;
  uint64_t needs = 0;
  if (slot.journal.last_seq() > before) {
    needs = ship_records(self);
    if (auto& file = self->state.log.file; file && file->error() != 0)
      for (auto& item : out.items) // not acknowledged: the log failed
        item.result = cmd::err::misconf(file->error());
  }
  if (ch.state.any_dirty())
    for (const auto& item : batch.items)
      needs = std::max(needs, read_dependency(ch.state, item));
  if (needs <= ch.state.committed())
    return deliver(self, std::move(out), reply_to);
  ch.held.hold(needs, steady_ms(), {std::move(out), reply_to});
}

void refuse_batch(worker_ptr self, const work_batch& batch, const batch_sink& reply_to) {
  done_batch out{batch.partition, batch.id, {}};
  auto error = cmd::err::chain_syncing();
  auto encoded = net::reply::raw(net::encode(error));
  for (const auto& item : batch.items)
    out.items.push_back({item.conn, item.seq, item.part, item.encode ? encoded : error});
  self->send(reply_to, std::move(out));
}

void send_image(worker_ptr self, bool up) {
  auto& slot = *self->state.slot;
  auto& ch = *slot.chain;
  uint64_t seq = slot.journal.last_seq();
  std::string record;
  store::encode_record(record, store::mutation::image, self->state.index, seq, {},
                       store::encode_partition_image(slot.data, seq, now_ms()));
  spdlog::info("partition {}: sending the {} node of the chain a full copy ({} bytes, "
               "record {})", self->state.index, up ? "previous" : "next", record.size(), seq);
  if (!up) {
    ch.syncing = true;
    ch.sync_started_ms = steady_ms();
  }
  // Every record up to seq is in the image: the receiver applies it as record seq.
  to_link(self, wire_records{self->state.index, 0, seq, std::move(record), ch.state.committed(),
                             up});
}

void chain_take_records(worker_ptr self, wire_records& in) {
  chain_follow_view(self);
  auto& slot = *self->state.slot;
  auto& ch = *slot.chain;
  uint64_t applied = slot.journal.last_seq();
  if (in.bytes.empty()) { // a notice: this node has every record the sender committed?
    if (in.committed <= applied)
      now_synced(self, "it has every committed record");
    report_up(self);
    return;
  }
  if (in.up && ch.state.role() != cluster::chain_role::head)
    return;
  if (!cluster::chain_state::fits(applied, in.after, in.last)) {
    if (!in.up)
      report_up(self); // a copy of what is here already, or a gap: say where this node is
    return;
  }
  std::string fresh; // the records new here, framed as they came
  bool whole = in.after == applied;
  slot.data.set_sink(nullptr);
  auto scanned = store::scan_records(in.bytes, [&](store::log_record& r) {
    if (r.seq <= applied)
      return;
    store::apply_record(slot.data, r);
    ch.state.changed(r.key, r.seq, r.op == store::mutation::clear
                                     || r.op == store::mutation::image);
    if (!whole)
      store::encode_record(fresh, r.op, r.partition, r.seq, r.key, r.value, r.expire_at);
  });
  slot.data.set_sink(&ch.sink);
  if (scanned.end != store::scan_end::clean) {
    spdlog::error("partition {}: damaged records from the previous node of the chain",
                  self->state.index);
  }
  if (whole)
    fresh = std::move(in.bytes);
  slot.journal.add_encoded({}, in.last);
  log_records(self, fresh);
  if (in.up) { // the head's full copy from its successor: nothing to pass on
    ch.shipped = in.last;
    ch.pulling = false;
    spdlog::info("partition {}: took a full copy from the next node of the chain, record {}",
                 self->state.index, in.last);
    return;
  }
  if (ch.state.role() == cluster::chain_role::tail) {
    ch.state.commit(in.last);
  } else {
    if (ch.state.sent().empty())
      ch.last_progress_ms = steady_ms();
    to_link(self, wire_records{self->state.index, applied, in.last, fresh});
    ch.state.keep_sent(applied, in.last, std::move(fresh));
    ch.state.trim_sent(max_sent_bytes);
  }
  report_up(self);
}

void chain_take_commit(worker_ptr self, const wire_commit& in) {
  chain_follow_view(self);
  auto& slot = *self->state.slot;
  auto& ch = *slot.chain;
  uint64_t applied = slot.journal.last_seq();
  ch.next_applied = in.applied;
  if (in.applied > applied) {
    // The next node has records this one lost (its data directory went): a head takes a
    // full copy from it; elsewhere the previous node's full copy comes first.
    if (ch.state.role() == cluster::chain_role::head && !ch.pulling) {
      spdlog::warn("partition {}: the next node of the chain has records up to {}, this one "
                   "only up to {}: taking a full copy from it", self->state.index, in.applied,
                   applied);
      ch.pulling = true;
      ch.pull_started_ms = steady_ms();
      to_link(self, wire_pull{self->state.index});
    }
    return;
  }
  if (in.applied == applied)
    ch.syncing = false;
  // The head is the chain's authority: in sync once no other node is ahead of it.
  if (ch.state.role() == cluster::chain_role::head)
    now_synced(self, "no record is newer than its own");
  // The next node has every record committed here: tell it so.
  if (ch.synced && !in.synced && in.applied >= ch.state.committed())
    to_link(self, wire_records{self->state.index, in.applied, in.applied, {},
                               ch.state.committed(), false});
  // A commit past this node's own last record comes from another history: ignore it.
  if (ch.state.commit(std::min(in.committed, applied))) {
    ch.last_progress_ms = steady_ms();
    release_held(self);
    if (ch.state.role() != cluster::chain_role::head)
      report_up(self);
  }
}

void chain_tick(worker_ptr self) {
  chain_follow_view(self);
  auto& slot = *self->state.slot;
  auto& ch = *slot.chain;
  auto now = steady_ms();
  uint64_t applied = slot.journal.last_seq();
  bool behind = ch.state.role() != cluster::chain_role::tail && ch.next_applied < applied;
  if ((behind || !ch.state.sent().empty()) && now - ch.last_progress_ms > resend_after_ms) {
    ch.last_progress_ms = now;
    const auto& sent = ch.state.sent();
    if (!sent.empty() && sent.front().after <= ch.next_applied) {
      for (const auto& r : sent)
        if (r.last > ch.next_applied)
          to_link(self, wire_records{self->state.index, r.after, r.last, r.bytes});
    } else if (behind && !ch.syncing) {
      send_image(self);
    } else if (ch.syncing && now - ch.sync_started_ms > 5000) {
      ch.syncing = false; // the image was lost (the next node went down): send it again
    }
  }
  if (ch.pulling && now - ch.pull_started_ms > 5000)
    ch.pulling = false; // the full copy did not come (the next node went down): ask again
  if (ch.state.role() != cluster::chain_role::head && now - ch.last_pulse_ms >= pulse_ms)
    report_up(self);
  ch.held.drop_older(now - max_held_ms);
}

} // namespace otkv

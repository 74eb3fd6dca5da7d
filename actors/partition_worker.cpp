#include "actors/partition_worker.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

#include <caf/actor_cast.hpp>

#include "actors/batch_run.hpp"
#include "actors/chain_replica.hpp"
#include "actors/clock.hpp"
#include "commands/dispatch.hpp"
#include "commands/errors.hpp"
#include "store/journal.hpp"

#include <spdlog/spdlog.h>

namespace otkv {

namespace {

using worker_ptr = worker_actor::stateful_pointer<partition_worker_state>;

/// How often the active expiry sweep runs, and how many keys one run may remove.
constexpr auto sweep_interval = std::chrono::milliseconds(100);
constexpr size_t sweep_budget = 1000;
/// How soon to try again when the previous worker still holds the partition.
constexpr auto retry_interval = std::chrono::milliseconds(2);
/// Entries a snapshot image encodes per slice (~0.1–0.2 ms); batches run in between.
constexpr size_t image_slice = 256;

bool revoked(worker_ptr self) {
  return self->state.slot->epoch.load() != self->state.epoch;
}

/// Stops this worker: a newer one serves the partition.
void retire(worker_ptr self) {
  self->state.backlog.clear();
  self->quit();
}

// -- replication (docs/replication.md) ------------------------------------------------

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
/// SCAN, RANDOMKEY). This node's own reports (INFO, CLUSTER COUNTKEYSINSLOT) answer at once.
uint64_t read_dependency(const cluster::chain_state& chain, const work_item& item) {
  const auto& c = *item.cmd;
  if ((c.flags & cmd::flag::write) != 0 || c.where == cmd::route::node)
    return 0;
  if (c.first_key <= 0)
    return chain.newest_dirty();
  uint64_t seq = 0;
  int last = c.last_key < 0 ? static_cast<int>(item.args.size()) + c.last_key : c.last_key;
  for (int k = c.first_key; k <= last && static_cast<size_t>(k) < item.args.size();
       k += c.key_step)
    seq = std::max(seq, chain.dirty_seq(item.args[static_cast<size_t>(k)]));
  return seq;
}

/// Publishes the partition's replication progress (INFO replication).
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

/// Answers the held replies whose records are committed now.
void release_held(worker_ptr self) {
  auto& ch = *self->state.slot->chain;
  ch.held.release(ch.state.committed(), [&](std::pair<done_batch, batch_sink>&& r) {
    deliver(self, std::move(r.first), r.second);
  });
}

/// At the head: writes the records made since the last call to the op log and sends
/// them down the chain. Returns the number of the last record.
uint64_t ship_records(worker_ptr self) {
  auto& slot = *self->state.slot;
  auto& ch = *slot.chain;
  uint64_t last = slot.journal.last_seq();
  if (last <= ch.shipped)
    return last;
  auto records = slot.journal.take();
  log_records(self, records);
  if (ch.state.sent().empty())
    ch.last_progress_ms = steady_ms();
  to_link(self, wire_records{self->state.index, ch.shipped, last, records});
  ch.state.keep_sent(ch.shipped, last, std::move(records));
  ch.state.trim_sent(max_sent_bytes);
  ch.shipped = last;
  return last;
}

/// At the head, after `batch` ran (its records numbered after `before`): ships them and
/// answers the batch once every record its replies depend on is committed.
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

/// Answers every request of `batch` with -TRYAGAIN, without running it: this node does
/// not know yet that it has every committed record.
void refuse_batch(worker_ptr self, const work_batch& batch, const batch_sink& reply_to) {
  done_batch out{batch.partition, batch.id, {}};
  auto error = cmd::err::chain_syncing();
  auto encoded = net::reply::raw(net::encode(error));
  for (const auto& item : batch.items)
    out.items.push_back({item.conn, item.seq, item.part, item.encode ? encoded : error});
  self->send(reply_to, std::move(out));
}

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

/// The whole partition as one image record, for a successor that lacks records no
/// longer kept (it restarted without its data, or this node restarted).
void send_image(worker_ptr self, bool up = false) {
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

/// Records from the chain's previous node: applies those after this node's last one (in
/// order; a gap waits for the predecessor to send again), writes them to the op log, and
/// passes them on — or, at the tail, commits them and says so up the chain.
void chain_take_records(worker_ptr self, wire_records& in) {
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

/// The next node's state: commits up to its commit (answering the replies that waited
/// for it) and passes the commit up. What the next node lacks is sent again by the
/// timer (chain_tick), not here: reports cross records on the way.
void chain_take_commit(worker_ptr self, const wire_commit& in) {
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

/// The 100 ms timer. When the commit stood still for a while with records sent or the
/// next node behind: sends it again what it lacks (the records kept, or the whole
/// partition when they are not kept). Then (but at the head) tells the predecessor this
/// node's state, a pulse.
void chain_tick(worker_ptr self) {
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

/// Applies one batch while holding the token. Returns false if the worker was revoked
/// half-way (the slot keeps the progress for its successor).
bool apply(worker_ptr self, const work_batch& batch, const batch_sink& reply_to) {
  auto& slot = *self->state.slot;
  done_batch out;
  if (slot.chain && !slot.chain->synced) {
    refuse_batch(self, batch, reply_to);
    return true;
  }
  uint64_t before = slot.journal.last_seq();
  switch (run_batch(slot, batch, [self] { return revoked(self); }, out)) {
    case batch_outcome::skipped:
      return true; // a resent copy of a batch already answered
    case batch_outcome::stopped:
      return false;
    case batch_outcome::done:
      break;
  }
  if (slot.chain) {
    chain_after_batch(self, batch, before, std::move(out), reply_to);
    return true;
  }
  // With appendfsync always the replies go through the logger, after its fsync.
  auto& log = self->state.log;
  if (write_records(slot, log.file.get(), out) && log.syncer) {
    self->send(log.syncer, log_append_ack{std::move(out), reply_to});
    return true;
  }
  self->send(reply_to, std::move(out));
  return true;
}

/// Applies the backlog in order, as long as the token can be taken.
void drain(worker_ptr self) {
  auto& st = self->state;
  while (!st.backlog.empty() || !st.chain_in.empty()) {
    if (revoked(self))
      return retire(self);
    if (!st.slot->claim_after_guests(st.epoch)) {
      // The previous worker is still inside a batch (hung): wait for it.
      if (!st.retry_scheduled) {
        st.retry_scheduled = true;
        self->delayed_send(self, retry_interval, retry_atom::value);
      }
      return;
    }
    if (!st.image.active && st.slot->data.imaging())
      st.slot->data.abandon_image(); // begun by a predecessor that is gone: nobody takes it
    if (!st.chain_in.empty()) { // the chain's messages first: they answer held replies
      auto msg = std::move(st.chain_in.front());
      st.chain_in.pop_front();
      if (st.slot->chain) {
        if (auto* records = std::get_if<wire_records>(&msg))
          chain_take_records(self, *records);
        else if (auto* commit = std::get_if<wire_commit>(&msg))
          chain_take_commit(self, *commit);
        else
          send_image(self, true); // wire_pull: the previous node lost its data
        publish_progress(self);
      }
      st.slot->release(st.epoch);
      continue;
    }
    auto [ref, reply_to] = std::move(st.backlog.front());
    st.backlog.pop_front();
    bool finished = apply(self, *ref.batch, reply_to);
    st.slot->release(st.epoch);
    if (!finished)
      return retire(self);
  }
}

/// Encodes the next slice of the snapshot image under way, or answers with the image
/// once it is complete. Between slices the worker sends itself image_step_atom, which
/// queues behind the batches that arrived meanwhile: they are served in between, and
/// the partition records their changes to entries not copied yet (partition::begin_image).
void step_image(worker_ptr self) {
  auto& st = self->state;
  auto& job = st.image;
  if (!job.active)
    return;
  if (revoked(self))
    return retire(self); // the image_job answers the request with an error
  if (!st.slot->claim_after_guests(st.epoch)) {
    self->delayed_send(self, retry_interval, image_step_atom::value);
    return;
  }
  if (revoked(self) || !st.slot->data.imaging()) {
    st.slot->release(st.epoch);
    return retire(self);
  }
  auto started = std::chrono::steady_clock::now();
  bool done = st.slot->data.image_step(image_slice);
  if (done)
    job.image.bytes = st.slot->data.take_image();
  st.slot->release(st.epoch);
  if (!done) {
    // Rest three times as long as the slice took: the image uses at most a quarter of a
    // core, so on a busy machine it does not crowd out the threads serving requests
    // (batches that arrive meanwhile are served at once; only the next slice waits).
    self->delayed_send(self, 3 * (std::chrono::steady_clock::now() - started),
                       image_step_atom::value);
    return;
  }
  job.active = false;
  job.promise.deliver(std::move(job.image));
  job.image = {};
}

} // namespace

const char* partition_worker_state::name = "partition_worker";

void deliver_fault(const worker_actor& worker, const cmd::fault_request& f) {
  switch (f.what) {
    case cmd::fault_request::kind::sleep:
      caf::anon_send(worker, sleep_atom::value, static_cast<uint32_t>(f.value));
      break;
    case cmd::fault_request::kind::crash:
      caf::anon_send(worker, crash_atom::value);
      break;
    case cmd::fault_request::kind::drop:
      caf::anon_send(worker, drop_atom::value, f.value);
      break;
    case cmd::fault_request::kind::none:
      break;
  }
}

worker_actor::behavior_type
partition_worker(worker_ptr self, slot_ptr slot, uint32_t index, uint64_t epoch, op_log log) {
  self->state.slot = std::move(slot);
  self->state.index = index;
  self->state.epoch = epoch;
  self->state.log = std::move(log);
  self->delayed_send(self, sweep_interval, caf::tick_atom_v);
  return {
    [=](batch_ref& ref) {
      auto& st = self->state;
      if (st.drop_remaining > 0) { // DEBUG DROP-PARTITION: lose it silently
        auto n = ref.batch->items.size();
        st.drop_remaining -= std::min<uint64_t>(st.drop_remaining, n);
        return;
      }
      st.backlog.emplace_back(std::move(ref), caf::actor_cast<batch_sink>(self->current_sender()));
      drain(self);
    },
    [=](retry_atom) {
      self->state.retry_scheduled = false;
      drain(self);
    },
    [=](caf::tick_atom) {
      auto& st = self->state;
      if (revoked(self))
        return retire(self);
      if (st.slot->claim(st.epoch)) { // else next time
        st.slot->data.sweep(now_ms(), sweep_budget);
        if (st.slot->chain) {
          if (st.slot->chain->state.role() == cluster::chain_role::head)
            ship_records(self); // the sweep's erase records
          chain_tick(self);
          publish_progress(self);
        }
        st.slot->release(st.epoch);
      }
      self->delayed_send(self, sweep_interval, caf::tick_atom_v);
    },
    [=](image_atom) -> caf::typed_response_promise<partition_image> {
      // The image is of this moment (seq = the last record made so far), taken in
      // slices between batches (step_image); the answer comes when it is complete.
      auto& st = self->state;
      auto rp = self->make_response_promise<partition_image>();
      if (revoked(self) || !st.slot->claim_after_guests(st.epoch)) {
        rp.deliver(caf::make_error(caf::sec::request_timeout)); // hung predecessor: retry later
        return rp;
      }
      st.image.fail(); // an earlier request the snapshotter gave up on: start over
      st.image.image = partition_image{st.index, st.slot->journal.last_seq(), {}};
      st.slot->data.begin_image(st.image.image.seq, now_ms());
      st.slot->release(st.epoch);
      st.image.promise = rp;
      st.image.active = true;
      self->send(self, image_step_atom::value);
      return rp;
    },
    [=](image_step_atom) { step_image(self); },
    [=](seq_atom) { return self->state.slot->journal.last_seq(); },
    [=](wire_records& in) {
      self->state.chain_in.emplace_back(std::move(in));
      drain(self);
    },
    [=](wire_commit& in) {
      self->state.chain_in.emplace_back(in);
      drain(self);
    },
    [=](wire_pull& in) {
      self->state.chain_in.emplace_back(in);
      drain(self);
    },
    // -- faults for tests (DEBUG …, only with --enable-debug-command yes) -----------
    [=](sleep_atom, uint32_t ms) {
      // A hang in the middle of the work: holds the partition while it sleeps.
      auto& st = self->state;
      bool held = st.slot->claim_after_guests(st.epoch);
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      if (held)
        st.slot->release(st.epoch);
      drain(self);
    },
    [=](crash_atom) -> caf::result<void> {
      throw std::runtime_error("DEBUG CRASH-PARTITION " + std::to_string(self->state.index));
    },
    [=](drop_atom, uint64_t n) { self->state.drop_remaining = n; },
  };
}

} // namespace otkv

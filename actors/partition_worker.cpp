#include "actors/partition_worker.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

#include <caf/actor_cast.hpp>

#include "actors/batch_run.hpp"
#include "actors/chain_replica.hpp"
#include "actors/partition_chain.hpp"
#include "actors/clock.hpp"
#include "commands/dispatch.hpp"
#include "commands/errors.hpp"
#include "store/journal.hpp"

#include <spdlog/spdlog.h>

namespace otkv {

namespace {


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

// -- blocking commands (actors/blocked_requests.hpp) ------------------------------

/// Answers of parked requests, each to its front end, in a batch of id 0.
using wake_list = std::vector<std::pair<batch_sink, done_batch>>;

/// Adds the answer `r` of parked request `req` to `woken`.
void answer_parked(worker_ptr self, const blocked_requests::request& req, net::reply r,
                   wake_list& woken) {
  if (req.item.encode && r.type != net::reply::kind::raw)
    r = net::reply::raw(net::encode(r));
  done_batch b{self->state.index, 0, {}};
  b.items.push_back({req.item.conn, req.item.seq, req.item.part, std::move(r)});
  woken.emplace_back(req.reply_to, std::move(b));
}

/// Publishes how many requests wait (front ends read it without the token).
void publish_waiting(partition_slot& slot) {
  slot.waiting.store(static_cast<uint32_t>(slot.blocked.size()), std::memory_order_relaxed);
}

/// Offers the keys in `ready` (and those the answered requests write in turn, as a
/// BLMOVE's destination) to the requests waiting on them. The caller holds the token.
void serve_parked(worker_ptr self, std::vector<std::string> ready, wake_list& woken) {
  auto& slot = *self->state.slot;
  using outcome = blocked_requests::outcome;
  for (size_t i = 0; i < ready.size() && !slot.blocked.empty(); ++i) {
    std::string key = ready[i]; // a copy: `ready` grows below
    slot.blocked.serve(key, [&](blocked_requests::request& req) {
      cmd::op_context ctx{slot.data, now_ms(), self->state.index};
      ctx.encode = req.item.encode;
      ctx.may_block = true;
      ctx.waking = true;
      ctx.ready_key = key;
      net::reply r = cmd::run_on_partition(*req.item.cmd, ctx, req.item.args);
      if (ctx.blocked) // nothing for it: another type waits on, an empty key stops all
        return slot.data.find(key, ctx.now) != nullptr ? outcome::waits : outcome::empty;
      cmd::for_each_key(*req.item.cmd, req.item.args, [&](int k) {
        const auto& written = req.item.args[static_cast<size_t>(k)];
        if (written != key && slot.blocked.waits_on(written))
          ready.push_back(written);
      });
      answer_parked(self, req, std::move(r), woken);
      return outcome::served;
    });
  }
  publish_waiting(slot);
}

/// Sets the timer for the soonest deadline of a waiting request, unless one is set for
/// it already.
void arm_block_timer(worker_ptr self) {
  auto& st = self->state;
  store::millis next = st.slot->blocked.next_deadline();
  if (next == 0 || (st.block_timer_at != 0 && st.block_timer_at <= next))
    return;
  st.block_timer_at = next;
  auto wait = std::max<store::millis>(0, next - steady_ms()) + 1;
  self->delayed_send(self, std::chrono::milliseconds(wait), block_timeout_atom::value);
}

/// Answers the waiting requests past their deadline with a null array, as Redis.
void expire_parked(worker_ptr self, wake_list& woken) {
  auto& slot = *self->state.slot;
  slot.blocked.expire(steady_ms(), [&](const blocked_requests::request& req) {
    answer_parked(self, req, net::reply::null_array(), woken);
  });
  publish_waiting(slot);
}

/// Applies what front ends posted for the waiting requests (partition_slot::post_*).
void take_posted(worker_ptr self, wake_list& woken) {
  auto& slot = *self->state.slot;
  if (!slot.has_posted())
    return;
  auto posted = slot.take_posted();
  for (const auto& [front, conn, seq] : posted.withdrawals)
    slot.blocked.cancel(front, conn, seq);
  if (posted.wake)
    serve_parked(self, slot.blocked.keys(), woken);
  publish_waiting(slot);
}

/// The worker's part in a batch's run (batch_hooks): parks a request that waits, and
/// after each write serves the requests waiting on its keys, before the next request.
class worker_hooks final : public batch_hooks {
public:
  worker_hooks(worker_ptr self, const batch_sink& reply_to, wake_list& woken)
    : self_(self), reply_to_(reply_to), woken_(woken) {}

  void park(const work_item& item, uint64_t block_ms, uint32_t keys) override {
    auto& slot = *self_->state.slot;
    store::millis deadline = block_ms > 0 ? steady_ms() + static_cast<store::millis>(block_ms) : 0;
    slot.blocked.park(item, reply_to_, deadline, keys);
    publish_waiting(slot);
    arm_block_timer(self_);
  }

  void wrote(const work_item& item) override {
    auto& slot = *self_->state.slot;
    if (slot.blocked.empty())
      return;
    std::vector<std::string> ready;
    cmd::for_each_key(*item.cmd, item.args, [&](int k) {
      const auto& key = item.args[static_cast<size_t>(k)];
      if (slot.blocked.waits_on(key))
        ready.push_back(key);
    });
    if (!ready.empty())
      serve_parked(self_, std::move(ready), woken_);
  }

private:
  worker_ptr self_;
  const batch_sink& reply_to_;
  wake_list& woken_;
};

/// Writes the records made so far to the op log, then sends `out` (if any) to `reply_to`
/// and each answer in `woken` to its front end; with appendfsync always, through the
/// logger after its fsync. A failed write turns every reply into -MISCONF.
void send_results(worker_ptr self, done_batch* out, const batch_sink& reply_to,
                  wake_list&& woken) {
  auto& slot = *self->state.slot;
  auto& log = self->state.log;
  done_batch none;
  bool had_records = !slot.journal.empty();
  bool wrote = write_records(slot, log.file.get(), out ? *out : none);
  if (had_records && log.file && !wrote)
    for (auto& [sink, b] : woken)
      for (auto& item : b.items)
        item.result = cmd::err::misconf(log.file->error());
  auto send = [&](const batch_sink& to, done_batch&& b) {
    if (wrote && log.syncer)
      self->send(log.syncer, log_append_ack{std::move(b), to});
    else
      self->send(to, std::move(b));
  };
  if (out)
    send(reply_to, std::move(*out));
  for (auto& [sink, b] : woken)
    send(sink, std::move(b));
}

/// Runs `f(woken)` holding the token and sends what it answered, unless the worker is no
/// longer current (the slot keeps everything for its successor), or another holds the
/// token: then `retry()` asks again a little later.
template <class F, class Retry>
void with_token(worker_ptr self, F&& f, Retry&& retry) {
  auto& st = self->state;
  if (revoked(self))
    return retire(self);
  if (!st.slot->claim_after_guests(st.epoch))
    return retry();
  wake_list woken;
  take_posted(self, woken);
  f(woken);
  if (!woken.empty())
    send_results(self, nullptr, {}, std::move(woken));
  st.slot->release(st.epoch);
}

/// Applies one batch while holding the token. Returns false if the worker was revoked
/// half-way (the slot keeps the progress for its successor).
bool apply(worker_ptr self, const work_batch& batch, const batch_sink& reply_to) {
  auto& slot = *self->state.slot;
  done_batch out;
  if (slot.chain)
    chain_follow_view(self);
  if (slot.chain && !slot.chain->synced) {
    refuse_batch(self, batch, reply_to);
    return true;
  }
  uint64_t before = slot.journal.last_seq();
  wake_list woken;
  take_posted(self, woken);
  worker_hooks hooks(self, reply_to, woken);
  // Chains answer blocking commands at once (docs/data-types.md).
  auto outcome = run_batch(slot, batch, [self] { return revoked(self); }, out,
                           slot.chain ? nullptr : &hooks);
  if (outcome != batch_outcome::done) {
    if (!woken.empty()) // served before the stop: their pops are made, answer them
      send_results(self, nullptr, {}, std::move(woken));
    return outcome == batch_outcome::skipped; // skipped: a resent copy already answered
  }
  if (slot.chain) {
    chain_after_batch(self, batch, before, std::move(out), reply_to);
    return true;
  }
  send_results(self, &out, reply_to, std::move(woken));
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
  if (self->state.slot->waiting.load() != 0 || self->state.slot->has_posted()) {
    self->state.slot->post_wake(); // a predecessor may have left a wake-up undone
    self->send(self, wake_atom::value);
  }
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
        if (!st.slot->blocked.empty() || st.slot->has_posted()) {
          // Timers die with the worker that set them; scripts post wake-ups unannounced.
          wake_list woken;
          take_posted(self, woken);
          expire_parked(self, woken);
          if (!woken.empty())
            send_results(self, nullptr, {}, std::move(woken));
        }
        if (!st.slot->watches.empty()) // watchers that went away (UNWATCH, EXEC, a close)
          st.slot->watches.purge();
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
    [=](wake_atom) {
      with_token(
        self, [](wake_list&) {}, // take_posted does the work
        [&] { self->delayed_send(self, retry_interval, wake_atom::value); });
    },
    [=](block_timeout_atom) {
      self->state.block_timer_at = 0;
      with_token(
        self,
        [&](wake_list& woken) {
          expire_parked(self, woken);
          arm_block_timer(self);
        },
        [&] { self->delayed_send(self, retry_interval, block_timeout_atom::value); });
    },
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

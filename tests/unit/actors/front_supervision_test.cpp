// The request-timeout policy end to end on CAF's deterministic scheduler: a small front
// actor drives the front-end core (front_core, with its in-flight bookkeeping) the way
// the embedded store's front does, against the real supervisor and workers. Time is
// virtual, so "500 ms later" is exact and takes no time.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "actors/front_core.hpp"
#include "actors/partition_worker.hpp"
#include "actors/supervisor.hpp"
#include "tests/unit/actors/test_system.hpp"

using namespace otkv;
using namespace std::chrono_literals;

namespace {

/// Asks the test front to run a request: `(submit_atom, args)`.
using submit_atom = caf::atom_constant<caf::atom("submit")>;

struct front_state;
using front_ptr = caf::stateful_actor<front_state>*;

/// The core's view of the test front: batches to the workers, restarts to the supervisor.
struct test_host : front_host {
  front_ptr self = nullptr;
  void send_batch(std::shared_ptr<const work_batch> batch) override;
  void restart_worker(uint32_t partition) override;
  void over_output_limit(front_session&) override {}
};

/// State of the test front: one session whose replies stay in their slots.
struct front_state {
  supervisor_actor supervisor;
  std::vector<worker_actor> workers;
  test_host host;
  cmd::server_context server;
  std::unique_ptr<front_core> core;
  front_session* session = nullptr;
  static const char* name;
};
const char* front_state::name = "test_front";

/// The virtual clock in ms (both the wall and the monotonic clock of the core).
store::millis now_of(front_ptr self) {
  auto t = self->clock().now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::milliseconds>(t).count();
}

void test_host::send_batch(std::shared_ptr<const work_batch> batch) {
  auto p = batch->partition;
  self->send(self->state.workers[p], batch_ref{std::move(batch)});
}

void test_host::restart_worker(uint32_t p) {
  self->send(self->state.supervisor, restart_atom::value, p, self->state.workers[p]);
}

constexpr auto tick_interval = 50ms;

/// A front end in the embedded store's shape: submit, dispatch, done_batch, new worker
/// tables and the supervision tick go to the front-end core.
caf::behavior test_front(front_ptr self, supervisor_actor sup, uint32_t partitions) {
  auto& st = self->state;
  st.supervisor = sup;
  st.host.self = self;
  st.core = std::make_unique<front_core>(st.host, st.server, partitions);
  st.core->settings.request_timeout_ms = 500;
  st.core->settings.request_attempts = 2;
  st.session = &st.core->open<front_session>(1);
  st.session->encode = false;
  self->send(sup, caf::subscribe_atom_v);
  self->delayed_send(self, tick_interval, caf::tick_atom_v);
  return {
    [=](submit_atom, net::arg_list& args) {
      auto& st = self->state;
      auto now = now_of(self);
      st.core->submit(*st.session, std::move(args), now, now);
      st.core->dispatch(now, now);
    },
    [=](done_batch& batch) { self->state.core->on_done(batch, now_of(self)); },
    [=](caf::update_atom, worker_table& t) {
      auto& st = self->state;
      st.core->take_workers(st.workers, std::move(t.workers), now_of(self), now_of(self));
    },
    [=](caf::tick_atom) {
      self->state.core->tick(now_of(self));
      self->delayed_send(self, tick_interval, caf::tick_atom_v);
    },
  };
}

/// A supervisor with one empty partition and a test front subscribed to it.
struct setup {
  test::test_system t;
  supervisor_actor sup;
  caf::actor front;
  setup() {
    auto data = std::make_shared<recovered_data>();
    data->parts = std::vector<store::partition>(1);
    data->seqs.assign(1, 0);
    sup = t.own(t.sys().spawn(supervisor, data, op_log{}, worker_threads::scheduler));
    front = t.own(t.sys().spawn(test_front, sup, uint32_t{1}));
    t.run();
  }
  supervisor_state& sup_state() { return t.state_of<supervisor_state, supervisor_actor::base>(sup); }
  front_state& front_st() { return t.state_of<front_state, caf::event_based_actor>(front); }
  /// Runs `args` through the front; returns its sequence number.
  uint64_t submit(net::arg_list args) {
    auto seq = front_st().session->next_seq();
    caf::anon_send(front, submit_atom::value, std::move(args));
    t.run();
    return seq;
  }
  /// The reply of request `seq`, or nullptr while it is not ready.
  const net::reply* reply(uint64_t seq) {
    auto* slot = front_st().session->slot(seq);
    return slot != nullptr && slot->ready ? &slot->reply : nullptr;
  }
  /// Advances the virtual clock by `d` in steps of 10 ms (each running what is due).
  void wait(std::chrono::milliseconds d) {
    for (auto left = d; left > 0ms; left -= 10ms)
      t.advance(10ms);
  }
};

} // namespace

TEST_CASE("a hung partition: the timeout gets a fresh worker, the batch is resent there and "
          "applied once",
          "[actors][supervision]") {
  setup s;
  auto& slot = *s.sup_state().slots[0];
  auto hung_epoch = s.sup_state().epochs[0];
  REQUIRE(slot.claim(hung_epoch)); // the worker is stuck inside a batch
  auto incr = s.submit({"INCR", "n"});

  s.wait(490ms);
  CHECK(s.reply(incr) == nullptr);
  CHECK(s.front_st().server.counters.partition_counters[0].restarts == 0);
  s.wait(20ms); // past the request timeout: restart, new table, resend
  auto& counters = s.front_st().server.counters.partition_counters[0];
  CHECK(counters.restarts == 1);
  CHECK(counters.resends == 1);
  CHECK(slot.epoch.load() != hung_epoch);
  CHECK(s.reply(incr) == nullptr); // the fresh worker waits for the partition

  slot.release(hung_epoch); // the hung worker lets go (it was replaced)
  s.wait(10ms);
  REQUIRE(s.reply(incr) != nullptr);
  CHECK(s.reply(incr)->number == 1);

  auto get = s.submit({"GET", "n"});
  REQUIRE(s.reply(get) != nullptr);
  CHECK(s.reply(get)->text == "1"); // applied once, though sent twice
  CHECK(counters.timeouts == 0);
}

TEST_CASE("a partition that stays hung: -TIMEOUT after the last attempt, and the write may "
          "still be applied later",
          "[actors][supervision]") {
  setup s;
  auto& slot = *s.sup_state().slots[0];
  auto hung_epoch = s.sup_state().epochs[0];
  REQUIRE(slot.claim(hung_epoch));
  auto incr = s.submit({"INCR", "n"});

  s.wait(990ms); // one restart at 500 ms; the second attempt is not over yet
  CHECK(s.reply(incr) == nullptr);
  s.wait(20ms);
  REQUIRE(s.reply(incr) != nullptr);
  CHECK(s.reply(incr)->is_error());
  CHECK(s.reply(incr)->text.rfind("TIMEOUT request to partition 0", 0) == 0);
  auto& counters = s.front_st().server.counters.partition_counters[0];
  CHECK(counters.restarts == 1); // no third worker: the batch was failed, not resent
  CHECK(counters.timeouts == 1);

  // -TIMEOUT means "outcome unknown": the fresh worker still holds the batch and applies
  // it once the partition is free.
  slot.release(hung_epoch);
  s.wait(10ms);
  auto get = s.submit({"GET", "n"});
  REQUIRE(s.reply(get) != nullptr);
  CHECK(s.reply(get)->text == "1");
}

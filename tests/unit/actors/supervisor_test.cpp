// The supervisor on CAF's deterministic scheduler: a restart request spawns a fresh
// worker under a new epoch and publishes the new worker table; a stale one does nothing;
// a worker that dies mid-batch is replaced and its successor resumes the batch.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "actors/partition_worker.hpp"
#include "actors/supervisor.hpp"
#include "tests/unit/actors/test_system.hpp"

using namespace otkv;
using namespace std::chrono_literals;

namespace {

/// `partitions` empty partitions, as recovery hands them to the supervisor.
std::shared_ptr<recovered_data> empty_data(uint32_t partitions) {
  auto data = std::make_shared<recovered_data>();
  data->parts = std::vector<store::partition>(partitions);
  data->seqs.assign(partitions, 0);
  return data;
}

using supervisor_base = supervisor_actor::base;

/// How many times throwing_incr has thrown; it throws only the first time.
int throws = 0;

/// Throws the first time (the worker dies half-way through its batch), then is INCR.
net::reply throwing_incr(cmd::op_context& ctx, const net::arg_list& args) {
  if (throws++ == 0)
    throw std::runtime_error("worker fault for the test");
  return test::command("incr").on_partition(ctx, args);
}

const cmd::command* throwing_incr_command() {
  static cmd::command c = [] {
    auto c = test::command("incr");
    c.on_partition = throwing_incr;
    return c;
  }();
  return &c;
}

} // namespace

TEST_CASE("a restart request replaces the worker under a new epoch and publishes the table; "
          "a stale one does nothing",
          "[actors][supervisor]") {
  test::test_system t;
  auto [front, box] = t.spawn_recorder();
  auto sup = t.own(t.sys().spawn(supervisor, empty_data(2), op_log{}, worker_threads::scheduler));
  t.run();
  caf::send_as(front, sup, caf::subscribe_atom_v);
  t.run();
  REQUIRE(box->tables.size() == 1); // the table at once
  auto before = box->tables[0].workers;
  REQUIRE(before.size() == 2);
  auto& st = t.state_of<supervisor_state, supervisor_base>(sup);
  auto epoch_before = st.slots[1]->epoch.load();
  t.watch(front, before[1]);

  // The front end's timeout noticed partition 1's worker is silent.
  caf::send_as(front, sup, restart_atom::value, uint32_t{1}, before[1]);
  t.run();
  REQUIRE(box->tables.size() == 2);
  auto after = box->tables[1].workers;
  REQUIRE(after.size() == 2);
  CHECK(after[0] == before[0]);
  CHECK(after[1] != before[1]);
  CHECK(st.slots[1]->epoch.load() > epoch_before);
  CHECK(st.epochs[1] == st.slots[1]->epoch.load());
  CHECK(st.workers[1] == after[1]);

  // The replaced worker notices at its next message (here its sweep tick) and ends.
  CHECK_FALSE(test::ended(*box, before[1]));
  t.advance(100ms);
  CHECK(test::ended(*box, before[1]));

  // A second front end asks too late, for the worker already replaced: nothing happens.
  auto epoch_after = st.slots[1]->epoch.load();
  caf::send_as(front, sup, restart_atom::value, uint32_t{1}, before[1]);
  t.run();
  CHECK(box->tables.size() == 2);
  CHECK(st.slots[1]->epoch.load() == epoch_after);
  CHECK(st.workers[1] == after[1]);

  // The fresh worker serves the partition.
  caf::send_as(front, after[1], batch_ref{test::make_batch(1, {{"INCR", "n"}})});
  t.run();
  REQUIRE(box->done.size() == 1);
  CHECK(box->done[0].items[0].result.number == 1);
}

TEST_CASE("a worker that dies mid-batch is replaced; the successor resumes the batch after "
          "the replies made",
          "[actors][supervisor]") {
  throws = 0;
  test::test_system t;
  auto [front, box] = t.spawn_recorder();
  auto sup = t.own(t.sys().spawn(supervisor, empty_data(1), op_log{}, worker_threads::scheduler));
  t.run();
  caf::send_as(front, sup, caf::subscribe_atom_v);
  t.run();
  REQUIRE(box->tables.size() == 1);
  auto dying = box->tables[0].workers[0];

  // INCR runs, the second request throws: the worker dies holding the partition.
  auto batch = test::make_batch(0, {{"INCR", "n"}, {"INCR", "n"}, {"INCR", "n"}},
                                {nullptr, throwing_incr_command()});
  caf::send_as(front, dying, batch_ref{batch});
  t.run();
  CHECK(box->done.empty());
  REQUIRE(box->tables.size() == 2); // the supervisor saw it die and replaced it
  auto fresh = box->tables[1].workers[0];
  CHECK(fresh != dying);
  auto& st = t.state_of<supervisor_state, supervisor_base>(sup);
  CHECK(st.slots[0]->holder.load() == 0); // released for the successor
  REQUIRE(st.slots[0]->partial.count(batch->id) == 1);
  CHECK(st.slots[0]->partial[batch->id].replies.size() == 1);

  // The front end resends the batch to the fresh worker, which resumes after INCR → 1.
  caf::send_as(front, fresh, batch_ref{batch});
  t.run();
  REQUIRE(box->done.size() == 1);
  CHECK(box->done[0].items.size() == 3);
  CHECK(box->done[0].items[0].result.number == 1);
  CHECK(box->done[0].items[1].result.number == 2);
  CHECK(box->done[0].items[2].result.number == 3);
}

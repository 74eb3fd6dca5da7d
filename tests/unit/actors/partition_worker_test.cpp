// The partition worker on CAF's deterministic scheduler: the hand-over between a worker
// and its successor on one partition_slot, at the request boundary, applying no write
// twice; a successor that waits for a predecessor still inside a batch; appendfsync
// always, where the replies reach the front end only through the logger.

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "actors/logger.hpp"
#include "actors/partition_worker.hpp"
#include "tests/unit/actors/test_system.hpp"

using namespace otkv;
using namespace std::chrono_literals;

namespace {

/// The slot whose current worker `incr_then_replace` replaces.
partition_slot* replaced_slot = nullptr;

/// INCR, then a newer worker becomes the slot's current one (as when the supervisor
/// starts a fresh worker while this one is inside the batch): the worker running it is
/// revoked half-way through its batch.
net::reply incr_then_replace(cmd::op_context& ctx, const net::arg_list& args) {
  auto r = test::command("incr").on_partition(ctx, args);
  replaced_slot->epoch.store(replaced_slot->epoch.load() + 1);
  return r;
}

/// The table row for incr_then_replace.
const cmd::command* replacing_incr() {
  static cmd::command c = [] {
    auto c = test::command("incr");
    c.on_partition = incr_then_replace;
    return c;
  }();
  return &c;
}

/// A fresh slot for partition 0 whose current epoch is 1.
slot_ptr make_slot() {
  auto slot = std::make_shared<partition_slot>(store::partition{}, 0, 0);
  slot->epoch.store(1);
  return slot;
}

/// Sends `batch` to `worker` as front end `front` (which gets the done_batch).
void send_batch(const caf::actor& front, const worker_actor& worker,
                const std::shared_ptr<work_batch>& batch) {
  caf::send_as(front, worker, batch_ref{batch});
}

/// The integer results of `d`, in item order.
std::vector<int64_t> numbers(const done_batch& d) {
  std::vector<int64_t> out;
  for (const auto& item : d.items)
    out.push_back(item.result.number);
  return out;
}

} // namespace

TEST_CASE("a worker replaced mid-batch stops at the request boundary; its successor resumes "
          "after the replies made, applying no write twice",
          "[actors][worker]") {
  test::test_system t;
  auto [front, box] = t.spawn_recorder();
  auto slot = make_slot();
  replaced_slot = slot.get();
  auto old_worker = t.own(t.sys().spawn(partition_worker, slot, 0u, uint64_t{1}, op_log{}));
  t.watch(front, old_worker);

  // The second request replaces the worker after its INCR; the next two are not run.
  auto first = test::make_batch(0, {{"INCR", "n"}, {"INCR", "n"}, {"INCR", "n"}, {"APPEND", "s", "ab"}},
                                {nullptr, replacing_incr()});
  auto second = test::make_batch(0, {{"INCR", "n"}});
  send_batch(front, old_worker, first);
  send_batch(front, old_worker, second);
  t.run();

  CHECK(box->done.empty());                  // nothing answered: the batch is half done
  CHECK(test::ended(*box, old_worker)); // retired, its backlog dropped
  CHECK(slot->holder.load() == 0);           // the partition is free for the successor
  REQUIRE(slot->partial.count(first->id) == 1);
  CHECK(slot->partial[first->id].replies.size() == 2); // INCR n → 1, INCR n → 2

  // Another front end's batch reaches the fresh worker first: it runs, and the half-done
  // batch keeps its progress.
  auto fresh = t.own(t.sys().spawn(partition_worker, slot, 0u, uint64_t{2}, op_log{}));
  auto other = test::make_batch(0, {{"INCR", "n"}});
  send_batch(front, fresh, other);
  // The front end resends its unanswered batches, in order, to the fresh worker.
  send_batch(front, fresh, first);
  send_batch(front, fresh, second);
  t.run();

  REQUIRE(box->done.size() == 3);
  CHECK(numbers(box->done[0]) == std::vector<int64_t>{3});
  CHECK(box->done[1].id == first->id);
  CHECK(numbers(box->done[1]) == std::vector<int64_t>{1, 2, 4, 2}); // APPEND: new length
  CHECK(box->done[2].id == second->id);
  CHECK(numbers(box->done[2]) == std::vector<int64_t>{5});
  CHECK(slot->partial.empty());
  box->done.erase(box->done.begin()); // the other front end's

  // A copy of a completed batch (resent again) is skipped: no reply, no second INCR.
  send_batch(front, fresh, first);
  auto get = test::make_batch(0, {{"GET", "n"}, {"GET", "s"}});
  send_batch(front, fresh, get);
  t.run();
  REQUIRE(box->done.size() == 3);
  CHECK(box->done[2].id == get->id);
  CHECK(box->done[2].items[0].result.text == "5");
  CHECK(box->done[2].items[1].result.text == "ab");
}

TEST_CASE("a fresh worker waits while its predecessor still holds the partition",
          "[actors][worker]") {
  test::test_system t;
  auto [front, box] = t.spawn_recorder();
  auto slot = make_slot();
  slot->epoch.store(2);
  REQUIRE(slot->claim(1)); // worker 1 hangs inside a batch
  auto fresh = t.own(t.sys().spawn(partition_worker, slot, 0u, uint64_t{2}, op_log{}));
  send_batch(front, fresh, test::make_batch(0, {{"INCR", "n"}}));
  t.run();
  t.advance(10ms); // it tries again every 2 ms
  CHECK(box->done.empty());

  slot->release(1); // worker 1 wakes up, sees it was replaced and lets go
  t.advance(2ms);
  REQUIRE(box->done.size() == 1);
  CHECK(numbers(box->done[0]) == std::vector<int64_t>{1});
}

TEST_CASE("a replaced worker with nothing to do retires at its next sweep tick",
          "[actors][worker]") {
  test::test_system t;
  auto [front, box] = t.spawn_recorder();
  auto slot = make_slot();
  auto worker = t.own(t.sys().spawn(partition_worker, slot, 0u, uint64_t{1}, op_log{}));
  t.watch(front, worker);
  t.advance(100ms);
  CHECK_FALSE(test::ended(*box, worker));
  slot->epoch.store(2);
  t.advance(100ms);
  CHECK(test::ended(*box, worker));
  CHECK(slot->holder.load() == 0);
}

TEST_CASE("appendfsync always: a batch's replies reach the front end through the logger, "
          "after its fsync",
          "[actors][worker][logger]") {
  char tmpl[] = "/tmp/otkv-actors-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  {
    test::test_system t;
    auto [front, box] = t.spawn_recorder();
    auto health = std::make_shared<std::atomic<int>>(0);
    auto file = std::make_shared<store::log_file>(dir, 1, 1, health);
    auto log = t.own(t.sys().spawn(logger, file, fsync_policy::always));
    auto slot = make_slot();
    auto worker = t.own(t.sys().spawn(partition_worker, slot, 0u, uint64_t{1}, op_log{file, log}));
    t.run();

    send_batch(front, worker, test::make_batch(0, {{"SET", "k", "v"}}));
    t.sched.run_once(); // the worker: writes the record, hands the replies to the logger
    CHECK(box->done.empty());
    CHECK(t.sched.has_job()); // the logger's log_append_ack
    t.sched.run_once();       // the logger: queues them and schedules this turn's fsync
    CHECK(t.state_of<logger_state, logger_actor::base>(log).waiting.size() == 1);
    CHECK(box->done.empty());
    t.run();                  // fsync, then the replies go to the front end
    REQUIRE(box->done.size() == 1);
    CHECK(box->done[0].items[0].result.text == "OK");
    CHECK(t.state_of<logger_state, logger_actor::base>(log).waiting.empty());
  }
  std::string rm = "rm -rf " + dir;
  CHECK(std::system(rm.c_str()) == 0);
}

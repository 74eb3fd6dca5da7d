// Blocking commands in the partition worker (actors/blocked_requests.hpp), on CAF's
// deterministic scheduler: a request that finds nothing is parked, not answered; a later
// write serves the parked requests oldest first, each answered on its own; a timeout
// answers a null array; a withdrawn request takes nothing.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "actors/partition_worker.hpp"
#include "tests/unit/actors/test_system.hpp"

using namespace otkv;
using namespace std::chrono_literals;

namespace {

slot_ptr make_slot() {
  auto slot = std::make_shared<partition_slot>(store::partition{}, 0, 0);
  slot->epoch.store(1);
  return slot;
}

/// `batch` with its requests' connections renumbered 1, 2, … (one client each).
std::shared_ptr<work_batch> one_client_each(std::shared_ptr<work_batch> batch) {
  for (size_t i = 0; i < batch->items.size(); ++i)
    batch->items[i].conn = i + 1;
  return batch;
}

/// The texts of an array reply (one level).
std::vector<std::string> texts(const net::reply& r) {
  std::vector<std::string> out;
  for (const auto& item : r.items)
    out.push_back(item.text);
  return out;
}

} // namespace

TEST_CASE("parked requests are served by a later write, oldest first, each on its own",
          "[actors][blocking]") {
  test::test_system t;
  auto [front, box] = t.spawn_recorder();
  auto slot = make_slot();
  auto worker = t.own(t.sys().spawn(partition_worker, slot, 0u, uint64_t{1}, op_log{}));
  auto waits = one_client_each(test::make_batch(0, {{"BLPOP", "q", "0"}, {"BRPOP", "q", "r", "0"}}));
  caf::send_as(front, worker, batch_ref{waits});
  t.run();
  REQUIRE(box->done.size() == 1);
  CHECK(box->done[0].items[0].blocked);
  CHECK(box->done[0].items[1].blocked);
  CHECK(slot->waiting.load() == 2);

  caf::send_as(front, worker, batch_ref{test::make_batch(0, {{"RPUSH", "q", "a", "b", "c"}})});
  t.run();
  REQUIRE(box->done.size() == 4); // the push, then one answer per parked request
  CHECK(box->done[1].items[0].result.number == 3);
  REQUIRE(box->done[2].items.size() == 1);
  CHECK(box->done[2].id == 0);
  CHECK(box->done[2].items[0].conn == 1); // the oldest first
  CHECK(texts(box->done[2].items[0].result) == std::vector<std::string>{"q", "a"});
  CHECK(box->done[3].items[0].conn == 2);
  CHECK(texts(box->done[3].items[0].result) == std::vector<std::string>{"q", "c"});
  CHECK(slot->waiting.load() == 0);
  CHECK(slot->data.find("q", 0) != nullptr); // "b" is left
}

TEST_CASE("a parked request is answered a null array at its timeout; a withdrawn one takes "
          "nothing",
          "[actors][blocking]") {
  test::test_system t;
  auto [front, box] = t.spawn_recorder();
  auto slot = make_slot();
  auto worker = t.own(t.sys().spawn(partition_worker, slot, 0u, uint64_t{1}, op_log{}));
  auto waits = one_client_each(test::make_batch(0, {{"BZPOPMIN", "z", "0.01"}, {"BLPOP", "l", "0"}}));
  caf::send_as(front, worker, batch_ref{waits});
  t.run();
  REQUIRE(box->done.size() == 1);
  CHECK(slot->waiting.load() == 2);

  std::this_thread::sleep_for(15ms); // the deadline is on the monotonic clock
  t.advance(20ms);
  REQUIRE(box->done.size() == 2);
  CHECK(box->done[1].items[0].conn == 1);
  CHECK(box->done[1].items[0].result.type == net::reply::kind::null_array);
  CHECK(slot->waiting.load() == 1);

  // Connection 2 closes: its BLPOP is withdrawn, and a push stays in the list.
  slot->post_withdrawal(caf::actor_cast<batch_sink>(front), 2, 1);
  caf::send_as(front, worker, wake_atom::value);
  caf::send_as(front, worker, batch_ref{test::make_batch(0, {{"RPUSH", "l", "x"}, {"LLEN", "l"}})});
  t.run();
  REQUIRE(box->done.size() == 3);
  CHECK(box->done[2].items[1].result.number == 1);
  CHECK(slot->waiting.load() == 0);
}

TEST_CASE("a BLMOVE served by a push serves the request waiting on its destination; a key "
          "of another type keeps a request waiting",
          "[actors][blocking]") {
  test::test_system t;
  auto [front, box] = t.spawn_recorder();
  auto slot = make_slot();
  auto worker = t.own(t.sys().spawn(partition_worker, slot, 0u, uint64_t{1}, op_log{}));
  auto waits = one_client_each(test::make_batch(
    0, {{"BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"}, {"BLPOP", "dst", "0"}, {"BLPOP", "s", "0"}}));
  caf::send_as(front, worker, batch_ref{waits});
  t.run();
  caf::send_as(front, worker,
               batch_ref{test::make_batch(0, {{"SET", "s", "string"}, {"RPUSH", "src", "v"}})});
  t.run();
  REQUIRE(box->done.size() == 4);
  CHECK(box->done[2].items[0].conn == 1);
  CHECK(box->done[2].items[0].result.text == "v");
  CHECK(box->done[3].items[0].conn == 2);
  CHECK(texts(box->done[3].items[0].result) == std::vector<std::string>{"dst", "v"});
  CHECK(slot->waiting.load() == 1); // the BLPOP on the string key still waits
}

TEST_CASE("a waiter of another type is passed over; a write's waiters are served before the "
          "batch's next request",
          "[actors][blocking]") {
  test::test_system t;
  auto [front, box] = t.spawn_recorder();
  auto slot = make_slot();
  auto worker = t.own(t.sys().spawn(partition_worker, slot, 0u, uint64_t{1}, op_log{}));
  auto waits = one_client_each(test::make_batch(
    0, {{"BLPOP", "k", "0"}, {"BZPOPMIN", "k", "0"}, {"BLPOP", "l", "0"}}));
  caf::send_as(front, worker, batch_ref{waits});
  t.run();
  // The sorted set serves the BZPOPMIN behind the BLPOP; the push serves the BLPOP on l
  // before the LPOP that follows it in the same batch, as Redis serves blocked clients
  // after each command.
  caf::send_as(front, worker, batch_ref{test::make_batch(
    0, {{"ZADD", "k", "1", "a"}, {"RPUSH", "l", "v"}, {"LPOP", "l"}})});
  t.run();
  REQUIRE(box->done.size() == 4);
  CHECK(box->done[1].items[2].result.type == net::reply::kind::null); // LPOP: taken already
  CHECK(box->done[2].items[0].conn == 2);
  CHECK(texts(box->done[2].items[0].result) == std::vector<std::string>{"k", "a", "1"});
  CHECK(box->done[3].items[0].conn == 3);
  CHECK(texts(box->done[3].items[0].result) == std::vector<std::string>{"l", "v"});
  CHECK(slot->waiting.load() == 1); // the BLPOP on the sorted-set key
}

TEST_CASE("after a change made elsewhere, keys are offered oldest waiter first, in its order",
          "[actors][blocking]") {
  blocked_requests b;
  auto item = [](net::arg_list args) {
    std::string name = args[0];
    return work_item{1, 0, 0, false, &test::command(name), std::move(args)};
  };
  b.park(item({"blmpop", "0", "2", "b", "a", "LEFT"}), {}, 0);
  b.park(item({"blpop", "c", "a", "0"}), {}, 0);
  CHECK(b.keys() == std::vector<std::string>{"b", "a", "c"});
}

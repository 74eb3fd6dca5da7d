// The embedding API keeps the supervision contract of the TCP path: a request whose
// worker crashed, dropped it or hangs is resent to a fresh worker, and after the last
// attempt it is answered with -TIMEOUT, never left hanging.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include <algorithm>
#include <cstdlib>
#include <stdlib.h>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <otkv/otkv.hpp>

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

/// A memory-only embedded store with DEBUG faults on and short request timeouts.
struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  otkv::store_actor store;

  fixture() {
    otkv::store_config c;
    c.partitions = 4;
    c.request_timeout_ms = 150;
    c.request_attempts = 2;
    c.enable_debug_command = true;
    store = otkv::spawn_store(sys, c);
  }

  ~fixture() {
    self->send_exit(store, caf::exit_reason::user_shutdown);
    self->wait_for(store);
  }

  /// Runs a command; a reply that does not come within 10 s fails the test.
  otkv::net::reply run(std::vector<std::string> args) {
    otkv::net::reply out = otkv::net::reply::error("no reply");
    self->request(store, std::chrono::seconds(10), otkv::execute_atom_v, std::move(args))
      .receive([&](otkv::net::reply& r) { out = std::move(r); },
               [&](caf::error& e) { out = otkv::net::reply::error("CAF " + to_string(e)); });
    return out;
  }

  /// The partition of `key`.
  std::string partition_of(const std::string& key) {
    return std::to_string(run({"DEBUG", "PARTITION-OF", key}).number);
  }
};

} // namespace

TEST_CASE("Embedded: a crashed worker is replaced and keeps the partition's data",
          "[embedding][supervision]") {
  fixture f;
  for (int i = 0; i < 50; ++i)
    REQUIRE(f.run({"SET", "k" + std::to_string(i), std::to_string(i)}).text == "OK");
  auto p = f.partition_of("k7");
  REQUIRE(f.run({"DEBUG", "CRASH-PARTITION", p}).text == "OK");
  for (int i = 0; i < 50; ++i) // every acknowledged write is still there
    CHECK(f.run({"GET", "k" + std::to_string(i)}).text == std::to_string(i));
  CHECK(f.run({"INCR", "k7"}).number == 8);
}

TEST_CASE("Embedded: a dropped request is resent to a fresh worker and applied once",
          "[embedding][supervision]") {
  fixture f;
  auto p = f.partition_of("counter");
  REQUIRE(f.run({"DEBUG", "DROP-PARTITION", p, "1"}).text == "OK");
  auto r = f.run({"INCR", "counter"}); // lost by the worker: resent after 150 ms
  CHECK(r.type == otkv::net::reply::kind::integer);
  CHECK(r.number == 1);
  CHECK(f.run({"GET", "counter"}).text == "1");
}

TEST_CASE("Embedded: a hung partition answers -TIMEOUT after the last attempt",
          "[embedding][supervision]") {
  fixture f;
  auto p = f.partition_of("slow");
  REQUIRE(f.run({"SET", "slow", "v"}).text == "OK");
  REQUIRE(f.run({"DEBUG", "SLEEP-PARTITION", p, "3000"}).text == "OK");
  auto started = steady_clock::now();
  auto r = f.run({"GET", "slow"});
  auto waited = steady_clock::now() - started;
  CHECK(r.is_error());
  CHECK(r.text == "TIMEOUT request to partition " + p + " timed out after 2 attempts");
  CHECK(waited < std::chrono::seconds(3)); // answered before the worker wakes up
  // Other partitions are served meanwhile.
  for (int i = 0; i < 20; ++i) {
    auto key = "other" + std::to_string(i);
    if (f.partition_of(key) != p)
      CHECK(f.run({"SET", key, "x"}).text == "OK");
  }
  // Once the partition is served again, the data is intact.
  std::this_thread::sleep_for(milliseconds(3200));
  CHECK(f.run({"GET", "slow"}).text == "v");
}

TEST_CASE("Embedded: every acknowledged write survives a stop by exit message",
          "[embedding][durability]") {
  char tmpl[] = "/tmp/otkv-embedded-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  otkv::store_config c;
  c.partitions = 4;
  c.dir = dir;
  c.appendfsync = "everysec";
  c.save_interval = 0;
  auto run = [&](const otkv::store_actor& store, std::vector<std::string> args) {
    otkv::net::reply out = otkv::net::reply::error("no reply");
    self->request(store, std::chrono::seconds(10), otkv::execute_atom_v, std::move(args))
      .receive([&](otkv::net::reply& r) { out = std::move(r); }, [&](caf::error&) {});
    return out;
  };
  auto store = otkv::spawn_store(sys, c);
  for (int i = 0; i < 2000; ++i)
    REQUIRE(run(store, {"SET", "key:" + std::to_string(i), std::to_string(i)}).text == "OK");
  // Pipelined: many requests in flight when the exit message arrives; every one that was
  // answered OK must be recovered.
  for (int i = 0; i < 500; ++i)
    self->send(store, otkv::execute_atom_v, std::vector<std::string>{"INCR", "counter"});
  self->send_exit(store, caf::exit_reason::user_shutdown);
  self->wait_for(store);
  int64_t acknowledged = 0; // the highest counter value a reply reported
  bool more = true;
  self->receive_while([&] { return more; })(
    [&](otkv::net::reply& r) { acknowledged = std::max(acknowledged, r.number); },
    [&](caf::error&) {}, // requests the stop left unanswered
    caf::after(std::chrono::milliseconds(200)) >> [&] { more = false; });

  auto again = otkv::spawn_store(sys, c);
  for (int i = 0; i < 2000; i += 97)
    CHECK(run(again, {"GET", "key:" + std::to_string(i)}).text == std::to_string(i));
  CHECK(run(again, {"DBSIZE"}).number >= 2000);
  auto counter = run(again, {"GET", "counter"});
  CHECK(std::stoll(counter.text.empty() ? "0" : counter.text) >= acknowledged);
  self->send_exit(again, caf::exit_reason::user_shutdown);
  self->wait_for(again);
  std::system(("rm -rf " + dir).c_str());
}

// MULTI / EXEC / DISCARD through the front-end core (docs/transactions.md): queueing,
// Redis's error rules, the reserved partitions, and the cluster's one-slot rule.

#include <catch2/catch.hpp>

#include <algorithm>

#include "cluster/cluster_config.hpp"
#include "harness.hpp"
#include "store/key_hash.hpp"

using namespace otkv;
using namespace otkv::test;

namespace {

const std::string queued = "+QUEUED\r\n";

/// A key of partition `p` of 4.
std::string key_in(uint32_t p, const std::string& prefix = "k") {
  for (int i = 0;; ++i) {
    auto key = prefix + std::to_string(i);
    if (store::key_hash(key) % 4 == p)
      return key;
  }
}

} // namespace

TEST_CASE("MULTI queues, EXEC runs the queue in order and answers every reply",
          "[transactions]") {
  harness h(4);
  auto a = key_in(0), b = key_in(3);
  CHECK(h.run({"SET", a, "10"}) == ok);
  CHECK(h.run({"MULTI"}) == ok);
  CHECK(h.run({"DECRBY", a, "3"}) == queued);
  CHECK(h.run({"INCRBY", b, "3"}) == queued);
  CHECK(h.run({"MGET", a, b}) == queued);
  CHECK(h.run({"PING"}) == queued); // connection commands are queued too
  CHECK(h.run({"GET", b}) == queued);
  CHECK(h.run({"GET", a}) == queued);
  CHECK(h.run({"EXEC"})
        == "*6\r\n:7\r\n:3\r\n*2\r\n$1\r\n7\r\n$1\r\n3\r\n+PONG\r\n$1\r\n3\r\n$1\r\n7\r\n");
  // Its partitions were reserved once, ascending.
  REQUIRE(h.reservations.size() == 1);
  CHECK(h.reservations[0] == std::vector<uint32_t>{0, 3});
  CHECK(h.run({"GET", a}) == bulk("7"));
  // An empty transaction: an empty array, nothing reserved.
  CHECK(h.run({"MULTI"}) == ok);
  CHECK(h.run({"EXEC"}) == "*0\r\n");
  CHECK(h.reservations.size() == 1);
}

TEST_CASE("a refused command aborts the transaction; a runtime error does not",
          "[transactions]") {
  harness h(4);
  CHECK(h.run({"SET", "s", "text"}) == ok);
  // Queue-time errors: unknown command, wrong arity. EXEC then runs nothing.
  CHECK(h.run({"MULTI"}) == ok);
  CHECK(h.run({"SET", "x", "1"}) == queued);
  CHECK(h.run({"NOSUCH", "x"}).rfind("-ERR unknown command 'NOSUCH'", 0) == 0);
  CHECK(h.run({"GET"}) == "-ERR wrong number of arguments for 'get' command\r\n");
  CHECK(h.run({"EXEC"}) == "-EXECABORT Transaction discarded because of previous errors.\r\n");
  CHECK(h.run({"GET", "x"}) == nil);
  CHECK(h.reservations.empty());
  // A command that fails when it runs answers its error in its place; the rest run.
  CHECK(h.run({"MULTI"}) == ok);
  CHECK(h.run({"INCR", "s"}) == queued);
  CHECK(h.run({"SET", "x", "2"}) == queued);
  CHECK(h.run({"EXEC"}) == "*2\r\n-ERR value is not an integer or out of range\r\n+OK\r\n");
  CHECK(h.run({"GET", "x"}) == bulk("2"));
}

TEST_CASE("MULTI, EXEC and DISCARD out of place", "[transactions]") {
  harness h(4);
  CHECK(h.run({"EXEC"}) == "-ERR EXEC without MULTI\r\n");
  CHECK(h.run({"DISCARD"}) == "-ERR DISCARD without MULTI\r\n");
  CHECK(h.run({"MULTI"}) == ok);
  CHECK(h.run({"MULTI"}) == "-ERR MULTI calls can not be nested\r\n");
  CHECK(h.run({"SET", "k", "1"}) == queued);
  CHECK(h.run({"DISCARD"}) == ok); // a nested MULTI does not abort; DISCARD drops all
  CHECK(h.run({"GET", "k"}) == nil);
  CHECK(h.run({"EXEC"}) == "-ERR EXEC without MULTI\r\n");
  // Effects cannot happen inside EXEC: the command says so in its place.
  CHECK(h.run({"MULTI"}) == ok);
  CHECK(h.run({"CONFIG", "SET", "request-timeout-ms", "700"}) == queued);
  CHECK(h.run({"SET", "k", "2"}) == queued);
  auto r = h.run({"EXEC"});
  CHECK(r.rfind("*2\r\n-ERR config inside a transaction does not apply", 0) == 0);
  CHECK(h.run({"GET", "k"}) == bulk("2"));
}

TEST_CASE("a transaction's queue is bounded: past it, refused and EXEC aborts",
          "[transactions]") {
  harness h(4);
  h.settings().multi_queue_bytes = 200;
  CHECK(h.run({"MULTI"}) == ok);
  int queued_ok = 0;
  std::string refused;
  for (int i = 0; i < 20 && refused.empty(); ++i) {
    auto r = h.run({"SET", "key" + std::to_string(i), std::string(20, 'v')});
    if (r == queued)
      ++queued_ok;
    else
      refused = r;
  }
  CHECK(queued_ok == 2); // 2 × (3 + 4 + 20 bytes + 3 × 16 = 75) fit in 200, a 3rd does not
  CHECK(refused.rfind("-ERR the transaction's queue is full (200 bytes", 0) == 0);
  CHECK(h.run({"EXEC"}).rfind("-EXECABORT", 0) == 0);
  CHECK(h.run({"GET", "key0"}) == nil);
  // The bound is per transaction: the next one starts empty.
  CHECK(h.run({"MULTI"}) == ok);
  CHECK(h.run({"SET", "a", "1"}) == queued);
  CHECK(h.run({"EXEC"}) == "*1\r\n+OK\r\n");
}

TEST_CASE("commands over every partition reserve every partition", "[transactions]") {
  harness h(4);
  for (uint32_t p = 0; p < 4; ++p)
    CHECK(h.run({"SET", key_in(p), "1"}) == ok);
  CHECK(h.run({"MULTI"}) == ok);
  CHECK(h.run({"DBSIZE"}) == queued);
  CHECK(h.run({"FLUSHALL"}) == queued);
  CHECK(h.run({"DBSIZE"}) == queued);
  CHECK(h.run({"EXEC"}) == "*3\r\n:4\r\n+OK\r\n:0\r\n");
  REQUIRE(h.reservations.size() == 1);
  CHECK(h.reservations[0] == std::vector<uint32_t>{0, 1, 2, 3});
}

TEST_CASE("a partition that stays busy: EXEC answers an error and runs nothing",
          "[transactions]") {
  harness h(4);
  h.busy = true;
  CHECK(h.run({"MULTI"}) == ok);
  CHECK(h.run({"SET", "k", "1"}) == queued);
  auto r = h.run({"EXEC"});
  CHECK(r.rfind("-TIMEOUT EXEC could not reserve its partitions", 0) == 0);
  CHECK(r.find("nothing ran") != std::string::npos);
  h.busy = false;
  CHECK(h.run({"GET", "k"}) == nil);
  CHECK(h.run({"EXEC"}) == "-ERR EXEC without MULTI\r\n"); // the transaction is over
}

TEST_CASE("in a cluster a transaction's keys share one slot of this node", "[transactions]") {
  cluster::cluster_config cfg;
  REQUIRE(cluster::even_cluster("h:1,h:2,h:3", 4, 10000, cfg) == "");
  auto v = std::make_shared<cluster::view>(cfg, 0, false);
  cmd::key_router r(4);
  r.nodes = v->nodes();
  r.slot_ordinal = v->slot_ordinals();
  harness h(r, v);
  for (uint32_t n = 0; n < v->nodes(); ++n)
    v->set_up(n, true);
  auto mine = [&](int from) {
    for (int i = from;; ++i)
      if (v->owner(cluster::key_slot("k" + std::to_string(i))) == 0)
        return "k" + std::to_string(i);
  };
  std::string tag; // a hash tag of this node's
  for (int i = 0; tag.empty(); ++i)
    if (v->owner(cluster::key_slot("{u" + std::to_string(i) + "}")) == 0)
      tag = "{u" + std::to_string(i) + "}";
  std::string a = tag + ":a", b = tag + ":b";
  CHECK(h.run({"MULTI"}) == ok);
  CHECK(h.run({"SET", a, "1"}) == queued);
  CHECK(h.run({"INCR", b}) == queued);
  CHECK(h.run({"EXEC"}) == "*2\r\n+OK\r\n:1\r\n");
  // Another slot: CROSSSLOT, and EXEC aborts.
  auto k = mine(0);
  CHECK(h.run({"MULTI"}) == ok);
  CHECK(h.run({"SET", a, "2"}) == queued);
  CHECK(h.run({"SET", k, "2"}).rfind("-CROSSSLOT", 0) == 0);
  CHECK(h.run({"EXEC"}).rfind("-EXECABORT", 0) == 0);
  // Another node's key: -MOVED to it, and EXEC aborts.
  std::string other;
  for (int i = 0; other.empty(); ++i)
    if (v->owner(cluster::key_slot("k" + std::to_string(i))) == 1)
      other = "k" + std::to_string(i);
  CHECK(h.run({"MULTI"}) == ok);
  CHECK(h.run({"GET", other}).rfind("-MOVED", 0) == 0);
  CHECK(h.run({"EXEC"}).rfind("-EXECABORT", 0) == 0);
  // Commands over every node are refused inside MULTI.
  CHECK(h.run({"MULTI"}) == ok);
  CHECK(h.run({"DBSIZE"}).find("not supported in a cluster") != std::string::npos);
  CHECK(h.run({"DISCARD"}) == ok);
}

TEST_CASE("WATCH: EXEC runs only if no watched key changed since", "[transactions][watch]") {
  harness h(4);
  auto a = key_in(1), b = key_in(2);
  CHECK(h.run({"SET", a, "1"}) == ok);
  SECTION("unchanged: EXEC runs") {
    CHECK(h.run({"WATCH", a, b}) == ok);
    CHECK(h.run({"MULTI"}) == ok);
    CHECK(h.run({"INCR", a}) == queued);
    CHECK(h.run({"EXEC"}) == "*1\r\n:2\r\n");
    // Its partitions were reserved for WATCH, then for EXEC (the watched ones too).
    REQUIRE(h.reservations.size() == 2);
    CHECK(h.reservations[1] == std::vector<uint32_t>{1, 2});
  }
  SECTION("changed by a write, even to the same value: nil, nothing runs") {
    CHECK(h.run({"WATCH", a}) == ok);
    CHECK(h.run({"SET", a, "1"}) == ok); // (another client, as far as the key knows)
    CHECK(h.run({"MULTI"}) == ok);
    CHECK(h.run({"SET", b, "x"}) == queued);
    CHECK(h.run({"EXEC"}) == "*-1\r\n");
    CHECK(h.run({"GET", b}) == nil);
  }
  SECTION("a key watched while absent, then created") {
    CHECK(h.run({"WATCH", b}) == ok);
    CHECK(h.run({"SET", b, "new"}) == ok);
    CHECK(h.run({"MULTI"}) == ok);
    CHECK(h.run({"EXEC"}) == "*-1\r\n");
  }
  SECTION("changed by EXPIRE, by DEL, by FLUSHALL") {
    for (auto change : std::vector<std::vector<std::string>>{
           {"EXPIRE", a, "100"}, {"DEL", a}, {"FLUSHALL"}}) {
      CHECK(h.run({"SET", a, "1"}) == ok);
      CHECK(h.run({"WATCH", a}) == ok);
      h.run(change);
      CHECK(h.run({"MULTI"}) == ok);
      CHECK(h.run({"EXEC"}) == "*-1\r\n");
    }
  }
  SECTION("changed by HSET, SADD, ZADD, LPUSH, whose records nobody keeps here") {
    // The harness's journals keep no records (no op log): these commands then skip
    // encoding their change, and must still touch the key.
    for (auto change : std::vector<std::vector<std::string>>{
           {"HSET", b, "f", "v"}, {"SADD", b, "m"}, {"ZADD", b, "1", "m"}, {"LPUSH", b, "i"}}) {
      CHECK(h.run({"DEL", b}) != nil);
      CHECK(h.run({"WATCH", b}) == ok);
      h.run(change);
      CHECK(h.run({"MULTI"}) == ok);
      CHECK(h.run({"EXEC"}) == "*-1\r\n");
    }
  }
  SECTION("a watched key that expires meanwhile counts as changed") {
    CHECK(h.run({"PEXPIRE", a, "50"}) == integer(1));
    CHECK(h.run({"WATCH", a}) == ok);
    h.now += 100; // nobody reads it: it is not erased, but its deadline passed
    CHECK(h.run({"MULTI"}) == ok);
    CHECK(h.run({"EXEC"}) == "*-1\r\n");
  }
  SECTION("a change of another key does not count") {
    CHECK(h.run({"WATCH", a}) == ok);
    CHECK(h.run({"SET", b, "other"}) == ok);
    CHECK(h.run({"MULTI"}) == ok);
    CHECK(h.run({"EXEC"}) == "*0\r\n");
  }
  SECTION("EXEC, DISCARD and UNWATCH end the WATCH") {
    CHECK(h.run({"WATCH", a}) == ok);
    CHECK(h.run({"UNWATCH"}) == ok);
    CHECK(h.run({"SET", a, "2"}) == ok);
    CHECK(h.run({"MULTI"}) == ok);
    CHECK(h.run({"EXEC"}) == "*0\r\n");
    CHECK(h.run({"WATCH", a}) == ok);
    CHECK(h.run({"MULTI"}) == ok);
    CHECK(h.run({"DISCARD"}) == ok);
    CHECK(h.run({"SET", a, "3"}) == ok);
    CHECK(h.run({"MULTI"}) == ok);
    CHECK(h.run({"EXEC"}) == "*0\r\n");
    CHECK(h.run({"WATCH", a}) == ok);
    CHECK(h.run({"SET", a, "4"}) == ok);
    CHECK(h.run({"MULTI"}) == ok);
    CHECK(h.run({"EXEC"}) == "*-1\r\n");
    CHECK(h.run({"MULTI"}) == ok); // a failed EXEC ended it too
    CHECK(h.run({"EXEC"}) == "*0\r\n");
  }
  SECTION("WATCH inside MULTI is refused and does not abort") {
    CHECK(h.run({"MULTI"}) == ok);
    CHECK(h.run({"WATCH", a}) == "-ERR WATCH inside MULTI is not allowed\r\n");
    CHECK(h.run({"GET", a}) == queued);
    CHECK(h.run({"EXEC"}) == "*1\r\n$1\r\n1\r\n");
  }
}

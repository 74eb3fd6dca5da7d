// The request path of a cluster node, in process: keys routed to their slot's node (other
// nodes' partitions are plain partitions here), multi-key commands split and merged across
// nodes, -MOVED and -CROSSSLOT in redirect mode, -CLUSTERDOWN for a node that is down, and
// the CLUSTER commands' formats.

#include <catch2/catch.hpp>

#include <set>

#include "cluster/cluster_config.hpp"
#include "cluster/slots.hpp"
#include "harness.hpp"

using namespace otkv;
using namespace otkv::test;

namespace {

constexpr uint32_t partitions = 2;

/// Three nodes on ports 7001-7003, slots split as redis-cli --cluster create splits them.
cluster::cluster_config three_nodes() {
  cluster::cluster_config cfg;
  REQUIRE(cluster::even_cluster("127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003", partitions,
                                10000, cfg)
          == "");
  return cfg;
}

/// The view of node `self`; `redirect`: -MOVED instead of forwarding.
std::shared_ptr<cluster::view> view_of(uint32_t self, bool redirect) {
  return std::make_shared<cluster::view>(three_nodes(), self, redirect);
}

/// A harness as node `self` of a forwarding cluster: every node's partitions are its
/// targets (this node's first).
harness forwarding_node(const std::shared_ptr<cluster::view>& v) {
  cmd::key_router r(partitions);
  r.nodes = v->nodes();
  r.slot_ordinal = v->slot_ordinals();
  return harness(r, v);
}

/// The node (index) of `key`.
uint32_t node_of(const cluster::view& v, const std::string& key) {
  return v.owner(cluster::key_slot(key));
}

/// A key of node `n`, "k<i>" for the first i that fits.
std::string key_on(const cluster::view& v, uint32_t n, int from = 0) {
  for (int i = from;; ++i)
    if (node_of(v, "k" + std::to_string(i)) == n)
      return "k" + std::to_string(i);
}

} // namespace

TEST_CASE("a forwarding node keeps each key on its slot's node", "[cluster]") {
  auto v = view_of(0, false);
  auto h = forwarding_node(v);
  for (int i = 0; i < 60; ++i)
    REQUIRE(h.run({"SET", "k" + std::to_string(i), std::to_string(i)}) == ok);
  // Each target's partition holds only keys whose slot its node serves.
  size_t total = 0;
  for (uint32_t t = 0; t < h.parts_.size(); ++t) {
    uint32_t node = v->node_of_ordinal(t / partitions);
    h.parts_[t].for_each(h.now, [&](const store::entry& e) {
      CHECK(node_of(*v, std::string(e.key())) == node);
      ++total;
    });
  }
  CHECK(total == 60);
  CHECK(h.run({"GET", "k7"}) == bulk("7"));
}

TEST_CASE("multi-key commands split and merge across nodes", "[cluster]") {
  auto v = view_of(1, false);
  auto h = forwarding_node(v);
  auto a = key_on(*v, 0), b = key_on(*v, 1), c = key_on(*v, 2);
  REQUIRE(h.run({"MSET", a, "1", b, "2", c, "3"}) == ok);
  CHECK(h.run({"MGET", c, "nope", a, b}) == "*4\r\n" + bulk("3") + nil + bulk("1") + bulk("2"));
  CHECK(h.run({"EXISTS", a, b, c, "nope"}) == integer(3));
  CHECK(h.run({"DBSIZE"}) == integer(3));
  // KEYS and a whole SCAN see every node's keys.
  auto keys = h.run({"KEYS", "*"});
  for (const auto& k : {a, b, c})
    CHECK(keys.find(bulk(k)) != std::string::npos);
  std::set<std::string> scanned;
  std::string cursor = "0";
  int calls = 0;
  do {
    auto r = h.run({"SCAN", cursor, "COUNT", "1000"});
    REQUIRE(r.rfind("*2\r\n$", 0) == 0);
    auto len_end = r.find("\r\n", 4);
    auto len = std::stoul(r.substr(5, len_end - 5));
    cursor = r.substr(len_end + 2, len);
    for (const auto& k : {a, b, c})
      if (r.find(bulk(k)) != std::string::npos)
        scanned.insert(k);
    ++calls;
  } while (cursor != "0" && calls < 100);
  CHECK(cursor == "0");
  CHECK(scanned.size() == 3);
  // Each SCAN call asks the one partition its cursor names, on whichever node.
  CHECK(calls >= static_cast<int>(h.parts_.size()));
  h.sent.clear();
  h.run({"SCAN", "0"});
  CHECK(h.sent == std::map<uint32_t, size_t>{{0u, 1u}});
  h.sent.clear();
  h.run({"SCAN", std::to_string(uint64_t{5} << 40)});
  CHECK(h.sent == std::map<uint32_t, size_t>{{5u, 1u}});
  CHECK(h.run({"SCAN", std::to_string(uint64_t{6} << 40)}) == "-ERR invalid cursor\r\n");
  CHECK(h.run({"DEL", a, b, c}) == integer(3));
  CHECK(h.run({"DBSIZE"}) == integer(0));
  // FLUSHALL empties every node.
  REQUIRE(h.run({"MSET", a, "1", c, "3"}) == ok);
  CHECK(h.run({"FLUSHALL"}) == ok);
  CHECK(h.run({"DBSIZE"}) == integer(0));
}

TEST_CASE("atomic multi-key commands need one slot in a cluster", "[cluster]") {
  auto v = view_of(0, false);
  auto h = forwarding_node(v);
  auto crossslot = "-CROSSSLOT Keys in request don't hash to the same slot\r\n";
  CHECK(h.run({"MSETNX", "a", "1", "b", "2"}) == crossslot);
  CHECK(h.run({"SET", "{u}a", "1"}) == ok);
  CHECK(h.run({"RENAME", "{u}a", "{u}b"}) == ok);
  CHECK(h.run({"RENAME", "{u}b", "c"}) == crossslot);
  CHECK(h.run({"COPY", "{u}b", "{u}c"}) == integer(1));
}

TEST_CASE("INFO and COUNTKEYSINSLOT read this node's partitions only", "[cluster]") {
  auto v = view_of(0, false);
  auto h = forwarding_node(v);
  auto mine = key_on(*v, 0), other = key_on(*v, 2);
  REQUIRE(h.run({"MSET", mine, "1", other, "2"}) == ok);
  h.sent.clear();
  auto info = h.run({"INFO", "keyspace"});
  CHECK(info.find("db0:keys=1,") != std::string::npos);
  for (const auto& [target, n] : h.sent)
    CHECK(target < partitions); // no other node was asked
  auto slot = std::to_string(cluster::key_slot(mine));
  CHECK(h.run({"CLUSTER", "COUNTKEYSINSLOT", slot}) == integer(1));
  CHECK(h.run({"CLUSTER", "GETKEYSINSLOT", slot, "10"}) == "*1\r\n" + bulk(mine));
  CHECK(h.run({"CLUSTER", "GETKEYSINSLOT", slot, "0"}) == "*0\r\n");
  auto other_slot = std::to_string(cluster::key_slot(other));
  CHECK(h.run({"CLUSTER", "COUNTKEYSINSLOT", other_slot}) == integer(0));
  CHECK(h.run({"CLUSTER", "COUNTKEYSINSLOT", "16384"}) == "-ERR Invalid or out of range slot\r\n");
  CHECK(h.run({"CLUSTER", "GETKEYSINSLOT", "1", "-1"}) == "-ERR Invalid number of keys\r\n");
  CHECK(h.run({"cluster|countkeysinslot", "1"}).rfind("-ERR unknown command", 0) == 0);
}

TEST_CASE("a node that is down: its slots answer -CLUSTERDOWN, the others serve", "[cluster]") {
  auto v = view_of(0, false);
  auto h = forwarding_node(v);
  auto mine = key_on(*v, 0), other = key_on(*v, 1);
  REQUIRE(h.run({"MSET", mine, "1", other, "2"}) == ok);
  uint32_t ordinal = v->ordinal_of_node(1);
  for (uint32_t p = 0; p < partitions; ++p)
    h.down.insert(ordinal * partitions + p);
  CHECK(h.run({"GET", other}) == "-CLUSTERDOWN The cluster is down\r\n");
  CHECK(h.run({"MGET", mine, other}) == "-CLUSTERDOWN The cluster is down\r\n");
  CHECK(h.run({"DBSIZE"}) == "-CLUSTERDOWN The cluster is down\r\n");
  CHECK(h.run({"GET", mine}) == bulk("1"));
  h.down.clear();
  CHECK(h.run({"GET", other}) == bulk("2"));
}

TEST_CASE("a redirecting node answers -MOVED and -CROSSSLOT as Redis Cluster", "[cluster]") {
  auto v = view_of(0, true);
  harness h(cmd::key_router(partitions), v); // only its own partitions
  auto mine = key_on(*v, 0), other = key_on(*v, 2);
  CHECK(h.run({"SET", mine, "1"}) == ok);
  auto slot = cluster::key_slot(other);
  CHECK(h.run({"GET", other}) == "-MOVED " + std::to_string(slot) + " 127.0.0.1:7003\r\n");
  CHECK(h.run({"SET", other, "x"}) == "-MOVED " + std::to_string(slot) + " 127.0.0.1:7003\r\n");
  CHECK(h.run({"MGET", mine, key_on(*v, 0, 1000)})
        == "-CROSSSLOT Keys in request don't hash to the same slot\r\n");
  CHECK(h.run({"MGET", "{" + mine + "}a", "{" + mine + "}b"}) == "*2\r\n" + nil + nil);
  CHECK(h.run({"DBSIZE"}) == integer(1)); // this node's keys, as Redis
  CHECK(h.run({"PING"}) == "+PONG\r\n");
}

TEST_CASE("CLUSTER INFO, MYID, NODES, SLOTS and SHARDS describe the cluster", "[cluster]") {
  auto v = view_of(1, false);
  auto h = forwarding_node(v);
  const auto& me = v->config().nodes[1];
  CHECK(h.run({"CLUSTER", "MYID"}) == bulk(me.id));
  CHECK(h.run({"CLUSTER", "KEYSLOT", "123456789"}) == integer(12739));
  auto info = h.run({"CLUSTER", "INFO"});
  CHECK(info.find("cluster_state:fail") != std::string::npos); // the others not reached yet
  v->set_up(0, true);
  v->set_up(2, true);
  info = h.run({"CLUSTER", "INFO"});
  CHECK(info.find("cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384")
        != std::string::npos);
  CHECK(info.find("cluster_known_nodes:3") != std::string::npos);
  auto nodes = h.run({"CLUSTER", "NODES"});
  CHECK(nodes.find(me.id + " 127.0.0.1:7002@17002 myself,master - 0 ") != std::string::npos);
  CHECK(nodes.find(" connected 5461-10922\n") != std::string::npos);
  CHECK(nodes.find(" connected 10923-16383\n") != std::string::npos);
  auto slots = h.run({"CLUSTER", "SLOTS"});
  CHECK(slots.rfind("*3\r\n*3\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:7001\r\n$40\r\n", 0) == 0);
  auto shards = h.run({"CLUSTER", "SHARDS"});
  CHECK(shards.find("$5\r\nslots\r\n*2\r\n:5461\r\n:10922\r\n$5\r\nnodes\r\n") != std::string::npos);
  CHECK(shards.find("$6\r\nhealth\r\n$6\r\nonline\r\n") != std::string::npos);
  CHECK(h.run({"CLUSTER", "NOPE"}).rfind("-ERR unknown subcommand 'NOPE'", 0) == 0);
  CHECK(h.run({"READONLY"}) == ok);
  CHECK(h.run({"ASKING"}) == ok);
  auto all = h.run({"INFO", "cluster"});
  CHECK(all.find("# Cluster\r\ncluster_enabled:1\r\ncluster_state:ok") != std::string::npos);
}

TEST_CASE("without a cluster, CLUSTER answers as a Redis without cluster support", "[cluster]") {
  harness h;
  CHECK(h.run({"CLUSTER", "INFO"}) == "-ERR This instance has cluster support disabled\r\n");
  CHECK(h.run({"READWRITE"}) == "-ERR This instance has cluster support disabled\r\n");
  CHECK(h.run({"CLUSTER", "KEYSLOT", "foo"}) == integer(12182));
  CHECK(h.run({"INFO", "cluster"}).find("cluster_enabled:0") != std::string::npos);
  CHECK(h.run({"SET", "foo", "1"}) == ok);
  CHECK(h.run({"CLUSTER", "COUNTKEYSINSLOT", "12182"}) == integer(1));
}

TEST_CASE("a node of a replication chain: writes to the head, reads here, every key once",
          "[cluster][chain]") {
  // Two chains of three: nodes 0-2 (head 0) and 3-5 (head 3); this is node 1, a middle.
  cluster::cluster_config cfg;
  REQUIRE(cluster::even_cluster("h:1,h:2,h:3,h:4,h:5,h:6", partitions, 10000, cfg, 3) == "");
  auto v = std::make_shared<cluster::view>(cfg, 1, false);
  cmd::key_router r(partitions);
  r.nodes = v->nodes();
  r.slot_ordinal = v->slot_ordinals();
  r.read_ordinal = v->read_ordinals();
  r.write_fan = &v->fan_ordinals(true);
  r.read_fan = &v->fan_ordinals(false);
  harness h(r, v);
  for (uint32_t n = 0; n < v->nodes(); ++n)
    v->set_up(n, true);
  auto on = [&](const std::string& key) { return v->owner(cluster::key_slot(key)); };
  std::string mine, other; // keys of this node's chain, and of the other chain
  for (int i = 0; mine.empty() || other.empty(); ++i) {
    auto k = "k" + std::to_string(i);
    (on(k) == 0 ? mine : other) = k;
  }
  auto places = [&](uint32_t node) { // the targets of node n's partitions
    std::set<uint32_t> out;
    for (uint32_t p = 0; p < partitions; ++p)
      out.insert(v->ordinal_of_node(node) * partitions + p);
    return out;
  };
  auto sent_to = [&] {
    std::set<uint32_t> out;
    for (const auto& [target, n] : h.sent)
      out.insert(target);
    h.sent.clear();
    return out;
  };
  auto within = [](const std::set<uint32_t>& a, const std::set<uint32_t>& b) {
    for (auto x : a)
      if (b.count(x) == 0)
        return false;
    return !a.empty();
  };
  h.sent.clear();
  h.run({"SET", mine, "v"});
  CHECK(within(sent_to(), places(0))); // its chain's head
  h.run({"GET", mine});
  CHECK(within(sent_to(), places(1))); // here
  h.run({"GET", other});
  CHECK(within(sent_to(), places(3))); // the other chain's head
  h.run({"DBSIZE"}); // one node per chain: here for its own chain
  auto dbsize = sent_to();
  auto expected = places(1);
  for (auto t : places(3))
    expected.insert(t);
  CHECK(dbsize == expected);
  h.run({"FLUSHALL"}); // writes: the heads
  auto flush = sent_to();
  expected = places(0);
  for (auto t : places(3))
    expected.insert(t);
  CHECK(flush == expected);
  // SCAN walks this node's partitions, then the other chain head's, skipping the rest.
  std::vector<uint32_t> walked;
  std::string cursor = "0";
  int calls = 0;
  do {
    auto reply = h.run({"SCAN", cursor});
    REQUIRE(reply.rfind("*2\r\n$", 0) == 0);
    for (const auto& [target, n] : h.sent)
      walked.push_back(target);
    h.sent.clear();
    auto len_end = reply.find("\r\n", 4);
    cursor = reply.substr(len_end + 2, std::stoul(reply.substr(5, len_end - 5)));
  } while (cursor != "0" && ++calls < 100);
  auto here = places(1);
  std::vector<uint32_t> order(here.begin(), here.end());
  for (auto t : places(3))
    order.push_back(t);
  CHECK(walked == order);
  // A write whose chain has a node down is refused at once.
  v->set_up(2, false);
  CHECK(h.run({"SET", mine, "v"}) == "-CLUSTERDOWN The cluster is down\r\n");
  CHECK(h.run({"SET", other, "v"}) == ok);
}

TEST_CASE("a redirecting replica answers -MOVED, but serves reads after READONLY",
          "[cluster][chain]") {
  cluster::cluster_config cfg;
  REQUIRE(cluster::even_cluster("127.0.0.1:7001,127.0.0.1:7002", partitions, 10000, cfg, 2)
          == "");
  auto v = std::make_shared<cluster::view>(cfg, 1, true); // the tail of the one chain
  v->set_up(0, true);
  harness h(cmd::key_router(partitions), v);
  CHECK(h.run({"GET", "foo"}) == "-MOVED 12182 127.0.0.1:7001\r\n");
  CHECK(h.run({"READONLY"}) == ok);
  CHECK(h.run({"GET", "foo"}) == nil);
  CHECK(h.run({"SET", "foo", "1"}) == "-MOVED 12182 127.0.0.1:7001\r\n"); // writes: the head
  CHECK(h.run({"READWRITE"}) == ok);
  CHECK(h.run({"GET", "foo"}) == "-MOVED 12182 127.0.0.1:7001\r\n");
}

// Replication chains (docs/replication.md): the chain state of one partition (clean and
// dirty keys, commits, the Sent list, held replies), chains in the cluster file, and a
// node's view of its chain.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cluster/chain_state.hpp"
#include "cluster/cluster_config.hpp"
#include "cluster/cluster_view.hpp"

using namespace otkv::cluster;

TEST_CASE("a key is dirty from its change until that record commits", "[chain]") {
  chain_state c(chain_role::head);
  CHECK(c.dirty_seq("k") == 0);
  CHECK_FALSE(c.any_dirty());
  c.changed("k", 1);
  c.changed("j", 2);
  c.changed("k", 3);
  CHECK(c.dirty_seq("k") == 3); // a read waits for the newest change it saw
  CHECK(c.dirty_seq("j") == 2);
  CHECK(c.dirty_seq("other") == 0);
  CHECK(c.newest_dirty() == 3);
  CHECK(c.commit(2));
  CHECK(c.dirty_seq("j") == 0);
  CHECK(c.dirty_seq("k") == 3); // its newer change is not committed yet
  CHECK_FALSE(c.commit(2));     // not newer: nothing changes
  CHECK_FALSE(c.commit(1));
  CHECK(c.commit(3));
  CHECK(c.dirty_seq("k") == 0);
  CHECK_FALSE(c.any_dirty());
  c.changed("k", 2); // an old record (a copy sent again) changes nothing
  CHECK(c.dirty_seq("k") == 0);
}

TEST_CASE("FLUSHALL or a full copy makes every key dirty", "[chain]") {
  chain_state c(chain_role::middle);
  c.changed("a", 1);
  c.changed({}, 2, true);
  CHECK(c.dirty_seq("a") == 2);
  CHECK(c.dirty_seq("never-written") == 2);
  CHECK(c.newest_dirty() == 2);
  c.commit(1);
  CHECK(c.dirty_seq("never-written") == 2);
  c.commit(2);
  CHECK(c.dirty_seq("never-written") == 0);
  CHECK(c.dirty_seq("a") == 0);
}

TEST_CASE("at the tail every change is committed at once", "[chain]") {
  chain_state c(chain_role::tail, 5);
  CHECK(c.committed() == 5); // its own records are the committed ones
  c.changed("k", 6);
  CHECK(c.committed() == 6);
  CHECK(c.dirty_seq("k") == 0);
  CHECK_FALSE(c.any_dirty());
}

TEST_CASE("after a restart every read waits for the commit to reach the last record",
          "[chain]") {
  chain_state head(chain_role::head, 7);
  CHECK(head.committed() == 0);
  CHECK(head.dirty_seq("anything") == 7);
  head.commit(6);
  CHECK(head.dirty_seq("anything") == 7);
  head.commit(7);
  CHECK(head.dirty_seq("anything") == 0);
  chain_state fresh(chain_role::middle, 0); // nothing here yet: nothing to wait for
  CHECK_FALSE(fresh.any_dirty());
}

TEST_CASE("the Sent list keeps records until they commit", "[chain]") {
  chain_state c(chain_role::head);
  c.keep_sent(0, 2, "ab");
  c.keep_sent(2, 5, "cde");
  c.keep_sent(5, 6, "f");
  CHECK(c.sent().size() == 3);
  CHECK(c.sent_bytes() == 6);
  c.commit(4); // the batch up to 5 is not wholly committed: kept
  REQUIRE(c.sent().size() == 2);
  CHECK(c.sent().front().after == 2);
  CHECK(c.sent_bytes() == 4);
  c.commit(6);
  CHECK(c.sent().empty());
  CHECK(c.sent_bytes() == 0);
  c.keep_sent(3, 6, "old"); // committed already: not kept
  CHECK(c.sent().empty());
}

TEST_CASE("the Sent list and the held replies are bounded", "[chain]") {
  chain_state c(chain_role::head);
  for (uint64_t i = 0; i < 10; ++i)
    c.keep_sent(i, i + 1, std::string(100, 'x'));
  CHECK(c.trim_sent(350) == 7); // the oldest go: the next node then needs a full copy
  CHECK(c.sent_bytes() == 300);
  CHECK(c.sent().front().after == 7);
  CHECK(c.trim_sent(350) == 0);
  held_replies<int> held;
  held.hold(5, 100, 1);
  held.hold(6, 200, 2);
  held.hold(7, 300, 3);
  CHECK(held.drop_older(250) == 2);
  CHECK(held.size() == 1);
  std::vector<int> out;
  held.release(7, [&](int&& v) { out.push_back(v); });
  CHECK(out == std::vector<int>{3});
}

TEST_CASE("records fit when they start at or before the next one and bring a new one",
          "[chain]") {
  CHECK(chain_state::fits(5, 5, 8));   // the next ones
  CHECK(chain_state::fits(5, 3, 8));   // overlapping: 4 and 5 are skipped
  CHECK_FALSE(chain_state::fits(5, 3, 5)); // all here already
  CHECK_FALSE(chain_state::fits(5, 6, 9)); // a gap: record 6 is missing
  CHECK(chain_state::fits(5, 0, 9));   // a full copy (image record) always fits
}

TEST_CASE("held replies leave once their record commits, in the order held", "[chain]") {
  held_replies<std::string> held;
  held.hold(3, 0, "c");
  held.hold(1, 0, "a");
  held.hold(5, 0, "e");
  held.hold(2, 0, "b");
  std::vector<std::string> out;
  held.release(2, [&](std::string&& s) { out.push_back(s); });
  CHECK(out == std::vector<std::string>{"a", "b"});
  CHECK(held.size() == 2);
  held.release(4, [&](std::string&& s) { out.push_back(s); });
  CHECK(out == std::vector<std::string>{"a", "b", "c"});
  held.release(10, [&](std::string&& s) { out.push_back(s); });
  CHECK(out == std::vector<std::string>{"a", "b", "c", "e"});
  CHECK(held.empty());
}

TEST_CASE("--cluster-init makes chains of consecutive nodes", "[chain]") {
  cluster_config cfg;
  REQUIRE(even_cluster("h:1,h:2,h:3,h:4,h:5,h:6", 2, 10000, cfg, 3) == "");
  CHECK(cfg.replicas == 3);
  auto chains = chains_of(cfg);
  REQUIRE(chains.size() == 2);
  CHECK(chains[0] == std::vector<uint32_t>{0, 1, 2});
  CHECK(chains[1] == std::vector<uint32_t>{3, 4, 5});
  CHECK(cfg.nodes[1].follows == cfg.nodes[0].id);
  CHECK(cfg.nodes[1].slots.empty());
  CHECK(cfg.nodes[0].slots.size() == 1);
  CHECK(cfg.nodes[3].slots.front().first == cfg.nodes[0].slots.front().last + 1);
  // Written and read back.
  cluster_config back;
  REQUIRE(parse_cluster_config(to_json(cfg), back) == "");
  CHECK(back.replicas == 3);
  CHECK(back.nodes[2].follows == cfg.nodes[1].id);
  CHECK(even_cluster("h:1,h:2,h:3,h:4", 2, 10000, cfg, 3).find("chains of 3") != std::string::npos);
}

TEST_CASE("a cluster file's chains are checked", "[chain]") {
  auto head = [](const std::string& id) {
    return R"({"id":")" + id + R"(","host":"h","port":1,"cluster_port":2,"slots":[[0,16383]]})";
  };
  auto follower = [](const std::string& id, const std::string& after) {
    return R"({"id":")" + id + R"(","host":"h","port":3,"cluster_port":4,"follows":")" + after
           + R"("})";
  };
  auto file = [](int replicas, const std::string& nodes) {
    return R"({"partitions":2,"replicas":)" + std::to_string(replicas) + R"(,"nodes":[)" + nodes
           + "]}";
  };
  cluster_config cfg;
  CHECK(parse_cluster_config(file(2, head("a") + "," + follower("b", "a")), cfg) == "");
  CHECK(parse_cluster_config(file(3, head("a") + "," + follower("b", "a")), cfg)
        == "the chain of a has 2 nodes, not \"replicas\": 3");
  CHECK(parse_cluster_config(file(2, head("a") + "," + follower("b", "x")), cfg)
        == "node b follows x, which is not in the file");
  CHECK(parse_cluster_config(file(3, head("a") + "," + follower("b", "a") + ","
                                       + follower("c", "a")), cfg)
        == "two nodes follow a (a chain is a line)");
  CHECK(parse_cluster_config(file(2, head("a") + "," + follower("b", "a") + ","
                                       + follower("c", "d") + "," + follower("d", "c")), cfg)
        .find("circle") != std::string::npos);
  CHECK(parse_cluster_config(file(0, head("a")), cfg).find("\"replicas\"") != std::string::npos);
  auto with_slots = R"({"id":"b","host":"h","port":3,"cluster_port":4,"follows":"a","slots":[[0,1]]})";
  CHECK(parse_cluster_config(file(2, head("a") + "," + with_slots), cfg).find("its chain's head")
        != std::string::npos);
}

/// The node ordinals of v.fan_ordinals(write), as plain numbers.
std::vector<uint32_t> fan(const view& v, bool write) {
  std::vector<uint32_t> out;
  for (const auto& o : v.fan_ordinals(write))
    out.push_back(o.load());
  return out;
}

TEST_CASE("a node's view of its chain: role, neighbours, where reads and writes go",
          "[chain]") {
  cluster_config cfg;
  REQUIRE(even_cluster("h:1,h:2,h:3,h:4,h:5,h:6", 2, 10000, cfg, 3) == "");
  uint16_t first_chain_slot = 0, second_chain_slot = 16383;
  SECTION("the middle of the first chain") {
    view v(cfg, 1, false);
    CHECK(v.replicated());
    CHECK(v.role() == chain_role::middle);
    CHECK(v.predecessor() == 0);
    CHECK(v.successor() == 2);
    CHECK(v.head_of(2) == 0);
    CHECK(v.owner(first_chain_slot) == 0); // writes: the head
    CHECK(v.slot_ordinals()[first_chain_slot] == v.ordinal_of_node(0));
    CHECK(v.read_ordinals()[first_chain_slot] == 0); // reads: here
    CHECK(v.member(first_chain_slot, 1));
    CHECK_FALSE(v.member(second_chain_slot, 1));
    CHECK(v.read_ordinals()[second_chain_slot] == v.ordinal_of_node(3)); // the other head
    // Every key once: one node per chain.
    CHECK(fan(v, true) == std::vector<uint32_t>{v.ordinal_of_node(0), v.ordinal_of_node(3)});
    CHECK(fan(v, false) == std::vector<uint32_t>{0, v.ordinal_of_node(3)});
    CHECK_FALSE(v.chain_up(0));
    v.set_up(0, true);
    v.set_up(2, true);
    CHECK(v.chain_up(0));
    CHECK_FALSE(v.chain_up(1));
  }
  SECTION("the head and the tail") {
    CHECK(view(cfg, 3, false).role() == chain_role::head);
    CHECK(view(cfg, 3, false).predecessor() == -1);
    CHECK(view(cfg, 5, false).role() == chain_role::tail);
    CHECK(view(cfg, 5, false).successor() == -1);
  }
  SECTION("without chains every node is a head of its own") {
    cluster_config plain;
    REQUIRE(even_cluster("h:1,h:2", 2, 10000, plain) == "");
    view v(plain, 1, false);
    CHECK_FALSE(v.replicated());
    CHECK(v.role() == chain_role::head);
    CHECK(v.read_ordinals()[16383] == 0);
    CHECK(v.read_ordinals()[0] == v.slot_ordinals()[0]);
  }
}

TEST_CASE("a reconfigured chain: roles, neighbours, slots and routing follow the layout",
          "[chain]") {
  cluster_config cfg;
  REQUIRE(even_cluster("h:1,h:2,h:3,h:4,h:5,h:6", 2, 10000, cfg, 3) == "");
  uint16_t first_chain_slot = 0;
  std::vector<std::vector<uint32_t>> whole{{0, 1, 2}, {3, 4, 5}};
  SECTION("the head fails: its successor is the head and takes the chain's slots") {
    view v(cfg, 1, false);
    REQUIRE(v.set_chains({{1, 2}, {3, 4, 5}}, 1) == "");
    CHECK(v.epoch() == 1);
    CHECK(v.role() == chain_role::head);
    CHECK(v.predecessor() == -1);
    CHECK(v.successor() == 2);
    CHECK(v.owner(first_chain_slot) == 1);
    CHECK(v.head_of(2) == 1);
    CHECK_FALSE(v.active(0));
    CHECK(fan(v, true) == std::vector<uint32_t>{0, v.ordinal_of_node(3)});
    // The failed node is not waited for: the chain is up with its two others.
    v.set_up(2, true);
    CHECK(v.chain_up(0));
    CHECK(v.chain(0) == std::vector<uint32_t>{1, 2});
  }
  SECTION("seen from another chain, writes go to the new head") {
    view v(cfg, 4, false);
    REQUIRE(v.set_chains({{1, 2}, {3, 4, 5}}, 1) == "");
    CHECK(v.owner(first_chain_slot) == 1);
    CHECK(v.read_ordinals()[first_chain_slot] == v.ordinal_of_node(1));
    CHECK(fan(v, false) == std::vector<uint32_t>{v.ordinal_of_node(1), 0});
  }
  SECTION("the tail fails: its predecessor is the tail") {
    view v(cfg, 1, false);
    REQUIRE(v.set_chains({{0, 1}, {3, 4, 5}}, 1) == "");
    CHECK(v.role() == chain_role::tail);
    CHECK(v.successor() == -1);
    CHECK(v.predecessor() == 0);
  }
  SECTION("a middle node fails: its neighbours are linked") {
    view v(cfg, 2, false);
    REQUIRE(v.set_chains({{0, 2}, {3, 4, 5}}, 1) == "");
    CHECK(v.predecessor() == 0);
    CHECK(v.role() == chain_role::tail);
  }
  SECTION("a node left alone in its chain is its head, and it rejoins at the tail") {
    view v(cfg, 2, false);
    REQUIRE(v.set_chains({{2}, {3, 4, 5}}, 2) == "");
    CHECK(v.role() == chain_role::head);
    CHECK(v.successor() == -1);
    CHECK(v.owner(first_chain_slot) == 2);
    REQUIRE(v.set_chains({{2, 0}, {3, 4, 5}}, 3) == "");
    CHECK(v.role() == chain_role::head);
    CHECK(v.successor() == 0);
    CHECK(v.owner(first_chain_slot) == 2); // the head stays
    view joiner(cfg, 0, false);
    REQUIRE(joiner.set_chains({{2, 0}, {3, 4, 5}}, 3) == "");
    CHECK(joiner.role() == chain_role::tail);
    CHECK(joiner.owner(first_chain_slot) == 2);
  }
  SECTION("layouts that do not fit the cluster file are refused") {
    view v(cfg, 0, false);
    CHECK(v.set_chains({{0, 1, 2}}, 1).find("chains") != std::string::npos);
    CHECK(v.set_chains({{}, {3, 4, 5}}, 1).find("no node") != std::string::npos);
    CHECK(v.set_chains({{0, 3}, {4, 5}}, 1).find("not of its own") != std::string::npos);
    CHECK(v.set_chains({{0, 0}, {3, 4, 5}}, 1).find("not of its own") != std::string::npos);
    CHECK(v.epoch() == 0);
    CHECK(v.chains() == whole);
  }
  SECTION("with a coordinator a node serves only with a valid lease and in its chain") {
    view v(cfg, 1, false);
    CHECK(v.serving(1000));
    v.set_coordinated();
    CHECK_FALSE(v.serving(1000));
    v.set_lease_until(2000);
    CHECK(v.serving(1999));
    CHECK_FALSE(v.serving(2000));
    REQUIRE(v.set_chains({{0, 2}, {3, 4, 5}}, 1) == "");
    CHECK_FALSE(v.serving(1000)); // removed
  }
}

// Slots (CRC16 and hash tags, as Redis Cluster computes them), the cluster file (parse,
// checks, write, the even split) and the node's view.

#include <catch2/catch.hpp>

#include "cluster/cluster_config.hpp"
#include "cluster/cluster_view.hpp"
#include "cluster/slots.hpp"

using namespace otkv::cluster;

TEST_CASE("CRC16 and key slots are Redis Cluster's", "[cluster]") {
  CHECK(crc16("123456789") == 0x31C3); // the XMODEM check value Redis's crc16.c cites
  CHECK(crc16("") == 0);
  CHECK(key_slot("foo") == 12182); // redis-cli CLUSTER KEYSLOT foo
  CHECK(key_slot("bar") == 5061);
  CHECK(key_slot("123456789") == 12739);
  // Hash tags: the text in the first {…} when it is not empty.
  CHECK(key_slot("{user1000}.following") == key_slot("{user1000}.followers"));
  CHECK(key_slot("{user1000}.following") == key_slot("user1000"));
  CHECK(key_slot("foo{}{bar}") == key_slot("foo{}{bar}"));
  CHECK(key_slot("foo{}{bar}") != key_slot("bar"));     // an empty tag: the whole key
  CHECK(key_slot("foo{{bar}}zap") == key_slot("{bar")); // up to the first }
  CHECK(key_slot("foo{bar}{zap}") == key_slot("bar"));  // the first tag only
}

TEST_CASE("--cluster-init splits the slots as redis-cli --cluster create", "[cluster]") {
  cluster_config cfg;
  REQUIRE(even_cluster("127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003", 4, 10000, cfg) == "");
  REQUIRE(cfg.nodes.size() == 3);
  CHECK(cfg.partitions == 4);
  CHECK((cfg.nodes[0].slots[0].first == 0 && cfg.nodes[0].slots[0].last == 5460));
  CHECK((cfg.nodes[1].slots[0].first == 5461 && cfg.nodes[1].slots[0].last == 10922));
  CHECK((cfg.nodes[2].slots[0].first == 10923 && cfg.nodes[2].slots[0].last == 16383));
  CHECK(cfg.nodes[1].cluster_port == 17002);
  CHECK(cfg.nodes[0].id.size() == 40);
  CHECK(cfg.nodes[0].id != cfg.nodes[1].id);
  cluster_config one;
  REQUIRE(even_cluster("h:1", 1, 10000, one) == "");
  CHECK((one.nodes[0].slots[0].first == 0 && one.nodes[0].slots[0].last == 16383));
  CHECK(even_cluster("127.0.0.1", 1, 10000, one).find("not HOST:PORT") != std::string::npos);
  CHECK(even_cluster("h:60000", 1, 10000, one).find("port must be") != std::string::npos);
  CHECK(even_cluster("h:1,", 1, 10000, one) != "");
}

TEST_CASE("a cluster file reads back what was written", "[cluster]") {
  cluster_config cfg;
  REQUIRE(even_cluster("10.0.0.1:7001,10.0.0.2:7001", 8, 10000, cfg) == "");
  cluster_config back;
  REQUIRE(parse_cluster_config(to_json(cfg), back) == "");
  REQUIRE(back.nodes.size() == 2);
  CHECK(back.partitions == 8);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(back.nodes[i].id == cfg.nodes[i].id);
    CHECK(back.nodes[i].host == cfg.nodes[i].host);
    CHECK(back.nodes[i].port == cfg.nodes[i].port);
    CHECK(back.nodes[i].cluster_port == cfg.nodes[i].cluster_port);
    CHECK(back.nodes[i].slots.size() == 1);
  }
  std::string err;
  CHECK(find_self(back, "10.0.0.2", 7001, err) == 1);
  CHECK(find_self(back, "0.0.0.0", 7001, err) == -1); // both listen on 7001
  CHECK(err.find("several") != std::string::npos);
  CHECK(find_self(back, "10.0.0.3", 7001, err) == -1);
  CHECK(err.find("no node") != std::string::npos);
}

TEST_CASE("a cluster file with a mistake is refused, saying which", "[cluster]") {
  auto node = [](const std::string& id, int port, const std::string& slots) {
    return R"({"id":")" + id + R"(","host":"127.0.0.1","port":)" + std::to_string(port)
           + R"(,"cluster_port":)" + std::to_string(port + 10000) + R"(,"slots":)" + slots + "}";
  };
  auto file = [](const std::string& nodes) {
    return R"({"partitions":2,"nodes":[)" + nodes + "]}";
  };
  cluster_config cfg;
  CHECK(parse_cluster_config(file(node("a", 1, "[[0,16383]]")), cfg) == "");
  CHECK(parse_cluster_config(file(node("a", 1, "[[0,100],101,[102,16383]]")), cfg) == "");
  CHECK(parse_cluster_config("{", cfg).find("not JSON") == 0);
  CHECK(parse_cluster_config("[]", cfg).find("not a JSON object") != std::string::npos);
  CHECK(parse_cluster_config(file(node("a", 1, "[[0,16382]]")), cfg)
        == "slot 16383 is served by no node");
  CHECK(parse_cluster_config(file(node("a", 1, "[[0,16383]]") + "," + node("b", 2, "[[5,5]]")), cfg)
        == "slot 5 is served by two nodes (a and b)");
  CHECK(parse_cluster_config(file(node("a", 1, "[[0,9]]") + "," + node("a", 2, "[[10,16383]]")), cfg)
        == "node id a appears twice");
  CHECK(parse_cluster_config(file(node("a", 0, "[[0,16383]]")), cfg).find("\"port\"")
        != std::string::npos);
  CHECK(parse_cluster_config(file(node("a", 1, "[[0,16384]]")), cfg).find("slot range")
        != std::string::npos);
  CHECK(parse_cluster_config(file(node("a b", 1, "[[0,16383]]")), cfg).find("no spaces")
        != std::string::npos);
  CHECK(parse_cluster_config(R"({"partitions":0,"nodes":[]})", cfg).find("partitions")
        != std::string::npos);
}

TEST_CASE("a node's view: owners, routing ordinals, reachability", "[cluster]") {
  cluster_config cfg;
  REQUIRE(even_cluster("h:1,h:2,h:3", 4, 10000, cfg) == "");
  view v(cfg, 1, false);
  CHECK(v.owner(0) == 0);
  CHECK(v.owner(16383) == 2);
  // Ordinal 0 is this node; the others follow in file order.
  CHECK(v.ordinal_of_node(1) == 0);
  CHECK(v.ordinal_of_node(0) == 1);
  CHECK(v.ordinal_of_node(2) == 2);
  CHECK(v.node_of_ordinal(1) == 0);
  CHECK(v.slot_ordinals()[6000] == 0);
  CHECK(v.slot_ordinals()[0] == 1);
  CHECK(v.address_of(0) == "h:1");
  CHECK(v.up(1));
  CHECK_FALSE(v.up(0));
  CHECK_FALSE(v.ok());
  v.set_up(0, true);
  v.set_up(2, true);
  CHECK(v.ok());
  CHECK(v.reachable() == 3);
}

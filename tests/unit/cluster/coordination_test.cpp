// The pieces of failover through etcd that need no etcd: the gateway's encodings, the
// chain layout's text, and the rules by which nodes change the layout.

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "cluster/chain_layout.hpp"
#include "cluster/coordinator.hpp"
#include "cluster/etcd_client.hpp"

using namespace otkv::cluster;

TEST_CASE("base64 as etcd's gateway carries keys and values", "[etcd]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  std::string all;
  for (int c = 0; c < 256; ++c)
    all += static_cast<char>(c);
  for (size_t n = 0; n <= all.size(); n += 37) { // every length's padding, every byte
    std::string back;
    REQUIRE(base64_decode(base64_encode(all.substr(0, n)), back));
    CHECK(back == all.substr(0, n));
  }
  std::string out;
  CHECK_FALSE(base64_decode("Zm9", out));   // not a multiple of 4
  CHECK_FALSE(base64_decode("Zm!v", out));  // not the alphabet
  CHECK_FALSE(base64_decode("Zg==Zg==", out)); // padding inside
  CHECK(base64_decode("Zg==", out));
  CHECK(out == "f");
}

TEST_CASE("a prefix's range end is the prefix with its last byte incremented", "[etcd]") {
  CHECK(prefix_end("/otkv/a/") == "/otkv/a0");
  CHECK(prefix_end("a\xff") == "b");
  CHECK(prefix_end(std::string("\xff\xff")) == std::string(1, '\0'));
}

TEST_CASE("HTTP responses: length, chunked, to the end, and cut short", "[etcd]") {
  std::string body;
  CHECK(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", body) == 200);
  CHECK(body == "{}");
  std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n";
  CHECK(parse_http_response(chunked, body) == 200);
  CHECK(body == "{\"a\":1}");
  CHECK(parse_http_response("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nnope", body)
        == 404);
  CHECK(body == "nope");
  // Every cut of a whole response is not a whole response (but a body read to the end).
  for (size_t cut = 0; cut < chunked.size(); ++cut)
    CHECK(parse_http_response(chunked.substr(0, cut), body) == -1);
  std::string sized = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  for (size_t cut = 0; cut < sized.size(); ++cut)
    CHECK(parse_http_response(sized.substr(0, cut), body) == -1);
}

TEST_CASE("an etcd that is not there: each call fails with why, within its timeout",
          "[etcd]") {
  // A port that was free a moment ago: nothing listens there.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  etcd_client etcd("127.0.0.1", ntohs(addr.sin_port), 500);
  CHECK(etcd.grant(2) == 0);
  CHECK(etcd.error().find("connect") != std::string::npos);
  CHECK(etcd.keepalive(7) == -1);
  std::vector<etcd_kv> kvs;
  CHECK_FALSE(etcd.range_prefix("/otkv/", kvs));
  CHECK(etcd.put_if("k", "v", 0) == -1);
}

TEST_CASE("--cluster-etcd HOST:PORT", "[etcd]") {
  coordinator_options opts;
  CHECK(parse_etcd_address("127.0.0.1:2379", opts) == "");
  CHECK(opts.host == "127.0.0.1");
  CHECK(opts.port == 2379);
  CHECK(parse_etcd_address("[::1]:23790", opts) == "");
  CHECK(opts.host == "::1");
  CHECK_FALSE(parse_etcd_address("localhost", opts).empty());
  CHECK_FALSE(parse_etcd_address("localhost:0", opts).empty());
  CHECK_FALSE(parse_etcd_address("localhost:99999", opts).empty());
  CHECK_FALSE(parse_etcd_address(":2379", opts).empty());
}

TEST_CASE("the chain layout's text", "[etcd][chain]") {
  chain_layout layout{7, {{"a", "b", "c"}, {"d"}}};
  chain_layout back;
  REQUIRE(parse_layout(to_json(layout), back) == "");
  CHECK(back == layout);
  CHECK_FALSE(parse_layout("{}", back).empty());
  CHECK_FALSE(parse_layout(R"({"epoch":1,"chains":[[]]})", back).empty());
  CHECK_FALSE(parse_layout(R"({"epoch":1,"chains":[[1]]})", back).empty());
  CHECK_FALSE(parse_layout(R"({"epoch":-1,"chains":[]})", back).empty());
  CHECK_FALSE(parse_layout("not json", back).empty());
  CHECK(back == layout); // unchanged by the failures
}

TEST_CASE("the layout of a cluster file, and as a view's node indexes", "[etcd][chain]") {
  cluster_config cfg;
  REQUIRE(even_cluster("h:1,h:2,h:3,h:4,h:5,h:6", 2, 10000, cfg, 3) == "");
  view v(cfg, 0, false);
  auto layout = initial_layout(v);
  CHECK(layout.epoch == 0);
  REQUIRE(layout.chains.size() == 2);
  CHECK(layout.chains[0] == std::vector<std::string>{cfg.nodes[0].id, cfg.nodes[1].id,
                                                     cfg.nodes[2].id});
  std::vector<std::vector<uint32_t>> chains;
  REQUIRE(layout_indexes(v, layout, chains) == "");
  CHECK(chains == std::vector<std::vector<uint32_t>>{{0, 1, 2}, {3, 4, 5}});
  layout.chains[1].push_back("unknown");
  CHECK(layout_indexes(v, layout, chains).find("unknown") != std::string::npos);
}

TEST_CASE("how nodes change the layout: failed nodes out, a joining node in at the tail",
          "[etcd][chain]") {
  chain_layout now{4, {{"a", "b", "c"}, {"d", "e", "f"}}};
  std::set<std::string> all_synced{"a", "b", "c", "d", "e", "f"};
  SECTION("nothing failed, nobody joins: the same layout") {
    CHECK(next_layout(now, {}, all_synced, "a", 0, false) == now);
  }
  SECTION("a failed head, middle or tail leaves its chain; the epoch moves on once") {
    auto next = next_layout(now, {"a"}, all_synced, "b", 0, false);
    CHECK(next == chain_layout{5, {{"b", "c"}, {"d", "e", "f"}}});
    CHECK(next_layout(now, {"b"}, all_synced, "a", 0, false)
          == chain_layout{5, {{"a", "c"}, {"d", "e", "f"}}});
    CHECK(next_layout(now, {"c", "f"}, all_synced, "a", 0, false)
          == chain_layout{5, {{"a", "b"}, {"d", "e"}}});
  }
  SECTION("a node never removes itself") {
    CHECK(next_layout(now, {"a"}, all_synced, "a", 0, false) == now);
  }
  SECTION("the last node of a chain is never removed") {
    chain_layout alone{9, {{"a"}, {"d", "e", "f"}}};
    CHECK(next_layout(alone, {"a"}, all_synced, "d", 1, false) == alone);
  }
  SECTION("a chain keeps a node in sync: a failed node stays while only unsynced ones "
          "remain") {
    // b is still catching up: if a left, nobody would hold every committed record.
    chain_layout two{3, {{"a", "b"}, {"d", "e", "f"}}};
    CHECK(next_layout(two, {"a"}, {"d", "e", "f"}, "b", 0, false) == two);
    CHECK(next_layout(two, {"a"}, {"b", "d", "e", "f"}, "b", 0, false)
          == chain_layout{4, {{"b"}, {"d", "e", "f"}}});
    // Two failures at once: each may go only while a synced survivor stays.
    CHECK(next_layout(now, {"a", "b"}, all_synced, "c", 0, false)
          == chain_layout{5, {{"c"}, {"d", "e", "f"}}});
    CHECK(next_layout(now, {"a", "b"}, {"a", "b"}, "c", 0, false) == now);
  }
  SECTION("a joining node goes to the tail of its own chain") {
    chain_layout two{6, {{"a", "b"}, {"d", "e", "f"}}};
    CHECK(next_layout(two, {}, all_synced, "c", 0, true)
          == chain_layout{7, {{"a", "b", "c"}, {"d", "e", "f"}}});
    CHECK(next_layout(now, {}, all_synced, "c", 0, true) == now); // listed already
    // Together with a removal, in one step.
    CHECK(next_layout(two, {"a"}, all_synced, "c", 0, true)
          == chain_layout{7, {{"b", "c"}, {"d", "e", "f"}}});
  }
}

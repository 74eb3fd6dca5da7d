#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "harness.hpp"
#include "store/key_hash.hpp"

using namespace otkv::test;

TEST_CASE("DEL and EXISTS count keys across partitions", "[keyspace][multikey]") {
  harness h(4);
  for (const char* k : {"a", "b", "c", "d", "e"})
    h.run({"SET", k, "1"});
  CHECK(h.run({"EXISTS", "a", "b", "zz", "a"}) == integer(3));
  CHECK(h.run({"DEL", "a", "b", "zz", "a"}) == integer(2));
  CHECK(h.run({"EXISTS", "a", "b", "c"}) == integer(1));
  CHECK(h.run({"DBSIZE"}) == integer(3));
  CHECK(h.run({"DEL"}) == "-ERR wrong number of arguments for 'del' command\r\n");
}

TEST_CASE("KEYS matches globs over every partition", "[keyspace]") {
  harness h(4);
  for (const char* k : {"user:1", "user:2", "user:10", "item:1", "hello", "hallo", "hxllo"})
    h.run({"SET", k, "v"});
  auto count = [&](const char* pattern) {
    auto r = h.run({"KEYS", pattern});
    return std::stoi(r.substr(1, r.find('\r') - 1));
  };
  CHECK(count("*") == 7);
  CHECK(count("user:*") == 3);
  CHECK(count("user:?") == 2);
  CHECK(count("h[ae]llo") == 2);
  CHECK(count("h[^e]llo") == 2);
  CHECK(count("nothing*") == 0);
  CHECK(h.run({"KEYS", "hel*"}) == "*1\r\n" + bulk("hello"));
}

TEST_CASE("EXPIRE, TTL, PTTL and PERSIST", "[keyspace][expiry]") {
  harness h;
  CHECK(h.run({"EXPIRE", "k", "10"}) == integer(0));
  CHECK(h.run({"TTL", "k"}) == integer(-2));
  h.run({"SET", "k", "v"});
  CHECK(h.run({"TTL", "k"}) == integer(-1));
  CHECK(h.run({"EXPIRE", "k", "10"}) == integer(1));
  CHECK(h.run({"TTL", "k"}) == integer(10));
  CHECK(h.run({"PTTL", "k"}) == integer(10000));
  h.now += 2600;
  CHECK(h.run({"TTL", "k"}) == integer(7)); // 7.4 s rounds to 7
  CHECK(h.run({"PEXPIRE", "k", "500"}) == integer(1));
  CHECK(h.run({"PTTL", "k"}) == integer(500));
  CHECK(h.run({"PERSIST", "k"}) == integer(1));
  CHECK(h.run({"PERSIST", "k"}) == integer(0));
  CHECK(h.run({"TTL", "k"}) == integer(-1));
  CHECK(h.run({"EXPIRE", "k", "0"}) == integer(1)); // a past deadline deletes
  CHECK(h.run({"EXISTS", "k"}) == integer(0));
  CHECK(h.run({"EXPIRE", "k", "x"}) == "-ERR value is not an integer or out of range\r\n");
  h.run({"SET", "k", "v"});
  CHECK(h.run({"EXPIRE", "k", "9223372036854775807"})
        == "-ERR invalid expire time in 'expire' command\r\n");
}

TEST_CASE("EXPIRE NX XX GT LT", "[keyspace][expiry]") {
  harness h;
  h.run({"SET", "k", "v"});
  CHECK(h.run({"EXPIRE", "k", "100", "XX"}) == integer(0));
  CHECK(h.run({"EXPIRE", "k", "100", "GT"}) == integer(0)); // no TTL = infinite
  CHECK(h.run({"EXPIRE", "k", "100", "NX"}) == integer(1));
  CHECK(h.run({"EXPIRE", "k", "200", "NX"}) == integer(0));
  CHECK(h.run({"EXPIRE", "k", "50", "GT"}) == integer(0));
  CHECK(h.run({"EXPIRE", "k", "200", "GT"}) == integer(1));
  CHECK(h.run({"EXPIRE", "k", "300", "LT"}) == integer(0));
  CHECK(h.run({"EXPIRE", "k", "20", "LT"}) == integer(1));
  CHECK(h.run({"TTL", "k"}) == integer(20));
  CHECK(h.run({"EXPIRE", "k", "1", "NX", "XX"})
        == "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
  CHECK(h.run({"EXPIRE", "k", "1", "GT", "LT"})
        == "-ERR GT and LT options at the same time are not compatible\r\n");
  CHECK(h.run({"EXPIRE", "k", "1", "YY"}) == "-ERR Unsupported option YY\r\n");
}

TEST_CASE("Expired keys vanish lazily and through the active sweep", "[keyspace][expiry]") {
  harness h(2);
  for (int i = 0; i < 100; ++i)
    h.run({"SET", "k" + std::to_string(i), "v", "PX", std::to_string(100 + i)});
  h.run({"SET", "forever", "v"});
  CHECK(h.run({"DBSIZE"}) == integer(101));
  h.now += 150;
  CHECK(h.run({"GET", "k0"}) == nil); // lazy
  CHECK(h.sweep() == 50);              // k1..k50 expired (deadline <= now); k51.. not yet
  CHECK(h.run({"DBSIZE"}) == integer(50));
  h.now += 1000;
  CHECK(h.sweep(10) == 20); // bounded work: 10 per partition
  CHECK(h.sweep() == 29);
  CHECK(h.run({"DBSIZE"}) == integer(1));
  CHECK(h.run({"INFO", "keyspace"}) == bulk("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"));
}

TEST_CASE("TYPE, FLUSHALL and FLUSHDB", "[keyspace]") {
  harness h;
  h.run({"SET", "k", "v"});
  CHECK(h.run({"TYPE", "k"}) == "+string\r\n");
  CHECK(h.run({"TYPE", "nope"}) == "+none\r\n");
  CHECK(h.run({"FLUSHALL"}) == ok);
  CHECK(h.run({"DBSIZE"}) == integer(0));
  h.run({"SET", "k", "v"});
  CHECK(h.run({"FLUSHDB", "ASYNC"}) == ok);
  CHECK(h.run({"EXISTS", "k"}) == integer(0));
  CHECK(h.run({"FLUSHALL", "NOW"}) == "-ERR syntax error\r\n");
}

TEST_CASE("EXPIREAT, PEXPIREAT, EXPIRETIME, PEXPIRETIME", "[keyspace][expiry]") {
  harness h;
  h.run({"SET", "k", "v"});
  CHECK(h.run({"EXPIRETIME", "k"}) == integer(-1));
  CHECK(h.run({"EXPIRETIME", "none"}) == integer(-2));
  auto at = h.now / 1000 + 100;
  CHECK(h.run({"EXPIREAT", "k", std::to_string(at)}) == integer(1));
  CHECK(h.run({"EXPIRETIME", "k"}) == integer(at));
  CHECK(h.run({"PEXPIRETIME", "k"}) == integer(at * 1000));
  CHECK(h.run({"PEXPIREAT", "k", std::to_string(h.now + 5000)}) == integer(1));
  CHECK(h.run({"PTTL", "k"}) == integer(5000));
  CHECK(h.run({"EXPIREAT", "k", std::to_string(at), "LT"}) == integer(0));
  CHECK(h.run({"EXPIREAT", "k", "1"}) == integer(1)); // in the past: deleted
  CHECK(h.run({"EXISTS", "k"}) == integer(0));
}

TEST_CASE("UNLINK and TOUCH work like DEL and EXISTS", "[keyspace][multikey]") {
  harness h(4);
  h.run({"MSET", "a", "1", "b", "2", "c", "3"});
  CHECK(h.run({"TOUCH", "a", "b", "zz"}) == integer(2));
  CHECK(h.run({"UNLINK", "a", "b", "zz"}) == integer(2));
  CHECK(h.run({"DBSIZE"}) == integer(1));
}

namespace {

/// Runs SCAN to the end; returns every key returned (with repeats) and the call count.
std::multiset<std::string> scan_all(otkv::test::harness& h, std::vector<std::string> extra,
                                    int& calls) {
  std::multiset<std::string> keys;
  std::string cursor = "0";
  calls = 0;
  do {
    std::vector<std::string> args{"SCAN", cursor};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = h.run(args);
    REQUIRE(r.rfind("*2\r\n$", 0) == 0);
    // *2 $len cursor *n ($len key)...
    size_t pos = r.find("\r\n", 4) + 2;
    size_t end = r.find("\r\n", pos);
    cursor = r.substr(pos, end - pos);
    pos = end + 2;
    REQUIRE(r[pos] == '*');
    end = r.find("\r\n", pos);
    int n = std::stoi(r.substr(pos + 1, end - pos - 1));
    pos = end + 2;
    for (int i = 0; i < n; ++i) {
      end = r.find("\r\n", pos);
      int len = std::stoi(r.substr(pos + 1, end - pos - 1));
      keys.insert(r.substr(end + 2, static_cast<size_t>(len)));
      pos = end + 2 + static_cast<size_t>(len) + 2;
    }
    ++calls;
    REQUIRE(calls < 100000);
  } while (cursor != "0");
  return keys;
}

} // namespace

TEST_CASE("SCAN visits every key across partitions, with MATCH and COUNT", "[keyspace][scan]") {
  harness h(4);
  for (int i = 0; i < 1000; ++i)
    h.run({"SET", "k" + std::to_string(i), "v"});
  int calls = 0;
  auto all = scan_all(h, {}, calls);
  std::set<std::string> unique(all.begin(), all.end());
  CHECK(unique.size() == 1000);
  CHECK(calls > 4);
  auto some = scan_all(h, {"MATCH", "k1*", "COUNT", "100"}, calls);
  CHECK(some.size() == 111); // k1, k10..k19, k100..k199
  CHECK(scan_all(h, {"TYPE", "hash"}, calls).empty());
  CHECK(h.run({"SCAN", "x"}) == "-ERR invalid cursor\r\n");
  CHECK(h.run({"SCAN", "0", "COUNT", "0"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"SCAN", "0", "BOGUS", "1"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"SCAN", "99999999999999999"}) == "-ERR invalid cursor\r\n");
}

TEST_CASE("SCAN keeps its promise while the keyspace grows", "[keyspace][scan]") {
  harness h(2);
  for (int i = 0; i < 100; ++i)
    h.run({"SET", "old" + std::to_string(i), "v"});
  // Scan a little, then add many keys (the tables grow), then finish.
  std::multiset<std::string> seen;
  std::string cursor = "0";
  int step = 0;
  do {
    auto r = h.run({"SCAN", cursor, "COUNT", "5"});
    size_t pos = r.find("\r\n", 4) + 2;
    cursor = r.substr(pos, r.find("\r\n", pos) - pos);
    for (int i = 0; i < 100; ++i)
      if (r.find("$" + std::to_string(3 + std::to_string(i).size()) + "\r\nold" + std::to_string(i)
                  + "\r\n") != std::string::npos)
        seen.insert("old" + std::to_string(i));
    if (++step == 3)
      for (int i = 0; i < 5000; ++i)
        h.run({"SET", "new" + std::to_string(i), "v"});
  } while (cursor != "0" && step < 100000);
  std::set<std::string> unique(seen.begin(), seen.end());
  CHECK(unique.size() == 100); // every key present throughout was returned
}

TEST_CASE("RANDOMKEY", "[keyspace]") {
  harness h(4);
  CHECK(h.run({"RANDOMKEY"}) == nil);
  h.run({"SET", "only", "v"});
  CHECK(h.run({"RANDOMKEY"}) == bulk("only"));
  for (int i = 0; i < 50; ++i)
    h.run({"SET", "k" + std::to_string(i), "v"});
  for (int i = 0; i < 20; ++i)
    CHECK(h.run({"RANDOMKEY"}).rfind("$", 0) == 0);
}

TEST_CASE("RENAME, RENAMENX, COPY, MSETNX need their keys in one partition", "[keyspace][multikey]") {
  harness h(8);
  // Keys with the same hash tag share a partition.
  h.run({"SET", "{u1}:a", "1", "EX", "100"});
  CHECK(h.run({"RENAME", "{u1}:a", "{u1}:b"}) == ok);
  CHECK(h.run({"GET", "{u1}:b"}) == bulk("1"));
  CHECK(h.run({"TTL", "{u1}:b"}) == integer(100));
  CHECK(h.run({"EXISTS", "{u1}:a"}) == integer(0));
  CHECK(h.run({"RENAME", "{u1}:none", "{u1}:x"}) == "-ERR no such key\r\n");
  h.run({"SET", "{u1}:c", "3"});
  CHECK(h.run({"RENAMENX", "{u1}:b", "{u1}:c"}) == integer(0));
  CHECK(h.run({"RENAMENX", "{u1}:b", "{u1}:d"}) == integer(1));
  CHECK(h.run({"COPY", "{u1}:d", "{u1}:c"}) == integer(0));
  CHECK(h.run({"COPY", "{u1}:d", "{u1}:c", "REPLACE"}) == integer(1));
  CHECK(h.run({"GET", "{u1}:c"}) == bulk("1"));
  CHECK(h.run({"COPY", "{u1}:d", "{u1}:e", "DB", "1"}) == "-ERR DB index is out of range\r\n");
  CHECK(h.run({"MSETNX", "{u2}:a", "1", "{u2}:b", "2"}) == integer(1));
  CHECK(h.run({"MSETNX", "{u2}:b", "9", "{u2}:c", "3"}) == integer(0));
  CHECK(h.run({"EXISTS", "{u2}:c"}) == integer(0));
  // Keys in different partitions: Redis Cluster's answer.
  std::string other;
  for (int i = 0; other.empty(); ++i) {
    auto k = "k" + std::to_string(i);
    if (otkv::store::partition_of(k, 8) != otkv::store::partition_of("{u1}:c", 8))
      other = k;
  }
  CHECK(h.run({"RENAME", "{u1}:c", other}) == "-CROSSSLOT Keys in request don't hash to the same slot\r\n");
  CHECK(h.run({"EXISTS", "{u1}:c"}) == integer(1));
}

TEST_CASE("hash tags pick the partition", "[keyspace]") {
  using otkv::store::partition_of;
  using otkv::store::routing_key;
  CHECK(routing_key("user:{42}:name") == "42");
  CHECK(routing_key("{}x") == "{}x");
  CHECK(routing_key("a{b") == "a{b");
  CHECK(routing_key("{a}{b}") == "a");
  CHECK(partition_of("user:{42}:name", 16) == partition_of("{42}", 16));
  CHECK(partition_of("user:{42}:mail", 16) == partition_of("42", 16));
}

namespace {

/// Records the partitions' mutations (what the op log would journal).
struct recording_sink : otkv::store::mutation_sink {
  std::vector<std::pair<otkv::store::mutation, std::string>> seen;
  void on_mutation(otkv::store::mutation op, std::string_view key, std::string_view,
                   int64_t) override {
    seen.emplace_back(op, std::string(key));
  }
  bool erased(const std::string& key) const {
    return std::count(seen.begin(), seen.end(), std::make_pair(otkv::store::mutation::erase, key))
           > 0;
  }
};

} // namespace

TEST_CASE("EXPIRE with a past deadline deletes the key, as Redis 7.0", "[keyspace][expiry][issue11]") {
  harness h;
  recording_sink sink;
  for (auto& p : h.parts_)
    p.set_sink(&sink);
  h.run({"SET", "k", "v"});
  CHECK(h.run({"EXPIRE", "k", "-1"}) == integer(1));
  CHECK(h.run({"EXISTS", "k"}) == integer(0));
  CHECK(sink.erased("k")); // journaled: the deletion survives a restart
  CHECK(h.run({"EXPIRE", "k", "-1"}) == integer(0)); // missing key
  h.run({"SET", "k", "v"});
  CHECK(h.run({"PEXPIRE", "k", "-9223372036854775808"}) == integer(1));
  CHECK(h.run({"EXISTS", "k"}) == integer(0));
  h.run({"SET", "k", "v"});
  CHECK(h.run({"EXPIREAT", "k", "-5"}) == integer(1));
  CHECK(h.run({"EXISTS", "k"}) == integer(0));
  h.run({"SET", "k", "v"});
  CHECK(h.run({"PEXPIREAT", "k", std::to_string(h.now)}) == integer(1)); // now is past
  CHECK(h.run({"EXISTS", "k"}) == integer(0));
  // The option is checked first; a past deadline then deletes.
  h.run({"SET", "k", "v"});
  CHECK(h.run({"EXPIRE", "k", "-1", "XX"}) == integer(0)); // no TTL: XX refuses
  CHECK(h.run({"EXPIRE", "k", "-1", "GT"}) == integer(0)); // no TTL is infinite
  CHECK(h.run({"EXISTS", "k"}) == integer(1));
  CHECK(h.run({"EXPIRE", "k", "-1", "LT"}) == integer(1)); // less than infinite
  CHECK(h.run({"EXISTS", "k"}) == integer(0));
  h.run({"SET", "k", "v"});
  CHECK(h.run({"PEXPIRE", "k", "-1", "NX"}) == integer(1));
  CHECK(h.run({"EXISTS", "k"}) == integer(0));
  h.run({"SET", "k", "v", "EX", "100"});
  CHECK(h.run({"EXPIRE", "k", "-1", "NX"}) == integer(0));
  CHECK(h.run({"EXPIRE", "k", "-1", "GT"}) == integer(0));
  CHECK(h.run({"TTL", "k"}) == integer(100));
  CHECK(h.run({"EXPIRE", "k", "-1", "XX"}) == integer(1));
  CHECK(h.run({"EXISTS", "k"}) == integer(0));
  // Options are parsed before the number; overflow is still refused.
  CHECK(h.run({"EXPIRE", "k", "abc", "YY"}) == "-ERR Unsupported option YY\r\n");
  CHECK(h.run({"EXPIRE", "k", "abc", "NX", "XX"})
        == "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
  CHECK(h.run({"EXPIRE", "k", "-9223372036854776"})
        == "-ERR invalid expire time in 'expire' command\r\n");
  CHECK(h.run({"EXPIREAT", "k", "9223372036854776"})
        == "-ERR invalid expire time in 'expireat' command\r\n");
  CHECK(h.run({"PEXPIRE", "k", "9223372036854775807"})
        == "-ERR invalid expire time in 'pexpire' command\r\n");
  h.run({"SET", "k", "v"});
  CHECK(h.run({"EXPIRE", "k", "-9223372036854775"}) == integer(1));
  CHECK(h.run({"EXISTS", "k"}) == integer(0));
}

TEST_CASE("COPY of a key onto itself is an error, as Redis", "[keyspace][issue11]") {
  harness h;
  h.run({"SET", "k", "v"});
  CHECK(h.run({"COPY", "k", "k"}) == "-ERR source and destination objects are the same\r\n");
  CHECK(h.run({"COPY", "k", "k", "REPLACE"})
        == "-ERR source and destination objects are the same\r\n");
  CHECK(h.run({"COPY", "none", "none"}) == "-ERR source and destination objects are the same\r\n");
  CHECK(h.run({"COPY", "k", "k", "BOGUS"}) == "-ERR syntax error\r\n"); // options first
  CHECK(h.run({"GET", "k"}) == bulk("v"));
}

TEST_CASE("EXPIRETIME rounds to the nearest second, as Redis", "[keyspace][expiry][issue11]") {
  harness h;
  h.run({"SET", "k", "v"});
  int64_t s = h.now / 1000 + 100;
  CHECK(h.run({"PEXPIREAT", "k", std::to_string(s * 1000 + 499)}) == integer(1));
  CHECK(h.run({"EXPIRETIME", "k"}) == integer(s));
  CHECK(h.run({"PEXPIREAT", "k", std::to_string(s * 1000 + 500)}) == integer(1));
  CHECK(h.run({"EXPIRETIME", "k"}) == integer(s + 1));
  CHECK(h.run({"PEXPIRETIME", "k"}) == integer(s * 1000 + 500));
  h.run({"SET", "k", "v", "PXAT", std::to_string(s * 1000 + 999)});
  CHECK(h.run({"EXPIRETIME", "k"}) == integer(s + 1));
  // TTL rounds the same way (it already did).
  h.run({"SET", "t", "v", "PX", "1500"});
  CHECK(h.run({"TTL", "t"}) == integer(2));
  h.run({"SET", "t", "v", "PX", "1499"});
  CHECK(h.run({"TTL", "t"}) == integer(1));
}

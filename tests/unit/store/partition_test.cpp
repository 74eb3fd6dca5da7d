#include <catch2/catch.hpp>

#include <set>

#include "store/key_hash.hpp"
#include "store/partition.hpp"

using otkv::store::partition;

TEST_CASE("put, find and erase", "[partition]") {
  partition p;
  CHECK(p.find("k", 0) == nullptr);
  p.put("k", "v", 0);
  REQUIRE(p.find("k", 0) != nullptr);
  CHECK(p.find("k", 0)->value() == "v");
  CHECK(p.find("k", 0)->key() == "k");
  CHECK(p.size() == 1);
  CHECK(p.erase("k", 0));
  CHECK_FALSE(p.erase("k", 0));
  CHECK(p.size() == 0);
}

TEST_CASE("find and put with a hash the caller computed are find and put", "[partition]") {
  using otkv::store::key_hash;
  partition p;
  for (int i = 0; i < 1000; ++i) { // through several doublings of the table
    auto key = "key:" + std::to_string(i);
    if (i % 2 == 0)
      p.put(key, key_hash(key), "v" + std::to_string(i), 0);
    else
      p.put(key, "v" + std::to_string(i), 0);
  }
  for (int i = 0; i < 1000; ++i) {
    auto key = "key:" + std::to_string(i);
    auto* by_hash = p.find(key, key_hash(key), 0);
    REQUIRE(by_hash != nullptr);
    CHECK(by_hash == p.find(key, 0));
    CHECK(by_hash->value() == "v" + std::to_string(i));
  }
  CHECK(p.find("nope", key_hash("nope"), 0) == nullptr);
}

TEST_CASE("an expired key is gone on access and counted", "[partition][expiry]") {
  partition p;
  p.put("k", "v", 1000);
  CHECK(p.expiring() == 1);
  CHECK(p.find("k", 999) != nullptr);
  CHECK(p.find("k", 1000) == nullptr);
  CHECK(p.size() == 0);
  CHECK(p.expiring() == 0);
  CHECK(p.expired_keys() == 1);
}

TEST_CASE("overwriting clears or replaces the deadline", "[partition][expiry]") {
  partition p;
  p.put("k", "v", 1000);
  p.put("k", "w", 0);
  CHECK(p.expiring() == 0);
  CHECK(p.find("k", 5000) != nullptr);
  CHECK(p.sweep(5000, 100) == 0); // the stale deadline removes nothing
  auto* e = p.find("k", 0);
  p.set_expire(*e, 2000);
  p.set_expire(*e, 3000);
  CHECK(p.expiring() == 1);
  CHECK(p.sweep(2500, 100) == 0);
  CHECK(p.sweep(3000, 100) == 1);
  CHECK(p.size() == 0);
}

TEST_CASE("the sweep removes earliest deadlines first within its budget", "[partition][expiry]") {
  partition p;
  for (int i = 0; i < 10; ++i)
    p.put("k" + std::to_string(i), "v", 100 + i);
  p.put("keep", "v", 0);
  CHECK(p.sweep(104, 3) == 3);
  CHECK(p.find("k3", 0) != nullptr);
  CHECK(p.find("k0", 0) == nullptr);
  CHECK(p.sweep(104, 100) == 2);
  CHECK(p.size() == 6);
  CHECK(p.sweep(1000, 100) == 5);
  CHECK(p.size() == 1);
}

TEST_CASE("repeatedly re-setting deadlines keeps the index bounded", "[partition][expiry]") {
  partition p;
  p.put("k", "v", 0);
  auto* e = p.find("k", 0);
  for (int i = 0; i < 100000; ++i)
    p.set_expire(*e, 5000 + (i % 2)); // two deadlines, over and over
  CHECK(p.sweep(5001, 1000000) == 1);
  CHECK(p.size() == 0);
}

TEST_CASE("for_each visits live keys only", "[partition]") {
  partition p;
  p.put("a", "1", 0);
  p.put("b", "2", 10);
  int n = 0;
  p.for_each(20, [&](const otkv::store::entry& e) {
    CHECK(e.key() == "a");
    ++n;
  });
  CHECK(n == 1);
}

TEST_CASE("the key hash is stable across builds", "[hash]") {
  // FNV-1a 64 reference values: partition numbers on disk depend on them.
  CHECK(otkv::store::key_hash("") == 14695981039346656037ull);
  CHECK(otkv::store::key_hash("a") == 0xaf63dc4c8601ec8cull);
  CHECK(otkv::store::key_hash("foobar") == 0x85944171f73967e8ull);
  CHECK(otkv::store::partition_of("foobar", 16) == 0x85944171f73967e8ull % 16);
}

TEST_CASE("values change size in place or by reallocation", "[partition]") {
  partition p;
  p.put("k", "abc", 500);
  p.put("k", "xyz", 500);                 // same size: in place
  CHECK(p.find("k", 0)->value() == "xyz");
  p.put("k", std::string(1000, 'v'), 0);  // larger: a new node, deadline cleared
  CHECK(p.find("k", 0)->value().size() == 1000);
  CHECK(p.expiring() == 0);
  CHECK(p.size() == 1);
  p.put("k", "", 0);
  CHECK(p.find("k", 0)->value().empty());
}

TEST_CASE("a partition grows through many keys and keeps them all", "[partition]") {
  partition p;
  for (int i = 0; i < 100000; ++i)
    p.put("key:" + std::to_string(i), std::to_string(i), 0);
  CHECK(p.size() == 100000);
  for (int i = 0; i < 100000; i += 997)
    REQUIRE(p.find("key:" + std::to_string(i), 0)->value() == std::to_string(i));
  for (int i = 0; i < 100000; i += 2)
    CHECK(p.erase("key:" + std::to_string(i), 0));
  CHECK(p.size() == 50000);
  size_t n = 0;
  p.for_each(0, [&](const otkv::store::entry&) { ++n; });
  CHECK(n == 50000);
  p.clear();
  CHECK(p.size() == 0);
  CHECK(p.find("key:1", 0) == nullptr);
}

TEST_CASE("keys of one partition still spread over buckets", "[partition]") {
  // Keys routed to one of 16 partitions share their low hash bits; lookups must stay
  // fast anyway (a pathological bucket choice would make this quadratic).
  partition p;
  int stored = 0;
  for (int i = 0; stored < 20000; ++i) {
    auto k = "key:" + std::to_string(i);
    if (otkv::store::partition_of(k, 16) == 3) {
      p.put(k, "v", 0);
      ++stored;
    }
  }
  CHECK(p.size() == 20000);
  CHECK(p.longest_chain() < 16);
}

TEST_CASE("the table doubles incrementally and every key stays reachable meanwhile",
          "[partition][rehash]") {
  partition p;
  std::set<std::string> present;
  bool saw_rehash = false;
  for (int i = 0; i < 20000; ++i) {
    auto k = "key:" + std::to_string(i);
    p.put(k, "v" + std::to_string(i), 0);
    present.insert(k);
    if (i % 3 == 0 && i > 0) { // erases interleave with the moving of buckets
      auto gone = "key:" + std::to_string(i / 2);
      CHECK(p.erase(gone, 0) == (present.erase(gone) == 1));
    }
    if (p.rehashing()) {
      saw_rehash = true;
      if (i % 97 == 0) // in the middle of a doubling, every key is found in one table
        for (const auto& key : present)
          REQUIRE(p.find(key, 0) != nullptr);
    }
  }
  CHECK(saw_rehash);
  CHECK(p.size() == present.size());
  size_t n = 0;
  p.for_each(0, [&](const otkv::store::entry& e) {
    ++n;
    CHECK(present.count(std::string(e.key())) == 1);
  });
  CHECK(n == present.size());
  // The sweep finishes a doubling when no writes come.
  while (p.rehashing())
    p.sweep(0, 1000);
  for (const auto& key : present)
    REQUIRE(p.find(key, 0) != nullptr);
  CHECK(p.longest_chain() < 16);
}

TEST_CASE("a scan across doublings returns every key present throughout", "[partition][rehash]") {
  partition p;
  for (int i = 0; i < 3000; ++i)
    p.put("stable:" + std::to_string(i), "v", 0);
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int added = 0, rounds = 0;
  bool scanned_while_rehashing = false;
  do {
    scanned_while_rehashing |= p.rehashing();
    cursor = p.scan(cursor, 10, 0, [&](const otkv::store::entry& e) {
      seen.insert(std::string(e.key()));
    });
    for (int j = 0; j < 40; ++j) // the table grows (several times) during the scan
      p.put("added:" + std::to_string(added++), "v", 0);
    ++rounds;
  } while (cursor != 0 && rounds < 100000);
  CHECK(cursor == 0);
  CHECK(scanned_while_rehashing);
  for (int i = 0; i < 3000; ++i)
    REQUIRE(seen.count("stable:" + std::to_string(i)) == 1);
}

TEST_CASE("clear and move in the middle of a doubling", "[partition][rehash]") {
  partition p;
  int i = 0;
  while (!p.rehashing() || i < 100)
    p.put("k" + std::to_string(i++), "v", 0);
  REQUIRE(p.rehashing());
  partition q = std::move(p);
  CHECK(q.size() == static_cast<size_t>(i));
  CHECK(q.find("k5", 0) != nullptr);
  CHECK(p.size() == 0);
  q.clear();
  CHECK_FALSE(q.rehashing());
  CHECK(q.size() == 0);
  CHECK(q.find("k5", 0) == nullptr);
  q.put("again", "v", 0);
  CHECK(q.find("again", 0)->value() == "v");
}

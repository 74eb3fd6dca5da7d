#include <catch2/catch.hpp>

#include "store/key_hash.hpp"
#include "store/partition.hpp"

using otkv::store::partition;

TEST_CASE("put, find and erase", "[partition]") {
  partition p;
  CHECK(p.find("k", 0) == nullptr);
  p.put("k", "v", 0);
  REQUIRE(p.find("k", 0) != nullptr);
  CHECK(p.find("k", 0)->value == "v");
  CHECK(p.size() == 1);
  CHECK(p.erase("k", 0));
  CHECK_FALSE(p.erase("k", 0));
  CHECK(p.size() == 0);
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
  p.set_expire("k", *e, 2000);
  p.set_expire("k", *e, 3000);
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
    p.set_expire("k", *e, 5000); // the same deadline over and over
  CHECK(p.sweep(5000, 1000000) == 1);
  CHECK(p.size() == 0);
}

TEST_CASE("for_each visits live keys only", "[partition]") {
  partition p;
  p.put("a", "1", 0);
  p.put("b", "2", 10);
  int n = 0;
  p.for_each(20, [&](const std::string& k, const otkv::store::entry&) {
    CHECK(k == "a");
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

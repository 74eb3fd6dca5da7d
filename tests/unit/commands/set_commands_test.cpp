// The set family against Redis's replies (issue 17).
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "harness.hpp"
#include "store/packed.hpp"

using namespace otkv::test;

namespace {

/// The bulk strings of a flat RESP array, as a set (order-free comparisons).
std::set<std::string> members(const std::string& r) {
  std::set<std::string> out;
  for (size_t at = r.find('$'); at != std::string::npos;) {
    auto end = r.find("\r\n", at);
    auto n = std::stoul(r.substr(at + 1, end - at - 1));
    out.insert(r.substr(end + 2, n));
    at = r.find('$', end + 2 + n);
  }
  return out;
}

} // namespace

TEST_CASE("SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD", "[set]") {
  harness h;
  CHECK(h.run({"SADD", "s", "a", "b", "a"}) == integer(2));
  CHECK(h.run({"SADD", "s", "b", "c"}) == integer(1));
  CHECK(members(h.run({"SMEMBERS", "s"})) == std::set<std::string>{"a", "b", "c"});
  CHECK(h.run({"SISMEMBER", "s", "a"}) == integer(1));
  CHECK(h.run({"SISMEMBER", "s", "z"}) == integer(0));
  CHECK(h.run({"SMISMEMBER", "s", "a", "z"}) == array({integer(1), integer(0)}));
  CHECK(h.run({"SCARD", "s"}) == integer(3));
  CHECK(h.run({"SREM", "s", "a", "z"}) == integer(1));
  CHECK(h.run({"SREM", "s", "b", "c"}) == integer(2));
  CHECK(h.run({"EXISTS", "s"}) == integer(0));
  CHECK(h.run({"SMEMBERS", "s"}) == "*0\r\n");
}

TEST_CASE("set encodings: intset, listpack, hashtable", "[set]") {
  harness h;
  h.run({"SADD", "i", "1", "2", "3"});
  CHECK(h.run({"OBJECT", "ENCODING", "i"}) == bulk("intset"));
  h.run({"SADD", "i", "x"});
  CHECK(h.run({"OBJECT", "ENCODING", "i"}) == bulk("listpack"));
  for (int k = 0; k < 200; ++k)
    h.run({"SADD", "i", "m" + std::to_string(k)});
  CHECK(h.run({"OBJECT", "ENCODING", "i"}) == bulk("hashtable"));
  CHECK(h.run({"SCARD", "i"}) == integer(204));
}

TEST_CASE("SPOP and SRANDMEMBER", "[set]") {
  harness h;
  for (int k = 0; k < 20; ++k)
    h.run({"SADD", "s", std::to_string(k)});
  CHECK(members(h.run({"SRANDMEMBER", "s", "5"})).size() == 5);
  CHECK(h.run({"SRANDMEMBER", "s", "-30"}).substr(0, 5) == "*30\r\n");
  CHECK(members(h.run({"SRANDMEMBER", "s", "50"})).size() == 20);
  auto popped = members(h.run({"SPOP", "s", "5"}));
  CHECK(popped.size() == 5);
  CHECK(h.run({"SCARD", "s"}) == integer(15));
  for (const auto& m : popped)
    CHECK(h.run({"SISMEMBER", "s", m}) == integer(0));
  CHECK(h.run({"SPOP", "s", "-1"}) == "-ERR value is out of range, must be positive\r\n");
  CHECK(members(h.run({"SPOP", "s", "100"})).size() == 15);
  CHECK(h.run({"EXISTS", "s"}) == integer(0));
  CHECK(h.run({"SPOP", "s"}) == nil);
  CHECK(h.run({"SPOP", "s", "3"}) == "*0\r\n");
  CHECK(h.run({"SRANDMEMBER", "s"}) == nil);
}

TEST_CASE("SINTER, SUNION, SDIFF across partitions", "[set]") {
  harness h(8);
  h.run({"SADD", "a", "1", "2", "3", "4"});
  h.run({"SADD", "b", "3", "4", "5"});
  h.run({"SADD", "c", "4", "6"});
  CHECK(members(h.run({"SINTER", "a", "b", "c"})) == std::set<std::string>{"4"});
  CHECK(members(h.run({"SINTER", "a", "b"})) == std::set<std::string>{"3", "4"});
  CHECK(members(h.run({"SUNION", "a", "c"})) == std::set<std::string>{"1", "2", "3", "4", "6"});
  CHECK(members(h.run({"SDIFF", "a", "b", "c"})) == std::set<std::string>{"1", "2"});
  CHECK(members(h.run({"SDIFF", "a"})) == std::set<std::string>{"1", "2", "3", "4"});
  CHECK(h.run({"SINTER", "a", "nokey"}) == "*0\r\n");
  CHECK(members(h.run({"SUNION", "nokey", "c"})) == std::set<std::string>{"4", "6"});
  h.run({"SET", "str", "v"});
  CHECK(h.run({"SINTER", "a", "str"}) == wrongtype);
  CHECK(h.run({"SINTER", "nokey", "str"}) == wrongtype); // as Redis: every key is checked
}

TEST_CASE("the STORE forms, SMOVE and SINTERCARD in one partition", "[set]") {
  harness h(1);
  h.run({"SADD", "a", "1", "2", "3"});
  h.run({"SADD", "b", "2", "3", "4"});
  CHECK(h.run({"SINTERSTORE", "d", "a", "b"}) == integer(2));
  CHECK(members(h.run({"SMEMBERS", "d"})) == std::set<std::string>{"2", "3"});
  CHECK(h.run({"SUNIONSTORE", "d", "a", "b"}) == integer(4));
  CHECK(h.run({"SDIFFSTORE", "d", "a", "b"}) == integer(1));
  CHECK(h.run({"SINTERSTORE", "d", "a", "nokey"}) == integer(0));
  CHECK(h.run({"EXISTS", "d"}) == integer(0));
  CHECK(h.run({"SINTERCARD", "2", "a", "b"}) == integer(2));
  CHECK(h.run({"SINTERCARD", "2", "a", "b", "LIMIT", "1"}) == integer(1));
  CHECK(h.run({"SINTERCARD", "0", "a"}) == "-ERR numkeys should be greater than 0\r\n");
  CHECK(h.run({"SINTERCARD", "3", "a", "b"})
        == "-ERR Number of keys can't be greater than number of args\r\n");
  CHECK(h.run({"SINTERCARD", "2", "a", "b", "LIMIT", "-1"}) == "-ERR LIMIT can't be negative\r\n");
  CHECK(h.run({"SMOVE", "a", "b", "1"}) == integer(1));
  CHECK(h.run({"SMOVE", "a", "b", "1"}) == integer(0));
  CHECK(h.run({"SISMEMBER", "b", "1"}) == integer(1));
  h.run({"SET", "str", "v"});
  CHECK(h.run({"SMOVE", "a", "str", "2"}) == wrongtype);
  CHECK(h.run({"SISMEMBER", "a", "2"}) == integer(1));
}

TEST_CASE("keys of different partitions: the STORE forms answer CROSSSLOT", "[set]") {
  harness h(8);
  auto r = h.run({"SUNIONSTORE", "{x}d", "{y}a", "{z}b"});
  CHECK(r.rfind("-CROSSSLOT", 0) == 0);
}

TEST_CASE("SSCAN visits every member", "[set]") {
  harness h;
  for (int k = 0; k < 600; ++k)
    h.run({"SADD", "s", "m" + std::to_string(k)});
  std::set<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    auto r = h.run({"SSCAN", "s", cursor, "COUNT", "40"});
    auto first = r.find("\r\n", 4);
    auto len_at = r.find('$') + 1;
    auto len = std::stoul(r.substr(len_at, first - len_at));
    cursor = r.substr(first + 2, len);
    for (const auto& m : members(r.substr(first + 2 + len)))
      seen.insert(m);
    ++calls;
  } while (cursor != "0" && calls < 1000);
  CHECK(seen.size() == 600);
}

namespace {

/// The element changes the partitions report (what the op log would journal), decoded.
struct change_sink : otkv::store::mutation_sink {
  std::vector<std::vector<std::string>> changes;
  void on_mutation(otkv::store::mutation op, std::string_view, std::string_view value,
                   int64_t) override {
    if (op != otkv::store::mutation::element)
      return;
    otkv::store::packed_reader r{value};
    std::vector<std::string> words;
    while (r.ok && !r.done())
      words.emplace_back(r.string());
    changes.push_back(std::move(words));
  }
};

} // namespace

TEST_CASE("SADD records only the members it added, and nothing when it added none",
          "[set]") {
  harness h;
  change_sink sink;
  for (auto& p : h.parts_)
    p.set_sink(&sink);
  CHECK(h.run({"SADD", "s", "a", "b"}) == integer(2));
  CHECK(h.run({"SADD", "s", "b", "c", "c"}) == integer(1));
  CHECK(h.run({"SADD", "s", "a", "b", "c"}) == integer(0));
  using words = std::vector<std::string>;
  REQUIRE(sink.changes.size() == 2);
  CHECK(sink.changes[0] == words{"sadd", "a", "b"});
  CHECK(sink.changes[1] == words{"sadd", "c"});
  CHECK(members(h.run({"SMEMBERS", "s"})) == std::set<std::string>{"a", "b", "c"});
}

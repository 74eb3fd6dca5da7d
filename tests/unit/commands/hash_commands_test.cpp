// The hash family against Redis's replies (issue 17).
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "harness.hpp"

using namespace otkv::test;

TEST_CASE("HSET, HGET, HMGET, HGETALL, HLEN, HEXISTS, HSTRLEN", "[hash]") {
  harness h;
  CHECK(h.run({"HSET", "h", "a", "1", "b", "2"}) == integer(2));
  CHECK(h.run({"HSET", "h", "a", "10", "c", "3"}) == integer(1));
  CHECK(h.run({"HGET", "h", "a"}) == bulk("10"));
  CHECK(h.run({"HGET", "h", "zz"}) == nil);
  CHECK(h.run({"HGET", "nokey", "a"}) == nil);
  CHECK(h.run({"HMGET", "h", "a", "zz", "c"}) == array({bulk("10"), nil, bulk("3")}));
  CHECK(h.run({"HGETALL", "h"}) == bulks({"a", "10", "b", "2", "c", "3"}));
  CHECK(h.run({"HKEYS", "h"}) == bulks({"a", "b", "c"}));
  CHECK(h.run({"HVALS", "h"}) == bulks({"10", "2", "3"}));
  CHECK(h.run({"HGETALL", "nokey"}) == "*0\r\n");
  CHECK(h.run({"HLEN", "h"}) == integer(3));
  CHECK(h.run({"HEXISTS", "h", "b"}) == integer(1));
  CHECK(h.run({"HEXISTS", "h", "x"}) == integer(0));
  CHECK(h.run({"HSTRLEN", "h", "a"}) == integer(2));
  CHECK(h.run({"HSET", "h", "a"}) == "-ERR wrong number of arguments for 'hset' command\r\n");
  CHECK(h.run({"HSET", "h", "a", "1", "b"})
        == "-ERR wrong number of arguments for 'hset' command\r\n");
  CHECK(h.run({"HMSET", "h", "d", "4"}) == ok);
  CHECK(h.run({"HSETNX", "h", "d", "5"}) == integer(0));
  CHECK(h.run({"HSETNX", "h", "e", "5"}) == integer(1));
  CHECK(h.run({"HGET", "h", "e"}) == bulk("5"));
}

TEST_CASE("HDEL removes fields, and the key with the last one", "[hash]") {
  harness h;
  h.run({"HSET", "h", "a", "1", "b", "2"});
  CHECK(h.run({"HDEL", "h", "a", "a", "zz"}) == integer(1));
  CHECK(h.run({"HDEL", "nokey", "a"}) == integer(0));
  CHECK(h.run({"EXISTS", "h"}) == integer(1));
  CHECK(h.run({"HDEL", "h", "b"}) == integer(1));
  CHECK(h.run({"EXISTS", "h"}) == integer(0));
  CHECK(h.run({"TYPE", "h"}) == "+none\r\n");
}

TEST_CASE("HINCRBY and HINCRBYFLOAT", "[hash]") {
  harness h;
  CHECK(h.run({"HINCRBY", "h", "n", "5"}) == integer(5));
  CHECK(h.run({"HINCRBY", "h", "n", "-7"}) == integer(-2));
  CHECK(h.run({"HINCRBY", "h", "n", "x"}) == "-ERR value is not an integer or out of range\r\n");
  h.run({"HSET", "h", "s", "abc", "big", "9223372036854775807"});
  CHECK(h.run({"HINCRBY", "h", "s", "1"}) == "-ERR hash value is not an integer\r\n");
  CHECK(h.run({"HINCRBY", "h", "big", "1"}) == "-ERR increment or decrement would overflow\r\n");
  CHECK(h.run({"HINCRBYFLOAT", "h", "f", "1.5"}) == bulk("1.5"));
  CHECK(h.run({"HINCRBYFLOAT", "h", "f", "1e2"}) == bulk("101.5"));
  CHECK(h.run({"HINCRBYFLOAT", "h", "s", "1"}) == "-ERR hash value is not a float\r\n");
  CHECK(h.run({"HINCRBYFLOAT", "h", "f", "x"}) == "-ERR value is not a valid float\r\n");
  CHECK(h.run({"HINCRBYFLOAT", "h", "f", "inf"}) == "-ERR value is NaN or Infinity\r\n");
  CHECK(h.run({"HGET", "h", "f"}) == bulk("101.5"));
}

TEST_CASE("HRANDFIELD", "[hash]") {
  harness h;
  CHECK(h.run({"HRANDFIELD", "nokey"}) == nil);
  CHECK(h.run({"HRANDFIELD", "nokey", "3"}) == "*0\r\n");
  for (int i = 0; i < 10; ++i)
    h.run({"HSET", "h", "f" + std::to_string(i), "v" + std::to_string(i)});
  CHECK(h.run({"HRANDFIELD", "h", "0"}) == "*0\r\n");
  CHECK(h.run({"HRANDFIELD", "h", "3"}).substr(0, 4) == "*3\r\n");
  CHECK(h.run({"HRANDFIELD", "h", "30"}).substr(0, 5) == "*10\r\n");
  CHECK(h.run({"HRANDFIELD", "h", "-30"}).substr(0, 5) == "*30\r\n");
  CHECK(h.run({"HRANDFIELD", "h", "2", "WITHVALUES"}).substr(0, 4) == "*4\r\n");
  CHECK(h.run({"HRANDFIELD", "h", "2", "nope"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"HRANDFIELD", "h", "x"}) == "-ERR value is not an integer or out of range\r\n");
  // A negative count repeats picks: bounded, so one request cannot build a huge reply.
  CHECK(h.run({"HRANDFIELD", "h", "-16777217"}) == "-ERR value is out of range\r\n");
  CHECK(h.run({"HRANDFIELD", "h", "-9223372036854775808"}) == "-ERR value is out of range\r\n");
  // Distinct fields for a positive count.
  auto r = h.run({"HRANDFIELD", "h", "5"});
  std::set<std::string> fields;
  for (size_t at = r.find("$2\r\n"); at != std::string::npos; at = r.find("$2\r\n", at + 1))
    fields.insert(r.substr(at + 4, 2));
  CHECK(fields.size() == 5);
}

TEST_CASE("HSCAN visits every field of a large hash", "[hash]") {
  harness h;
  for (int i = 0; i < 1000; ++i)
    h.run({"HSET", "h", "f" + std::to_string(i), "v"});
  std::set<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    auto r = h.run({"HSCAN", "h", cursor, "COUNT", "50"});
    auto first = r.find("\r\n", 4);
    auto len_at = r.find('$') + 1;
    auto len = std::stoul(r.substr(len_at, first - len_at));
    cursor = r.substr(first + 2, len);
    for (size_t at = r.find("$", first + 2 + len); at != std::string::npos;) {
      auto end = r.find("\r\n", at);
      auto n = std::stoul(r.substr(at + 1, end - at - 1));
      auto text = r.substr(end + 2, n);
      if (text[0] == 'f')
        seen.insert(text);
      at = r.find("$", end + 2 + n);
    }
    ++calls;
  } while (cursor != "0" && calls < 1000);
  CHECK(seen.size() == 1000);
  CHECK(calls > 5);
  CHECK(h.run({"HSCAN", "h", "0", "MATCH", "f99", "COUNT", "2000"}).find("f99") != std::string::npos);
  CHECK(h.run({"HSCAN", "h", "x"}) == "-ERR invalid cursor\r\n");
  CHECK(h.run({"HSCAN", "h", "0", "COUNT", "0"}) == "-ERR syntax error\r\n");
}

TEST_CASE("hash commands on other types answer WRONGTYPE, and the reverse", "[hash][types]") {
  harness h;
  h.run({"SET", "s", "v"});
  h.run({"HSET", "h", "a", "1"});
  for (auto cmd : {std::vector<std::string>{"HSET", "s", "a", "1"}, {"HGET", "s", "a"},
                   {"HGETALL", "s"}, {"HDEL", "s", "a"}, {"HLEN", "s"}, {"HINCRBY", "s", "a", "1"},
                   {"HSCAN", "s", "0"}, {"HRANDFIELD", "s"}, {"GET", "h"}, {"INCR", "h"},
                   {"APPEND", "h", "x"}, {"STRLEN", "h"}, {"GETRANGE", "h", "0", "1"},
                   {"SETRANGE", "h", "0", "x"}, {"GETDEL", "h"}, {"GETSET", "h", "x"},
                   {"SET", "h", "x", "GET"}, {"INCRBYFLOAT", "h", "1"}, {"LPUSH", "h", "x"},
                   {"SADD", "h", "x"}})
    CHECK(h.run(cmd) == wrongtype);
  CHECK(h.run({"MGET", "h", "s"}) == array({nil, bulk("v")}));
  CHECK(h.run({"HGET", "h", "a"}) == bulk("1")); // untouched by the refusals
  CHECK(h.run({"SET", "h", "x"}) == ok);           // SET replaces any type
  CHECK(h.run({"TYPE", "h"}) == "+string\r\n");
}

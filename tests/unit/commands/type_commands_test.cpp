// Keyspace commands over every type (issue 17): TYPE, OBJECT, COPY, RENAME, EXPIRE,
// SCAN TYPE, DEL, and WATCH seeing an element change.
#include <catch2/catch.hpp>

#include <string>

#include "harness.hpp"

using namespace otkv::test;

TEST_CASE("TYPE names every type; OBJECT ENCODING and REFCOUNT", "[types]") {
  harness h;
  h.run({"SET", "s", "v"});
  h.run({"HSET", "h", "f", "v"});
  h.run({"RPUSH", "l", "a"});
  h.run({"SADD", "t", "m"});
  CHECK(h.run({"TYPE", "s"}) == "+string\r\n");
  CHECK(h.run({"TYPE", "h"}) == "+hash\r\n");
  CHECK(h.run({"TYPE", "l"}) == "+list\r\n");
  CHECK(h.run({"TYPE", "t"}) == "+set\r\n");
  CHECK(h.run({"TYPE", "none"}) == "+none\r\n");
  CHECK(h.run({"OBJECT", "ENCODING", "s"}) == bulk("embstr"));
  CHECK(h.run({"OBJECT", "ENCODING", "h"}) == bulk("listpack"));
  CHECK(h.run({"OBJECT", "encoding", "t"}) == bulk("listpack"));
  CHECK(h.run({"OBJECT", "ENCODING", "none"}) == nil);
  CHECK(h.run({"OBJECT", "REFCOUNT", "h"}) == integer(1));
  CHECK(h.run({"OBJECT", "HELP"}).substr(0, 4) == "*9\r\n");
  CHECK(h.run({"OBJECT", "FOO", "h"}) == "-ERR unknown subcommand 'FOO'. Try OBJECT HELP.\r\n");
  CHECK(h.run({"MEMORY", "USAGE", "none"}) == nil);
  CHECK(h.run({"MEMORY", "USAGE", "s"}) == integer(32 + 1 + 1));
  auto small = h.run({"MEMORY", "USAGE", "h"});
  for (int i = 0; i < 1000; ++i)
    h.run({"HSET", "h", "field:" + std::to_string(i), "value"});
  CHECK(std::stoll(h.run({"MEMORY", "USAGE", "h"}).substr(1)) > 1000 * 16);
  CHECK(std::stoll(small.substr(1)) < 100);
  CHECK(h.run({"MEMORY", "USAGE", "h", "SAMPLES"}) == "-ERR syntax error\r\n");
}

TEST_CASE("COPY and RENAME move aggregates whole; the copy is independent", "[types]") {
  harness h(1);
  h.run({"HSET", "h", "a", "1", "b", "2"});
  CHECK(h.run({"COPY", "h", "h2"}) == integer(1));
  h.run({"HSET", "h", "a", "changed"});
  CHECK(h.run({"HGET", "h2", "a"}) == bulk("1"));
  CHECK(h.run({"RENAME", "h2", "h3"}) == ok);
  CHECK(h.run({"EXISTS", "h2"}) == integer(0));
  CHECK(h.run({"HGETALL", "h3"}) == bulks({"a", "1", "b", "2"}));
  h.run({"RPUSH", "l", "x", "y"});
  CHECK(h.run({"RENAME", "l", "h3"}) == ok); // replaces the hash
  CHECK(h.run({"TYPE", "h3"}) == "+list\r\n");
  CHECK(h.run({"COPY", "h3", "h", "REPLACE"}) == integer(1));
  CHECK(h.run({"LRANGE", "h", "0", "-1"}) == bulks({"x", "y"}));
}

TEST_CASE("EXPIRE, TTL and PERSIST on aggregates; expiry removes them", "[types][expiry]") {
  harness h;
  h.run({"SADD", "s", "m"});
  CHECK(h.run({"EXPIRE", "s", "10"}) == integer(1));
  CHECK(h.run({"TTL", "s"}) == integer(10));
  CHECK(h.run({"SADD", "s", "n"}) == integer(1)); // a change keeps the deadline
  CHECK(h.run({"TTL", "s"}) == integer(10));
  h.now += 11000;
  CHECK(h.run({"SCARD", "s"}) == integer(0));
  CHECK(h.run({"EXISTS", "s"}) == integer(0));
  h.run({"HSET", "h", "f", "v"});
  h.run({"PEXPIRE", "h", "100"});
  CHECK(h.run({"PERSIST", "h"}) == integer(1));
  CHECK(h.run({"TTL", "h"}) == integer(-1));
  CHECK(h.run({"DEL", "h"}) == integer(1));
  CHECK(h.run({"HLEN", "h"}) == integer(0));
}

TEST_CASE("SCAN TYPE picks keys of one type", "[types]") {
  harness h(1);
  h.run({"SET", "s", "v"});
  h.run({"HSET", "h", "f", "v"});
  h.run({"RPUSH", "l", "a"});
  CHECK(h.run({"SCAN", "0", "TYPE", "hash"}) == array({bulk("0"), bulks({"h"})}));
  CHECK(h.run({"SCAN", "0", "TYPE", "LIST"}) == array({bulk("0"), bulks({"l"})}));
  CHECK(h.run({"SCAN", "0", "TYPE", "string"}) == array({bulk("0"), bulks({"s"})}));
  CHECK(h.run({"SCAN", "0", "TYPE", "zset"}) == array({bulk("0"), "*0\r\n"}));
}

TEST_CASE("WATCH sees an element change of a watched aggregate", "[types][transactions]") {
  harness h;
  h.run({"HSET", "h", "f", "1"});
  CHECK(h.run({"WATCH", "h"}) == ok);
  h.run({"HSET", "h", "f", "2"}); // (another client, as far as the key knows)
  CHECK(h.run({"MULTI"}) == ok);
  CHECK(h.run({"HGET", "h", "f"}) == "+QUEUED\r\n");
  CHECK(h.run({"EXEC"}) == "*-1\r\n");
  CHECK(h.run({"MULTI"}) == ok);
  h.run({"HINCRBY", "h", "f", "5"});
  h.run({"LPUSH", "l", "x"});
  CHECK(h.run({"EXEC"}) == array({integer(7), integer(1)}));
}

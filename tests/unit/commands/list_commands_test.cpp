// The list family against Redis's replies (issue 17).
#include <catch2/catch.hpp>

#include <string>

#include "harness.hpp"

using namespace otkv::test;

TEST_CASE("LPUSH, RPUSH, LRANGE, LLEN, LINDEX", "[list]") {
  harness h;
  CHECK(h.run({"RPUSH", "l", "a", "b"}) == integer(2));
  CHECK(h.run({"LPUSH", "l", "y", "z"}) == integer(4));
  CHECK(h.run({"LRANGE", "l", "0", "-1"}) == bulks({"z", "y", "a", "b"}));
  CHECK(h.run({"LRANGE", "l", "1", "2"}) == bulks({"y", "a"}));
  CHECK(h.run({"LRANGE", "l", "-2", "100"}) == bulks({"a", "b"}));
  CHECK(h.run({"LRANGE", "l", "3", "1"}) == "*0\r\n");
  CHECK(h.run({"LRANGE", "l", "9", "10"}) == "*0\r\n");
  CHECK(h.run({"LRANGE", "nokey", "0", "-1"}) == "*0\r\n");
  CHECK(h.run({"LRANGE", "l", "x", "1"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(h.run({"LLEN", "l"}) == integer(4));
  CHECK(h.run({"LLEN", "nokey"}) == integer(0));
  CHECK(h.run({"LINDEX", "l", "0"}) == bulk("z"));
  CHECK(h.run({"LINDEX", "l", "-1"}) == bulk("b"));
  CHECK(h.run({"LINDEX", "l", "4"}) == nil);
  CHECK(h.run({"LPUSHX", "nokey", "a"}) == integer(0));
  CHECK(h.run({"RPUSHX", "l", "c"}) == integer(5));
  CHECK(h.run({"EXISTS", "nokey"}) == integer(0));
}

TEST_CASE("LPOP and RPOP, with and without a count", "[list]") {
  harness h;
  h.run({"RPUSH", "l", "a", "b", "c", "d"});
  CHECK(h.run({"LPOP", "l"}) == bulk("a"));
  CHECK(h.run({"RPOP", "l"}) == bulk("d"));
  CHECK(h.run({"LPOP", "l", "0"}) == "*0\r\n");
  CHECK(h.run({"RPOP", "l", "5"}) == bulks({"c", "b"}));
  CHECK(h.run({"EXISTS", "l"}) == integer(0));
  CHECK(h.run({"LPOP", "l"}) == nil);
  CHECK(h.run({"LPOP", "l", "2"}) == "*-1\r\n");
  CHECK(h.run({"LPOP", "l", "-1"}) == "-ERR value is out of range, must be positive\r\n");
  CHECK(h.run({"LPOP", "l", "1", "2"}) == "-ERR wrong number of arguments for 'lpop' command\r\n");
}

TEST_CASE("LSET, LINSERT, LREM, LTRIM", "[list]") {
  harness h;
  h.run({"RPUSH", "l", "a", "b", "a", "c", "a"});
  CHECK(h.run({"LSET", "l", "1", "B"}) == ok);
  CHECK(h.run({"LSET", "l", "-1", "A"}) == ok);
  CHECK(h.run({"LSET", "l", "9", "x"}) == "-ERR index out of range\r\n");
  CHECK(h.run({"LSET", "nokey", "0", "x"}) == "-ERR no such key\r\n");
  CHECK(h.run({"LRANGE", "l", "0", "-1"}) == bulks({"a", "B", "a", "c", "A"}));
  CHECK(h.run({"LINSERT", "l", "BEFORE", "c", "x"}) == integer(6));
  CHECK(h.run({"LINSERT", "l", "after", "A", "end"}) == integer(7));
  CHECK(h.run({"LINSERT", "l", "after", "nothere", "y"}) == integer(-1));
  CHECK(h.run({"LINSERT", "nokey", "after", "a", "y"}) == integer(0));
  CHECK(h.run({"LINSERT", "l", "middle", "a", "y"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"LRANGE", "l", "0", "-1"}) == bulks({"a", "B", "a", "x", "c", "A", "end"}));
  CHECK(h.run({"LREM", "l", "-1", "a"}) == integer(1));
  CHECK(h.run({"LRANGE", "l", "0", "-1"}) == bulks({"a", "B", "x", "c", "A", "end"}));
  h.run({"RPUSH", "l", "a", "a"});
  CHECK(h.run({"LREM", "l", "0", "a"}) == integer(3));
  CHECK(h.run({"LTRIM", "l", "1", "-2"}) == ok);
  CHECK(h.run({"LRANGE", "l", "0", "-1"}) == bulks({"x", "c", "A"}));
  CHECK(h.run({"LTRIM", "l", "5", "10"}) == ok);
  CHECK(h.run({"EXISTS", "l"}) == integer(0));
}

TEST_CASE("LPOS with RANK, COUNT and MAXLEN", "[list]") {
  harness h;
  h.run({"RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"});
  CHECK(h.run({"LPOS", "l", "c"}) == integer(2));
  CHECK(h.run({"LPOS", "l", "c", "RANK", "2"}) == integer(6));
  CHECK(h.run({"LPOS", "l", "c", "RANK", "-1"}) == integer(7));
  CHECK(h.run({"LPOS", "l", "c", "COUNT", "0"})
        == array({integer(2), integer(6), integer(7)}));
  CHECK(h.run({"LPOS", "l", "c", "COUNT", "2", "RANK", "-1"}) == array({integer(7), integer(6)}));
  CHECK(h.run({"LPOS", "l", "c", "MAXLEN", "2"}) == nil);
  CHECK(h.run({"LPOS", "l", "x", "COUNT", "1"}) == "*0\r\n");
  CHECK(h.run({"LPOS", "l", "c", "RANK", "0"}).rfind("-ERR RANK can't be zero", 0) == 0);
  CHECK(h.run({"LPOS", "l", "c", "COUNT", "-1"}) == "-ERR COUNT can't be negative\r\n");
  CHECK(h.run({"LPOS", "nokey", "c"}) == nil);
}

TEST_CASE("LMOVE and RPOPLPUSH", "[list]") {
  harness h(1); // both keys in one partition
  h.run({"RPUSH", "src", "a", "b", "c"});
  CHECK(h.run({"LMOVE", "src", "dst", "LEFT", "RIGHT"}) == bulk("a"));
  CHECK(h.run({"RPOPLPUSH", "src", "dst"}) == bulk("c"));
  CHECK(h.run({"LRANGE", "dst", "0", "-1"}) == bulks({"c", "a"}));
  CHECK(h.run({"LMOVE", "src", "src", "LEFT", "RIGHT"}) == bulk("b")); // rotate one item
  CHECK(h.run({"LRANGE", "src", "0", "-1"}) == bulks({"b"}));
  CHECK(h.run({"LMOVE", "nokey", "dst", "LEFT", "LEFT"}) == nil);
  CHECK(h.run({"LMOVE", "src", "dst", "UP", "LEFT"}) == "-ERR syntax error\r\n");
  h.run({"SET", "str", "v"});
  CHECK(h.run({"LMOVE", "src", "str", "LEFT", "LEFT"}) == wrongtype);
  CHECK(h.run({"LLEN", "src"}) == integer(1)); // nothing popped
}

TEST_CASE("a list of 10000 items crosses many nodes", "[list]") {
  harness h;
  for (int i = 0; i < 10000; ++i)
    h.run({"RPUSH", "l", std::to_string(i)});
  CHECK(h.run({"LINDEX", "l", "5000"}) == bulk("5000"));
  CHECK(h.run({"LINDEX", "l", "-1"}) == bulk("9999"));
  CHECK(h.run({"LRANGE", "l", "4999", "5001"}) == bulks({"4999", "5000", "5001"}));
  CHECK(h.run({"LSET", "l", "7000", "x"}) == ok);
  CHECK(h.run({"LINDEX", "l", "7000"}) == bulk("x"));
  CHECK(h.run({"LTRIM", "l", "100", "-101"}) == ok);
  CHECK(h.run({"LLEN", "l"}) == integer(9800));
  CHECK(h.run({"LINDEX", "l", "0"}) == bulk("100"));
  CHECK(h.run({"OBJECT", "ENCODING", "l"}) == bulk("quicklist"));
}

TEST_CASE("blocking pops where they may not wait (MULTI, scripts) answer at once", "[list][blocking]") {
  harness h; // runs requests as a transaction would: nothing may wait
  h.run({"RPUSH", "{t}l", "a", "b"});
  CHECK(h.run({"BLPOP", "{t}none", "{t}l", "0"}) == array({bulk("{t}l"), bulk("a")}));
  CHECK(h.run({"BRPOP", "{t}l", "1.5"}) == array({bulk("{t}l"), bulk("b")}));
  CHECK(h.run({"BLPOP", "{t}l", "0"}) == "*-1\r\n"); // its timeout's answer
  h.run({"RPUSH", "{t}l", "x"});
  CHECK(h.run({"BLMOVE", "{t}l", "{t}m", "RIGHT", "LEFT", "0"}) == bulk("x"));
  CHECK(h.run({"BRPOPLPUSH", "{t}l", "{t}m", "0"}) == "$-1\r\n"); // a null bulk, as Redis
  CHECK(h.run({"BLMPOP", "0", "2", "{t}l", "{t}m", "LEFT", "COUNT", "5"})
        == array({bulk("{t}m"), bulks({"x"})}));
  CHECK(h.run({"BLPOP", "{t}l", "-1"}) == "-ERR timeout is negative\r\n");
  CHECK(h.run({"BLPOP", "{t}l", "x"}) == "-ERR timeout is not a float or out of range\r\n");
  CHECK(h.run({"BLPOP", "{t}l", "1e300"}) == "-ERR timeout is out of range\r\n");
  CHECK(h.run({"BLMOVE", "{t}l", "{t}m", "UP", "LEFT", "0"}) == "-ERR syntax error\r\n");
  h.run({"SET", "{t}s", "v"});
  CHECK(h.run({"BLPOP", "{t}s", "0"}).rfind("-WRONGTYPE", 0) == 0);
  otkv::cmd::key_router router(4);
  std::string other = "o";
  while (router.target_of(other, true) == router.target_of("{t}l", true))
    other += "o";
  CHECK(h.run({"BLPOP", "{t}l", other, "0"}).rfind("-CROSSSLOT", 0) == 0);
  CHECK(h.run({"COMMAND", "INFO", "blpop"}).find("blocking") != std::string::npos);
}

TEST_CASE("blocking sorted-set pops where they may not wait answer at once", "[zset][blocking]") {
  harness h;
  h.run({"ZADD", "{t}z", "1", "a", "2", "b", "3", "c"});
  CHECK(h.run({"BZPOPMIN", "{t}none", "{t}z", "0"}) == bulks({"{t}z", "a", "1"}));
  CHECK(h.run({"BZPOPMAX", "{t}z", "0"}) == bulks({"{t}z", "c", "3"}));
  CHECK(h.run({"BZMPOP", "0", "1", "{t}z", "MIN", "COUNT", "3"})
        == array({bulk("{t}z"), array({bulks({"b", "2"})})}));
  CHECK(h.run({"BZPOPMIN", "{t}z", "0"}) == "*-1\r\n");
  CHECK(h.run({"BZMPOP", "-1", "1", "{t}z", "MIN"}) == "-ERR timeout is negative\r\n");
  CHECK(h.run({"BZMPOP", "0", "0", "{t}z", "MIN"}) == "-ERR numkeys should be greater than 0\r\n");
}

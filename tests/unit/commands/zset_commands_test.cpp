// The sorted-set family against Redis's replies (issue 17).
#include <catch2/catch.hpp>

#include <string>

#include "harness.hpp"

using namespace otkv::test;

TEST_CASE("ZADD and its options, ZSCORE, ZINCRBY, ZCARD, ZREM", "[zset]") {
  harness h;
  CHECK(h.run({"ZADD", "z", "1", "a", "2", "b", "3", "c"}) == integer(3));
  CHECK(h.run({"ZADD", "z", "5", "a", "4", "d"}) == integer(1));
  CHECK(h.run({"ZADD", "z", "CH", "6", "a", "7", "e"}) == integer(2));
  CHECK(h.run({"ZADD", "z", "NX", "0", "a"}) == integer(0));
  CHECK(h.run({"ZADD", "z", "XX", "0", "nope"}) == integer(0));
  CHECK(h.run({"ZADD", "z", "GT", "CH", "1", "a"}) == integer(0));
  CHECK(h.run({"ZADD", "z", "LT", "CH", "1", "a"}) == integer(1));
  CHECK(h.run({"ZSCORE", "z", "a"}) == bulk("1"));
  CHECK(h.run({"ZADD", "z", "INCR", "2.5", "a"}) == bulk("3.5"));
  CHECK(h.run({"ZADD", "z", "NX", "INCR", "1", "a"}) == nil);
  CHECK(h.run({"ZINCRBY", "z", "0.1", "b"}) == bulk("2.1000000000000001"));
  CHECK(h.run({"ZSCORE", "z", "nope"}) == nil);
  CHECK(h.run({"ZMSCORE", "z", "c", "nope"}) == array({bulk("3"), nil}));
  CHECK(h.run({"ZCARD", "z"}) == integer(5));
  CHECK(h.run({"ZADD", "z", "NX", "XX", "1", "a"})
        == "-ERR XX and NX options at the same time are not compatible\r\n");
  CHECK(h.run({"ZADD", "z", "GT", "LT", "1", "a"})
        == "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n");
  CHECK(h.run({"ZADD", "z", "INCR", "1", "a", "2", "b"})
        == "-ERR INCR option supports a single increment-element pair\r\n");
  CHECK(h.run({"ZADD", "z", "x", "a"}) == "-ERR value is not a valid float\r\n");
  // Out of a double's range: refused as a score or a weight, read as ±inf as a bound.
  CHECK(h.run({"ZADD", "z", "1e500", "a"}) == "-ERR value is not a valid float\r\n");
  CHECK(h.run({"ZADD", "z", "1e-500", "a"}) == "-ERR value is not a valid float\r\n");
  CHECK(h.run({"ZINCRBY", "z", "-1e500", "a"}) == "-ERR value is not a valid float\r\n");
  CHECK(h.run({"ZUNIONSTORE", "{z}u", "1", "z", "WEIGHTS", "1e500"})
        == "-ERR weight value is not a float\r\n");
  CHECK(h.run({"ZCOUNT", "z", "-1e500", "1e500"}) == integer(5));
  CHECK(h.run({"ZADD", "z", "1"}) == "-ERR wrong number of arguments for 'zadd' command\r\n");
  CHECK(h.run({"ZADD", "z", "NX", "1"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"ZADD", "z", "inf", "i", "-inf", "j"}) == integer(2));
  CHECK(h.run({"ZSCORE", "z", "i"}) == bulk("inf"));
  CHECK(h.run({"ZINCRBY", "z", "-inf", "i"}) == "-ERR resulting score is not a number (NaN)\r\n");
  CHECK(h.run({"ZREM", "z", "i", "j", "nope"}) == integer(2));
  CHECK(h.run({"ZADD", "gone", "XX", "1", "a"}) == integer(0));
  CHECK(h.run({"EXISTS", "gone"}) == integer(0));
}

TEST_CASE("ZRANGE by rank, score and lex, with REV, LIMIT and WITHSCORES", "[zset]") {
  harness h;
  h.run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"});
  CHECK(h.run({"ZRANGE", "z", "0", "-1"}) == bulks({"a", "b", "c", "d"}));
  CHECK(h.run({"ZRANGE", "z", "1", "2", "WITHSCORES"}) == bulks({"b", "2", "c", "3"}));
  CHECK(h.run({"ZRANGE", "z", "0", "1", "REV"}) == bulks({"d", "c"}));
  CHECK(h.run({"ZREVRANGE", "z", "0", "0", "WITHSCORES"}) == bulks({"d", "4"}));
  CHECK(h.run({"ZRANGE", "z", "(1", "3", "BYSCORE"}) == bulks({"b", "c"}));
  CHECK(h.run({"ZRANGE", "z", "+inf", "(2", "BYSCORE", "REV"}) == bulks({"d", "c"}));
  CHECK(h.run({"ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2"}) == bulks({"b", "c"}));
  CHECK(h.run({"ZRANGEBYSCORE", "z", "2", "4", "LIMIT", "1", "-1"}) == bulks({"c", "d"}));
  CHECK(h.run({"ZREVRANGEBYSCORE", "z", "4", "2", "LIMIT", "0", "1"}) == bulks({"d"}));
  CHECK(h.run({"ZRANGE", "z", "0", "1", "LIMIT", "0", "1"})
        == "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or "
           "BYLEX\r\n");
  CHECK(h.run({"ZRANGE", "z", "x", "1", "BYSCORE"}) == "-ERR min or max is not a float\r\n");
  CHECK(h.run({"ZCOUNT", "z", "(1", "+inf"}) == integer(3));
  CHECK(h.run({"ZRANK", "z", "c"}) == integer(2));
  CHECK(h.run({"ZREVRANK", "z", "c"}) == integer(1));
  CHECK(h.run({"ZRANK", "z", "nope"}) == nil);
  h.run({"ZADD", "l", "0", "apple", "0", "banana", "0", "cherry", "0", "date"});
  CHECK(h.run({"ZRANGE", "l", "[b", "(d", "BYLEX"}) == bulks({"banana", "cherry"}));
  CHECK(h.run({"ZRANGEBYLEX", "l", "-", "+", "LIMIT", "1", "2"}) == bulks({"banana", "cherry"}));
  CHECK(h.run({"ZREVRANGEBYLEX", "l", "+", "[c"}) == bulks({"date", "cherry"}));
  CHECK(h.run({"ZLEXCOUNT", "l", "(apple", "+"}) == integer(3));
  CHECK(h.run({"ZRANGE", "l", "b", "d", "BYLEX"}) == "-ERR min or max not valid string range item\r\n");
  CHECK(h.run({"ZRANGE", "l", "-", "+", "BYLEX", "WITHSCORES"})
        == "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n");
}

TEST_CASE("ZPOPMIN, ZPOPMAX, ZREMRANGEBY…, ZRANGESTORE, ZRANDMEMBER", "[zset]") {
  harness h(1);
  h.run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"});
  CHECK(h.run({"ZPOPMIN", "z"}) == bulks({"a", "1"}));
  CHECK(h.run({"ZPOPMAX", "z", "2"}) == bulks({"e", "5", "d", "4"}));
  CHECK(h.run({"ZPOPMIN", "nokey"}) == "*0\r\n");
  CHECK(h.run({"ZPOPMIN", "z", "-1"}) == "-ERR value is out of range, must be positive\r\n");
  CHECK(h.run({"ZRANGESTORE", "dst", "z", "0", "-1"}) == integer(2));
  CHECK(h.run({"ZRANGE", "dst", "0", "-1", "WITHSCORES"}) == bulks({"b", "2", "c", "3"}));
  CHECK(h.run({"ZREMRANGEBYRANK", "dst", "0", "0"}) == integer(1));
  CHECK(h.run({"ZREMRANGEBYSCORE", "dst", "-inf", "+inf"}) == integer(1));
  CHECK(h.run({"EXISTS", "dst"}) == integer(0));
  CHECK(h.run({"ZRANDMEMBER", "z"}).rfind("$1\r\n", 0) == 0);
  CHECK(h.run({"ZRANDMEMBER", "z", "5", "WITHSCORES"}).substr(0, 4) == "*4\r\n");
  CHECK(h.run({"ZRANDMEMBER", "z", "-5"}).substr(0, 4) == "*5\r\n");
  CHECK(h.run({"ZRANDMEMBER", "nokey"}) == nil);
}

TEST_CASE("a large sorted set: skip list ranks, ranges and ZSCAN", "[zset]") {
  harness h;
  for (int i = 0; i < 3000; ++i)
    h.run({"ZADD", "big", std::to_string(i % 100), "m" + std::to_string(i)});
  CHECK(h.run({"OBJECT", "ENCODING", "big"}) == bulk("skiplist"));
  CHECK(h.run({"ZCARD", "big"}) == integer(3000));
  CHECK(h.run({"ZCOUNT", "big", "10", "(20"}) == integer(300));
  CHECK(h.run({"ZRANGE", "big", "0", "1"}) == bulks({"m0", "m100"}));
  CHECK(h.run({"ZRANK", "big", "m100"}) == integer(1));
  // Score 99's members by their bytes: m1099, m1199, …, m99, m999 (a prefix sorts first).
  CHECK(h.run({"ZREVRANK", "big", "m999"}) == integer(0));
  CHECK(h.run({"ZREVRANK", "big", "m99"}) == integer(1));
  CHECK(h.run({"ZRANGE", "big", "99", "+inf", "BYSCORE", "LIMIT", "29", "5"}) == bulks({"m999"}));
  std::string cursor = "0";
  size_t seen = 0;
  int calls = 0;
  do {
    auto r = h.run({"ZSCAN", "big", cursor, "COUNT", "100"});
    auto first = r.find("\r\n", 4);
    auto len_at = r.find('$') + 1;
    auto len = std::stoul(r.substr(len_at, first - len_at));
    cursor = r.substr(first + 2, len);
    auto inner = r.find('*', first + 2 + len);
    seen += std::stoul(r.substr(inner + 1)) / 2;
    ++calls;
  } while (cursor != "0" && calls < 1000);
  CHECK(seen >= 3000);
  h.run({"SET", "s", "v"});
  CHECK(h.run({"ZADD", "s", "1", "a"}) == wrongtype);
  CHECK(h.run({"ZRANGE", "s", "0", "-1"}) == wrongtype);
}

TEST_CASE("ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD", "[zset]") {
  harness h; // four partitions: the {t} keys share one
  h.run({"ZADD", "{t}a", "1", "x", "2", "y", "3", "z"});
  h.run({"ZADD", "{t}b", "5", "y", "7", "z", "9", "w"});
  h.run({"SADD", "{t}s", "x", "w", "q"});
  h.run({"ZADD", "{t}inf", "inf", "x", "-inf", "y"});
  CHECK(h.run({"ZUNION", "3", "{t}a", "{t}b", "{t}s", "WITHSCORES"})
        == bulks({"q", "1", "x", "2", "y", "7", "w", "10", "z", "10"}));
  CHECK(h.run({"ZINTER", "2", "{t}a", "{t}b", "WEIGHTS", "2", "3", "AGGREGATE", "MAX",
               "WITHSCORES"})
        == bulks({"y", "15", "z", "21"}));
  CHECK(h.run({"ZINTER", "2", "{t}a", "{t}b", "AGGREGATE", "MIN"}) == bulks({"y", "z"}));
  CHECK(h.run({"ZDIFF", "2", "{t}a", "{t}s", "WITHSCORES"}) == bulks({"y", "2", "z", "3"}));
  // inf + -inf is NaN: the sum is 0, as Redis; a weight of 0 times inf too.
  CHECK(h.run({"ZUNION", "2", "{t}inf", "{t}inf", "WEIGHTS", "1", "-1", "WITHSCORES"})
        == bulks({"x", "0", "y", "0"}));
  CHECK(h.run({"ZUNION", "1", "{t}inf", "WEIGHTS", "0", "WITHSCORES"})
        == bulks({"x", "0", "y", "0"}));
  CHECK(h.run({"ZINTERCARD", "2", "{t}a", "{t}b"}) == integer(2));
  CHECK(h.run({"ZINTERCARD", "2", "{t}a", "{t}b", "LIMIT", "1"}) == integer(1));
  CHECK(h.run({"ZUNIONSTORE", "{t}d", "2", "{t}a", "{t}b"}) == integer(4));
  CHECK(h.run({"ZRANGE", "{t}d", "0", "-1", "WITHSCORES"})
        == bulks({"x", "1", "y", "7", "w", "9", "z", "10"}));
  CHECK(h.run({"ZINTERSTORE", "{t}d", "2", "{t}a", "{t}none"}) == integer(0));
  CHECK(h.run({"EXISTS", "{t}d"}) == integer(0)); // an empty result deletes the destination
  CHECK(h.run({"ZDIFFSTORE", "{t}a", "2", "{t}a", "{t}b"}) == integer(1)); // dst is a source
  CHECK(h.run({"ZRANGE", "{t}a", "0", "-1"}) == bulks({"x"}));
  // Redis's errors, in Redis's order.
  CHECK(h.run({"ZUNION", "0", "{t}a"})
        == "-ERR at least 1 input key is needed for 'zunion' command\r\n");
  CHECK(h.run({"ZINTERSTORE", "{t}d", "0", "{t}a"})
        == "-ERR at least 1 input key is needed for 'zinterstore' command\r\n");
  CHECK(h.run({"ZUNION", "x", "{t}a"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(h.run({"ZUNION", "3", "{t}a", "{t}b"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"ZUNION", "2", "{t}a", "{t}b", "WEIGHTS", "1", "nan"})
        == "-ERR weight value is not a float\r\n");
  CHECK(h.run({"ZUNIONSTORE", "{t}d", "1", "{t}a", "WITHSCORES"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"ZDIFF", "1", "{t}a", "WEIGHTS", "1"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"ZINTERCARD", "1", "{t}a", "LIMIT", "-1"}) == "-ERR LIMIT can't be negative\r\n");
  h.run({"SET", "{t}str", "v"});
  CHECK(h.run({"ZUNION", "2", "{t}a", "{t}str"}).rfind("-WRONGTYPE", 0) == 0);
  // The keys must share a partition; the count is not a key, the destination is.
  CHECK(h.run({"ZUNION", "2", "a", "b"}).rfind("-CROSSSLOT", 0) == 0);
  otkv::cmd::key_router router(4);
  std::string elsewhere = "e";
  while (router.target_of(elsewhere, true) == router.target_of("{t}a", true))
    elsewhere += "e";
  CHECK(h.run({"ZUNIONSTORE", elsewhere, "1", "{t}a"}).rfind("-CROSSSLOT", 0) == 0);
  CHECK(h.run({"ZUNIONSTORE", "{t}d", "1", "{t}a"}) == integer(1));
}

TEST_CASE("ZMPOP and LMPOP pop from the first key that exists", "[zset][list]") {
  harness h;
  h.run({"ZADD", "{t}z", "1", "a", "2", "b", "3", "c"});
  h.run({"RPUSH", "{t}l", "1", "2", "3"});
  CHECK(h.run({"ZMPOP", "2", "{t}none", "{t}z", "MAX", "COUNT", "2"})
        == array({bulk("{t}z"), array({bulks({"c", "3"}), bulks({"b", "2"})})}));
  CHECK(h.run({"ZMPOP", "1", "{t}z", "MIN", "COUNT", "9"})
        == array({bulk("{t}z"), array({bulks({"a", "1"})})}));
  CHECK(h.run({"EXISTS", "{t}z"}) == integer(0));
  CHECK(h.run({"ZMPOP", "1", "{t}z", "MIN"}) == "*-1\r\n");
  CHECK(h.run({"LMPOP", "2", "{t}none", "{t}l", "RIGHT", "COUNT", "2"})
        == array({bulk("{t}l"), bulks({"3", "2"})}));
  CHECK(h.run({"LMPOP", "1", "{t}l", "LEFT"}) == array({bulk("{t}l"), bulks({"1"})}));
  CHECK(h.run({"LMPOP", "1", "{t}l", "LEFT"}) == "*-1\r\n");
  h.run({"ZADD", "{t}z", "1", "a"});
  CHECK(h.run({"LMPOP", "2", "{t}l", "{t}z", "LEFT"}).rfind("-WRONGTYPE", 0) == 0);
  CHECK(h.run({"ZMPOP", "0", "{t}z", "MIN"}) == "-ERR numkeys should be greater than 0\r\n");
  CHECK(h.run({"ZMPOP", "1", "{t}z", "MIDDLE"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"ZMPOP", "1", "{t}z", "MIN", "COUNT", "1", "COUNT", "2"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"ZMPOP", "1", "{t}z", "MIN", "COUNT", "0"})
        == "-ERR count should be greater than 0\r\n");
  CHECK(h.run({"ZMPOP", "2", "{t}z", "MIN"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"ZMPOP", "1"}) == "-ERR wrong number of arguments for 'zmpop' command\r\n");
}

TEST_CASE("for_each_key: a destination, then the keys its count names", "[zset][keys]") {
  auto keys_of = [](otkv::net::arg_list args) {
    std::vector<std::string> out;
    const auto* c = otkv::cmd::find_command(args[0]);
    REQUIRE(c != nullptr);
    otkv::cmd::for_each_key(*c, args, [&](int k) { out.push_back(args[static_cast<size_t>(k)]); });
    return out;
  };
  using v = std::vector<std::string>;
  CHECK(keys_of({"zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"}) == v{"d", "a", "b"});
  CHECK(keys_of({"zunionstore", "d", "x", "a"}) == v{"d"}); // a bad count: the handler refuses
  CHECK(keys_of({"zunionstore", "d", "9", "a"}) == v{"d", "a"}); // clamped to the words there are
  CHECK(keys_of({"zunion", "2", "a", "b", "WITHSCORES"}) == v{"a", "b"});
  CHECK(keys_of({"lmpop", "1", "a", "LEFT"}) == v{"a"});
  CHECK(keys_of({"mset", "a", "1", "b", "2"}) == v{"a", "b"});
  CHECK(keys_of({"del", "a", "b", "c"}) == v{"a", "b", "c"});
}

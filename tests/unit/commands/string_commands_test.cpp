#include <catch2/catch.hpp>

#include <limits>
#include <string>

#include "harness.hpp"

using namespace otkv::test;

TEST_CASE("GET and SET round trip", "[string]") {
  harness h;
  CHECK(h.run({"GET", "k"}) == nil);
  CHECK(h.run({"SET", "k", "v"}) == ok);
  CHECK(h.run({"get", "k"}) == bulk("v"));
  CHECK(h.run({"SET", "k", ""}) == ok);
  CHECK(h.run({"GET", "k"}) == bulk(""));
  std::string binary("a\0b\r\nc", 6);
  CHECK(h.run({"SET", "bin", binary}) == ok);
  CHECK(h.run({"GET", "bin"}) == bulk(binary));
}

TEST_CASE("SET NX and XX", "[string]") {
  harness h;
  CHECK(h.run({"SET", "k", "1", "XX"}) == nil);
  CHECK(h.run({"GET", "k"}) == nil);
  CHECK(h.run({"SET", "k", "1", "NX"}) == ok);
  CHECK(h.run({"SET", "k", "2", "NX"}) == nil);
  CHECK(h.run({"GET", "k"}) == bulk("1"));
  CHECK(h.run({"SET", "k", "3", "xx"}) == ok);
  CHECK(h.run({"GET", "k"}) == bulk("3"));
  CHECK(h.run({"SET", "k", "4", "NX", "XX"}) == "-ERR syntax error\r\n");
}

TEST_CASE("SET GET returns the old value", "[string]") {
  harness h;
  CHECK(h.run({"SET", "k", "1", "GET"}) == nil);
  CHECK(h.run({"SET", "k", "2", "GET"}) == bulk("1"));
  CHECK(h.run({"SET", "k", "3", "NX", "GET"}) == bulk("2"));
  CHECK(h.run({"GET", "k"}) == bulk("2"));
}

TEST_CASE("SET expiry options", "[string][expiry]") {
  harness h;
  CHECK(h.run({"SET", "a", "v", "EX", "10"}) == ok);
  CHECK(h.run({"TTL", "a"}) == integer(10));
  CHECK(h.run({"SET", "b", "v", "PX", "1500"}) == ok);
  CHECK(h.run({"PTTL", "b"}) == integer(1500));
  CHECK(h.run({"SET", "c", "v", "EXAT", std::to_string(h.now / 1000 + 100)}) == ok);
  CHECK(h.run({"TTL", "c"}) == integer(100));
  CHECK(h.run({"SET", "d", "v", "PXAT", std::to_string(h.now + 2500)}) == ok);
  CHECK(h.run({"PTTL", "d"}) == integer(2500));
  h.now += 1500;
  CHECK(h.run({"GET", "b"}) == nil);
  CHECK(h.run({"GET", "a"}) == bulk("v"));
  h.now += 8500;
  CHECK(h.run({"GET", "a"}) == nil);
}

TEST_CASE("SET KEEPTTL keeps the deadline, plain SET clears it", "[string][expiry]") {
  harness h;
  h.run({"SET", "k", "v", "EX", "100"});
  CHECK(h.run({"SET", "k", "w", "KEEPTTL"}) == ok);
  CHECK(h.run({"TTL", "k"}) == integer(100));
  CHECK(h.run({"GET", "k"}) == bulk("w"));
  CHECK(h.run({"SET", "k", "x"}) == ok);
  CHECK(h.run({"TTL", "k"}) == integer(-1));
}

TEST_CASE("SET option errors read like Redis", "[string]") {
  harness h;
  CHECK(h.run({"SET", "k", "v", "EX"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"SET", "k", "v", "EX", "abc"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(h.run({"SET", "k", "v", "EX", "0"}) == "-ERR invalid expire time in 'set' command\r\n");
  CHECK(h.run({"SET", "k", "v", "PX", "-5"}) == "-ERR invalid expire time in 'set' command\r\n");
  CHECK(h.run({"SET", "k", "v", "EX", "9223372036854775807"})
        == "-ERR invalid expire time in 'set' command\r\n");
  CHECK(h.run({"SET", "k", "v", "EX", "1", "PX", "1"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"SET", "k", "v", "KEEPTTL", "EX", "1"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"SET", "k", "v", "BOGUS"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"SET", "k"}) == "-ERR wrong number of arguments for 'set' command\r\n");
  CHECK(h.run({"GET", "k"}) == nil);
}

TEST_CASE("MSET and MGET across partitions keep key order", "[string][multikey]") {
  harness h(8);
  std::vector<std::string> mset{"MSET"};
  std::vector<std::string> mget{"MGET"};
  for (int i = 0; i < 50; ++i) {
    mset.push_back("key:" + std::to_string(i));
    mset.push_back("val:" + std::to_string(i));
    mget.push_back("key:" + std::to_string(i));
    if (i % 10 == 0)
      mget.push_back("missing:" + std::to_string(i));
  }
  CHECK(h.run(mset) == ok);
  std::string expected = "*55\r\n";
  for (int i = 0; i < 50; ++i) {
    expected += bulk("val:" + std::to_string(i));
    if (i % 10 == 0)
      expected += nil;
  }
  CHECK(h.run(mget) == expected);
  CHECK(h.run({"MSET", "a", "1", "b"}) == "-ERR wrong number of arguments for 'mset' command\r\n");
  CHECK(h.run({"MSET", "a", "1", "a", "2"}) == ok);
  CHECK(h.run({"GET", "a"}) == bulk("2"));
}

TEST_CASE("INCR, DECR, INCRBY, DECRBY", "[string]") {
  harness h;
  CHECK(h.run({"INCR", "n"}) == integer(1));
  CHECK(h.run({"INCRBY", "n", "41"}) == integer(42));
  CHECK(h.run({"DECR", "n"}) == integer(41));
  CHECK(h.run({"DECRBY", "n", "50"}) == integer(-9));
  CHECK(h.run({"GET", "n"}) == bulk("-9"));
  CHECK(h.run({"INCRBY", "n", "x"}) == "-ERR value is not an integer or out of range\r\n");
  h.run({"SET", "s", "abc"});
  CHECK(h.run({"INCR", "s"}) == "-ERR value is not an integer or out of range\r\n");
  h.run({"SET", "big", "9223372036854775807"});
  CHECK(h.run({"INCR", "big"}) == "-ERR increment or decrement would overflow\r\n");
  CHECK(h.run({"DECRBY", "n", "-9223372036854775808"})
        == "-ERR value is not an integer or out of range\r\n");
  h.run({"SET", "t", "5", "EX", "100"});
  CHECK(h.run({"INCR", "t"}) == integer(6));
  CHECK(h.run({"TTL", "t"}) == integer(100)); // INCR keeps the deadline
}

TEST_CASE("APPEND, STRLEN, GETRANGE, SETRANGE", "[string]") {
  harness h;
  CHECK(h.run({"APPEND", "s", "Hello"}) == integer(5));
  CHECK(h.run({"APPEND", "s", " World"}) == integer(11));
  CHECK(h.run({"STRLEN", "s"}) == integer(11));
  CHECK(h.run({"STRLEN", "none"}) == integer(0));
  CHECK(h.run({"GETRANGE", "s", "0", "3"}) == bulk("Hell"));
  CHECK(h.run({"GETRANGE", "s", "-3", "-1"}) == bulk("rld"));
  CHECK(h.run({"GETRANGE", "s", "0", "-1"}) == bulk("Hello World"));
  CHECK(h.run({"GETRANGE", "s", "10", "100"}) == bulk("d"));
  CHECK(h.run({"GETRANGE", "s", "5", "3"}) == bulk(""));
  CHECK(h.run({"GETRANGE", "s", "-1", "-5"}) == bulk(""));
  CHECK(h.run({"GETRANGE", "none", "0", "-1"}) == bulk(""));
  CHECK(h.run({"GETRANGE", "s", "a", "1"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(h.run({"SETRANGE", "s", "6", "Redis"}) == integer(11));
  CHECK(h.run({"GET", "s"}) == bulk("Hello Redis"));
  CHECK(h.run({"SETRANGE", "pad", "3", "x"}) == integer(4));
  CHECK(h.run({"GET", "pad"}) == bulk(std::string("\0\0\0x", 4)));
  CHECK(h.run({"SETRANGE", "none", "5", ""}) == integer(0));
  CHECK(h.run({"EXISTS", "none"}) == integer(0));
  CHECK(h.run({"SETRANGE", "s", "-1", "x"}) == "-ERR offset is out of range\r\n");
  CHECK(h.run({"SETRANGE", "s", "536870911", "xx"})
        == "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
}

TEST_CASE("GETDEL, GETSET, GETEX, SETNX, SETEX, PSETEX", "[string][expiry]") {
  harness h;
  h.run({"SET", "k", "v", "EX", "100"});
  CHECK(h.run({"GETSET", "k", "w"}) == bulk("v"));
  CHECK(h.run({"TTL", "k"}) == integer(-1)); // GETSET clears the deadline
  CHECK(h.run({"GETSET", "new", "x"}) == nil);
  CHECK(h.run({"GETDEL", "k"}) == bulk("w"));
  CHECK(h.run({"GETDEL", "k"}) == nil);
  CHECK(h.run({"SETNX", "n", "1"}) == integer(1));
  CHECK(h.run({"SETNX", "n", "2"}) == integer(0));
  CHECK(h.run({"GET", "n"}) == bulk("1"));
  CHECK(h.run({"SETEX", "e", "10", "v"}) == ok);
  CHECK(h.run({"TTL", "e"}) == integer(10));
  CHECK(h.run({"PSETEX", "p", "1500", "v"}) == ok);
  CHECK(h.run({"PTTL", "p"}) == integer(1500));
  CHECK(h.run({"SETEX", "e", "0", "v"}) == "-ERR invalid expire time in 'setex' command\r\n");
  CHECK(h.run({"PSETEX", "e", "x", "v"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(h.run({"GETEX", "e", "EX", "50"}) == bulk("v"));
  CHECK(h.run({"TTL", "e"}) == integer(50));
  CHECK(h.run({"GETEX", "e", "PERSIST"}) == bulk("v"));
  CHECK(h.run({"TTL", "e"}) == integer(-1));
  CHECK(h.run({"GETEX", "e"}) == bulk("v"));
  CHECK(h.run({"GETEX", "e", "PXAT", std::to_string(h.now + 700)}) == bulk("v"));
  CHECK(h.run({"PTTL", "e"}) == integer(700));
  CHECK(h.run({"GETEX", "e", "EX", "0"}) == "-ERR invalid expire time in 'getex' command\r\n");
  CHECK(h.run({"GETEX", "e", "EX", "1", "PX", "1"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"GETEX", "missing", "EX", "10"}) == nil);
}

TEST_CASE("INCRBYFLOAT formats like Redis", "[string]") {
  harness h;
  h.run({"SET", "f", "10.50"});
  CHECK(h.run({"INCRBYFLOAT", "f", "0.1"}) == bulk("10.6"));
  CHECK(h.run({"INCRBYFLOAT", "f", "-5"}) == bulk("5.6"));
  h.run({"SET", "g", "5.0e3"});
  CHECK(h.run({"INCRBYFLOAT", "g", "2.0e2"}) == bulk("5200"));
  CHECK(h.run({"INCRBYFLOAT", "new", "3"}) == bulk("3"));
  CHECK(h.run({"INCRBYFLOAT", "f", "abc"}) == "-ERR value is not a valid float\r\n");
  h.run({"SET", "s", "text"});
  CHECK(h.run({"INCRBYFLOAT", "s", "1"}) == "-ERR value is not a valid float\r\n");
  CHECK(h.run({"INCRBYFLOAT", "f", "inf"}) == "-ERR increment would produce NaN or Infinity\r\n");
}

TEST_CASE("INCRBYFLOAT prints large and tiny results whole, as Redis", "[string][issue11]") {
  // Redis formats with `%.17Lf` into a 5 KiB buffer: 1e130 (as the nearest 80-bit long
  // double) is printed with all its 131 digits; OTKV used to cut the text at 127 bytes.
  harness h;
  std::string big = "1000000000000000000021124267755545335008049967093623337461067537291530062"
                    "6091041156338522974302878445898980067262540293047582720000";
  REQUIRE(big.size() == 131);
  if (std::numeric_limits<long double>::digits == 64) { // x86 80-bit long double
    CHECK(h.run({"INCRBYFLOAT", "f", "1e130"}) == bulk(big));
    CHECK(h.run({"GET", "f"}) == bulk(big));
    CHECK(h.run({"INCRBYFLOAT", "n", "-1e130"}) == bulk("-" + big));
  }
  auto huge = h.run({"INCRBYFLOAT", "h", "1e4931"}); // near LDBL_MAX: 4932 digits
  CHECK(huge.substr(0, 7) == "$4932\r\n");
  CHECK(h.run({"STRLEN", "h"}) == integer(4932));
  // A denormal increment is taken (strtold's ERANGE only refuses overflow and zero).
  CHECK(h.run({"INCRBYFLOAT", "t", "1e-4940"}) == bulk("0"));
  CHECK(h.run({"INCRBYFLOAT", "t", "1e-5000"}) == "-ERR value is not a valid float\r\n");
  CHECK(h.run({"INCRBYFLOAT", "t", "1e-17"}) == bulk("0.00000000000000001"));
  CHECK(h.run({"INCRBYFLOAT", "z", "-1e-18"}) == bulk("0"));
  // Text of 5 KiB or more is not a float to Redis (string2ld's buffer).
  h.run({"SET", "long", std::string(5119, '0') + "1"});
  CHECK(h.run({"INCRBYFLOAT", "long", "1"}) == "-ERR value is not a valid float\r\n");
  h.run({"SET", "ok", std::string(5118, '0') + "1"});
  CHECK(h.run({"INCRBYFLOAT", "ok", "1"}) == bulk("2"));
}

TEST_CASE("GETEX and SET take a repeated expiry option, the last one wins", "[string][expiry][issue11]") {
  // Redis 7.0 parseExtendedStringArgumentsOrReply refuses only conflicting options.
  harness h;
  h.run({"SET", "k", "v"});
  CHECK(h.run({"GETEX", "k", "EX", "10", "EX", "20"}) == bulk("v"));
  CHECK(h.run({"TTL", "k"}) == integer(20));
  CHECK(h.run({"GETEX", "k", "PX", "abc", "PX", "1500"}) == bulk("v")); // only the last is read
  CHECK(h.run({"PTTL", "k"}) == integer(1500));
  CHECK(h.run({"GETEX", "k", "PERSIST", "PERSIST"}) == bulk("v"));
  CHECK(h.run({"TTL", "k"}) == integer(-1));
  CHECK(h.run({"GETEX", "k", "EX", "10", "PERSIST"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"GETEX", "k", "PERSIST", "EX", "10"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"GETEX", "k", "EXAT", "1", "PXAT", "1"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"GETEX", "k", "EX", "abc", "FOO"}) == "-ERR syntax error\r\n"); // syntax first
  CHECK(h.run({"GETEX", "k", "KEEPTTL"}) == "-ERR syntax error\r\n");
  // The deadline's value is only checked when the key exists.
  CHECK(h.run({"GETEX", "missing", "EX", "abc"}) == nil);
  CHECK(h.run({"GETEX", "missing", "EX", "0"}) == nil);
  CHECK(h.run({"GETEX", "k", "EXAT", "0", "EXAT", "1"}) == bulk("v")); // past: deleted
  CHECK(h.run({"EXISTS", "k"}) == integer(0));
  // SET shares the parser.
  CHECK(h.run({"SET", "s", "v", "EX", "10", "EX", "30"}) == ok);
  CHECK(h.run({"TTL", "s"}) == integer(30));
  CHECK(h.run({"SET", "s", "v", "NX", "NX"}) == nil);
  CHECK(h.run({"SET", "s", "w", "KEEPTTL", "KEEPTTL", "GET", "GET"}) == bulk("v"));
  CHECK(h.run({"TTL", "s"}) == integer(30));
  CHECK(h.run({"SET", "s", "v", "EX", "abc", "BOGUS"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"SET", "s", "v", "EX", "10", "KEEPTTL"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"SET", "s", "v", "PERSIST"}) == "-ERR syntax error\r\n");
}

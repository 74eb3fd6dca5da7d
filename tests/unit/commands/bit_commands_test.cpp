// The bitmap family and LCS against Redis's replies (issue 17).
#include <catch2/catch.hpp>

#include <string>

#include "harness.hpp"

using namespace otkv::test;

TEST_CASE("SETBIT and GETBIT", "[bitmap]") {
  harness h;
  CHECK(h.run({"SETBIT", "b", "7", "1"}) == integer(0));
  CHECK(h.run({"GET", "b"}) == bulk(std::string(1, '\x01')));
  CHECK(h.run({"SETBIT", "b", "7", "0"}) == integer(1));
  CHECK(h.run({"SETBIT", "b", "17", "1"}) == integer(0));
  CHECK(h.run({"STRLEN", "b"}) == integer(3));
  CHECK(h.run({"GETBIT", "b", "17"}) == integer(1));
  CHECK(h.run({"GETBIT", "b", "1000"}) == integer(0));
  CHECK(h.run({"GETBIT", "nokey", "3"}) == integer(0));
  CHECK(h.run({"SETBIT", "b", "-1", "1"}) == "-ERR bit offset is not an integer or out of range\r\n");
  CHECK(h.run({"SETBIT", "b", "4294967296", "1"})
        == "-ERR bit offset is not an integer or out of range\r\n");
  CHECK(h.run({"SETBIT", "b", "1", "2"}) == "-ERR bit is not an integer or out of range\r\n");
  h.run({"HSET", "h", "f", "v"});
  CHECK(h.run({"SETBIT", "h", "1", "1"}) == wrongtype);
}

TEST_CASE("BITCOUNT and BITPOS with BYTE and BIT ranges", "[bitmap]") {
  harness h;
  h.run({"SET", "s", "foobar"});
  CHECK(h.run({"BITCOUNT", "s"}) == integer(26));
  CHECK(h.run({"BITCOUNT", "s", "0", "0"}) == integer(4));
  CHECK(h.run({"BITCOUNT", "s", "1", "1"}) == integer(6));
  CHECK(h.run({"BITCOUNT", "s", "1", "1", "BYTE"}) == integer(6));
  CHECK(h.run({"BITCOUNT", "s", "5", "30", "BIT"}) == integer(17));
  CHECK(h.run({"BITCOUNT", "s", "-2", "-1"}) == integer(7));
  CHECK(h.run({"BITCOUNT", "s", "1"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"BITCOUNT", "nokey"}) == integer(0));
  h.run({"SET", "p", std::string("\xff\xf0\x00", 3)});
  CHECK(h.run({"BITPOS", "p", "0"}) == integer(12));
  CHECK(h.run({"BITPOS", "p", "1", "2"}) == integer(-1));
  CHECK(h.run({"BITPOS", "p", "1", "7", "15", "BIT"}) == integer(7));
  h.run({"SET", "ones", std::string("\xff\xff", 2)});
  CHECK(h.run({"BITPOS", "ones", "0"}) == integer(16));      // no end: the bit after
  CHECK(h.run({"BITPOS", "ones", "0", "0", "-1"}) == integer(-1)); // an end: none
  CHECK(h.run({"BITPOS", "nokey", "0"}) == integer(0));
  CHECK(h.run({"BITPOS", "nokey", "1"}) == integer(-1));
  CHECK(h.run({"BITPOS", "p", "2"}) == "-ERR The bit argument must be 1 or 0.\r\n");
}

TEST_CASE("BITOP", "[bitmap]") {
  harness h(1);
  h.run({"SET", "a", "abc"});
  h.run({"SET", "b", std::string("\x0f", 1)});
  CHECK(h.run({"BITOP", "AND", "d", "a", "b"}) == integer(3));
  CHECK(h.run({"GET", "d"}) == bulk(std::string("\x01\x00\x00", 3)));
  CHECK(h.run({"BITOP", "OR", "d", "a", "b", "nokey"}) == integer(3));
  CHECK(h.run({"GET", "d"}) == bulk("obc"));
  CHECK(h.run({"BITOP", "NOT", "d", "b"}) == integer(1));
  CHECK(h.run({"GET", "d"}) == bulk(std::string("\xf0", 1)));
  CHECK(h.run({"BITOP", "NOT", "d", "a", "b"})
        == "-ERR BITOP NOT must be called with a single source key.\r\n");
  CHECK(h.run({"BITOP", "XOR", "d", "nokey"}) == integer(0));
  CHECK(h.run({"EXISTS", "d"}) == integer(0));
  CHECK(h.run({"BITOP", "NAND", "d", "a"}) == "-ERR syntax error\r\n");
}

TEST_CASE("BITFIELD GET, SET, INCRBY with WRAP, SAT and FAIL", "[bitmap]") {
  harness h;
  CHECK(h.run({"BITFIELD", "f", "SET", "i8", "0", "100", "GET", "i8", "0"})
        == array({integer(0), integer(100)}));
  CHECK(h.run({"BITFIELD", "f", "INCRBY", "i8", "0", "100"}) == array({integer(-56)}));
  CHECK(h.run({"BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-100"})
        == array({integer(-128)}));
  CHECK(h.run({"BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1"}) == array({nil}));
  CHECK(h.run({"BITFIELD", "f", "SET", "u4", "#1", "15", "GET", "u4", "4"})
        == array({integer(0), integer(15)}));
  CHECK(h.run({"BITFIELD", "f", "OVERFLOW", "SAT", "SET", "u4", "0", "-5", "GET", "u4", "0"})
        == array({integer(8), integer(15)})); // -5 read as unsigned 2^64-5: saturated
  CHECK(h.run({"BITFIELD", "f", "GET", "u64", "0"})
        == "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
           "supported but i64 is.\r\n");
  CHECK(h.run({"BITFIELD", "f", "GET", "i8", "-1"})
        == "-ERR bit offset is not an integer or out of range\r\n");
  CHECK(h.run({"BITFIELD", "f", "OVERFLOW", "UP"}) == "-ERR Invalid OVERFLOW type specified\r\n");
  CHECK(h.run({"BITFIELD", "f", "GET", "i8"}) == "-ERR syntax error\r\n");
  CHECK(h.run({"BITFIELD_RO", "f", "SET", "i8", "0", "1"})
        == "-ERR BITFIELD_RO only supports the GET subcommand\r\n");
  CHECK(h.run({"BITFIELD_RO", "f", "GET", "u8", "0"}) == array({integer(0xf0 | 0x0f)}));
  CHECK(h.run({"BITFIELD", "new", "OVERFLOW", "FAIL", "SET", "u2", "100", "9"}) == array({nil}));
  CHECK(h.run({"STRLEN", "new"}) == integer(13)); // grown first, as Redis
}

TEST_CASE("LCS: the string, LEN, IDX", "[string][lcs]") {
  harness h(1);
  h.run({"SET", "a", "ohmytext"});
  h.run({"SET", "b", "mynewtext"});
  CHECK(h.run({"LCS", "a", "b"}) == bulk("mytext"));
  CHECK(h.run({"LCS", "a", "b", "LEN"}) == integer(6));
  CHECK(h.run({"LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"})
        == array({bulk("matches"),
                  array({array({array({integer(4), integer(7)}), array({integer(5), integer(8)}),
                                integer(4)})}),
                  bulk("len"), integer(6)}));
  CHECK(h.run({"LCS", "a", "nokey"}) == bulk(""));
  CHECK(h.run({"LCS", "a", "b", "LEN", "IDX"})
        == "-ERR If you want both the length and indexes, please just use IDX.\r\n");
  h.run({"SADD", "s", "m"});
  CHECK(h.run({"LCS", "a", "s"}) == "-ERR The specified keys must contain string values\r\n");
}

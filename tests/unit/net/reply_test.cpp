#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "net/reply.hpp"

using otkv::net::encode;
using otkv::net::reply;

TEST_CASE("replies encode as RESP2", "[reply]") {
  CHECK(encode(reply::ok()) == "+OK\r\n");
  CHECK(encode(reply::error("ERR bad")) == "-ERR bad\r\n");
  CHECK(encode(reply::integer(-42)) == ":-42\r\n");
  CHECK(encode(reply::bulk("hello")) == "$5\r\nhello\r\n");
  CHECK(encode(reply::bulk("")) == "$0\r\n\r\n");
  CHECK(encode(reply::null()) == "$-1\r\n");
  CHECK(encode(reply::null_array()) == "*-1\r\n");
  CHECK(encode(reply::array({})) == "*0\r\n");
  CHECK(encode(reply::array({reply::integer(1), reply::array({reply::bulk("x")})}))
        == "*2\r\n:1\r\n*1\r\n$1\r\nx\r\n");
  CHECK(encode(reply::raw("+PONG\r\n")) == "+PONG\r\n");
}

TEST_CASE("status and error lines cannot break the framing", "[reply]") {
  CHECK(encode(reply::error("ERR a\r\nb")) == "-ERR a  b\r\n");
  CHECK(encode(reply::status("x\ny")) == "+x y\r\n");
}

TEST_CASE("integer extremes, long bulks and arrays built item by item", "[reply]") {
  CHECK(encode(reply::integer(INT64_MIN)) == ":-9223372036854775808\r\n");
  CHECK(encode(reply::integer(INT64_MAX)) == ":9223372036854775807\r\n");
  std::string big(100000, 'b');
  CHECK(encode(reply::bulk(big)) == "$100000\r\n" + big + "\r\n");
  // array_builder: the header goes in front of whatever the items took.
  for (size_t n : {0, 1, 9, 10, 1000}) {
    otkv::net::array_builder a(n == 1000 ? 0 : 64);
    std::string expected;
    for (size_t i = 0; i < n; ++i) {
      otkv::net::append_bulk(a.body(), std::to_string(i));
      expected += "$" + std::to_string(std::to_string(i).size()) + "\r\n" + std::to_string(i) + "\r\n";
    }
    CHECK(encode(a.finish(n)) == "*" + std::to_string(n) + "\r\n" + expected);
  }
}

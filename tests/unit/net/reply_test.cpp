#include <catch2/catch.hpp>

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

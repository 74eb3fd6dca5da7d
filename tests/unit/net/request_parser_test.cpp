#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "net/request_parser.hpp"

using namespace otkv::net;

namespace {

/// What a whole input produced: the requests, and how parsing ended.
struct outcome {
  std::vector<arg_list> requests;
  parse_status last = parse_status::need_more;
  std::string error;
  bool mid_request = false;
};

/// Feeds `input` in chunks of `chunk` bytes (0 = whole) until it is used up or fails.
outcome parse_all(const std::string& input, size_t chunk, const limits& lim = limits{}) {
  request_parser p(lim);
  outcome out;
  size_t step = chunk == 0 ? input.size() : chunk;
  for (size_t off = 0; off < input.size(); off += step) {
    size_t n = std::min(step, input.size() - off);
    const char* pos = input.data() + off;
    const char* end = pos + n;
    while (pos < end) {
      arg_list args;
      auto st = p.feed(pos, end, args);
      if (st == parse_status::done) {
        out.requests.push_back(std::move(args));
        continue;
      }
      if (st != parse_status::need_more) {
        out.last = st;
        out.error = p.error();
        return out;
      }
    }
  }
  out.mid_request = p.mid_request();
  return out;
}

/// Checks that every chunking of `input` gives the same outcome as feeding it whole.
outcome parse_every_split(const std::string& input, const limits& lim = limits{}) {
  auto whole = parse_all(input, 0, lim);
  for (size_t chunk = 1; chunk <= input.size(); ++chunk) {
    auto split = parse_all(input, chunk, lim);
    INFO("chunk size " << chunk);
    REQUIRE(split.requests == whole.requests);
    REQUIRE(split.last == whole.last);
    REQUIRE(split.error == whole.error);
  }
  return whole;
}

} // namespace

TEST_CASE("multibulk requests at every chunk size", "[parser]") {
  auto r = parse_every_split("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n");
  REQUIRE(r.requests.size() == 2);
  CHECK(r.requests[0] == arg_list{"SET", "k", "hello"});
  CHECK(r.requests[1] == arg_list{"PING"});
  CHECK(r.last == parse_status::need_more);
  CHECK_FALSE(r.mid_request);
}

TEST_CASE("headers ended by a bare LF, and pipelines of many small requests, at every chunk "
          "size", "[parser]") {
  // OTKV takes "*1\n$4\n" headers (Redis 7.0 refuses them; this leniency predates the
  // fast path). Whole inputs take the fast path, small chunks the general one, and both
  // must agree (parse_every_split).
  auto r = parse_every_split("*1\n$4\nPING\r\n*2\r\n$4\nECHO\r\n$0\r\n\r\n");
  REQUIRE(r.requests.size() == 2);
  CHECK(r.requests[0] == arg_list{"PING"});
  CHECK(r.requests[1] == arg_list{"ECHO", ""});
  std::string pipeline;
  for (int i = 0; i < 16; ++i)
    pipeline += "*3\r\n$4\r\nSADD\r\n$1\r\ns\r\n$" + std::to_string(std::to_string(i).size())
                + "\r\n" + std::to_string(i) + "\r\n";
  r = parse_every_split(pipeline);
  REQUIRE(r.requests.size() == 16);
  CHECK(r.requests[15] == arg_list{"SADD", "s", "15"});
}

TEST_CASE("binary-safe bulks, empty bulks and empty multibulks", "[parser]") {
  std::string value("a\r\nb\0c", 6);
  auto r = parse_every_split("*0\r\n*-1\r\n*2\r\n$3\r\nGET\r\n$0\r\n\r\n*2\r\n$4\r\nECHO\r\n$6\r\n"
                             + value + "\r\n");
  REQUIRE(r.requests.size() == 2);
  CHECK(r.requests[0] == arg_list{"GET", ""});
  CHECK(r.requests[1] == arg_list{"ECHO", value});
}

TEST_CASE("inline commands at every chunk size", "[parser]") {
  auto r = parse_every_split("SET k v\r\nGET k\n\r\n   \nPING\r\n");
  REQUIRE(r.requests.size() == 3);
  CHECK(r.requests[0] == arg_list{"SET", "k", "v"});
  CHECK(r.requests[1] == arg_list{"GET", "k"});
  CHECK(r.requests[2] == arg_list{"PING"});
}

TEST_CASE("inline quoting and escapes", "[parser]") {
  auto r = parse_every_split("SET \"a key\" \"line\\nnext\\t\\x41\\\\\\\"\"\r\n"
                             "SET 'it\\'s' ''\r\nECHO \"\"\r\n");
  REQUIRE(r.requests.size() == 3);
  CHECK(r.requests[0] == arg_list{"SET", "a key", "line\nnext\tA\\\""});
  CHECK(r.requests[1] == arg_list{"SET", "it's", ""});
  CHECK(r.requests[2] == arg_list{"ECHO", ""});
}

TEST_CASE("a partial request waits for more", "[parser]") {
  auto r = parse_all("*2\r\n$3\r\nGET\r\n$5\r\nhel", 0);
  CHECK(r.requests.empty());
  CHECK(r.last == parse_status::need_more);
  CHECK(r.mid_request);
  auto inl = parse_all("GET k", 0);
  CHECK(inl.requests.empty());
  CHECK(inl.mid_request);
}

TEST_CASE("malformed input is a protocol error, at every chunk size", "[parser]") {
  struct bad {
    std::string input, error;
  };
  std::vector<bad> cases = {
    {"*x\r\n", "invalid multibulk length"},
    {"*2\r\n$3\r\nGET\r\n:1\r\n", "expected '$', got ':'"},
    {"*1\r\n$-5\r\n", "invalid bulk length"},
    {"*1\r\n$abc\r\n", "invalid bulk length"},
    {"*1\r\n$3\r\nGETXX", "expected CRLF after bulk data"},
    {"*1\r\n$3\r\nGET\n\n", "expected CRLF after bulk data"},
    {"*2\r\n$3\r\nGET\r\n$-1\r\n", "invalid bulk length"},
    {"*1\r\n$3\r\nGET\r\n*2000000\r\n", "invalid multibulk length"},
    {"SET \"unterminated\r\n", "unbalanced quotes in request"},
    {"SET \"a\"b\r\n", "unbalanced quotes in request"},
  };
  for (auto& c : cases) {
    INFO(c.input);
    auto r = parse_every_split(c.input);
    CHECK(r.last == parse_status::error);
    CHECK(r.error == c.error);
  }
}

TEST_CASE("HTTP requests are refused as abuse", "[parser]") {
  CHECK(parse_every_split("POST / HTTP/1.1\r\n").last == parse_status::abuse);
  CHECK(parse_every_split("host: example.com\r\n").last == parse_status::abuse);
  // Only the first word counts.
  CHECK(parse_every_split("ECHO POST\r\n").requests.size() == 1);
}

TEST_CASE("size limits", "[parser][limits]") {
  limits lim;
  lim.max_inline = 16;
  lim.max_bulk = 8;
  lim.max_multibulk = 3;
  lim.max_query = 20;
  CHECK(parse_every_split("ECHO 0123456789\r\n", lim).requests.size() == 1); // 15 bytes
  CHECK(parse_every_split(std::string(40, 'x') + "\r\n", lim).error == "too big inline request");
  CHECK(parse_every_split("*1\r\n$9\r\n", lim).error == "invalid bulk length");
  CHECK(parse_every_split("*1\r\n$8\r\n12345678\r\n", lim).requests.size() == 1);
  CHECK(parse_every_split("*4\r\n", lim).error == "invalid multibulk length");
  CHECK(parse_every_split("*3\r\n$8\r\n12345678\r\n$8\r\n12345678\r\n$8\r\n", lim).error
        == "query buffer limit exceeded");
  CHECK(parse_all("*" + std::string(70000, '1'), 0).error == "too big mbulk count string");
  CHECK(parse_all("*1\r\n$" + std::string(70000, '1'), 0).error == "too big bulk count string");
}

TEST_CASE("pre-authentication limits are Redis's", "[parser][limits]") {
  auto lim = unauthenticated_limits(limits{});
  CHECK(lim.max_multibulk == 10);
  CHECK(lim.max_bulk == 16 * 1024);
  CHECK(parse_all("*11\r\n", 0, lim).error == "invalid multibulk length");
  CHECK(parse_all("*1\r\n$16385\r\n", 0, lim).error == "invalid bulk length");
}

TEST_CASE("a large bulk arriving in small pieces is not rescanned", "[parser]") {
  std::string value(1 << 20, 'v');
  std::string input = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + std::to_string(value.size()) + "\r\n"
                      + value + "\r\n";
  auto r = parse_all(input, 1000);
  REQUIRE(r.requests.size() == 1);
  CHECK(r.requests[0][2] == value);
}

TEST_CASE("bulk_remaining counts down the bytes of the bulk being read, at every split",
          "[parser]") {
  const std::string value(300, 'x');
  const std::string input = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$300\r\n" + value + "\r\n";
  // Where each bulk's data begins, and its length.
  const std::vector<std::pair<size_t, size_t>> bulks = {{8, 3}, {17, 1}, {26, 300}};
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    request_parser p;
    const char* pos = input.data();
    const char* split = pos + cut;
    arg_list args;
    while (pos < split && p.feed(pos, split, args) == parse_status::need_more) {
    }
    INFO("input split after byte " << cut);
    size_t expected = 0; // outside a bulk's data and CRLF
    for (auto [start, len] : bulks)
      if (cut >= start && cut < start + len + 2)
        expected = start + len + 2 - cut;
    CHECK(p.bulk_remaining() == expected);
    const char* end = input.data() + input.size();
    while (pos < end && p.feed(pos, end, args) == parse_status::need_more) {
    }
    CHECK(args == arg_list{"SET", "k", value});
    CHECK(p.bulk_remaining() == 0);
  }
}

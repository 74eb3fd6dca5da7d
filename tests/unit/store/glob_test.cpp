#include <catch2/catch.hpp>

#include "store/glob.hpp"

using otkv::store::glob_match;

TEST_CASE("glob patterns match like Redis KEYS", "[glob]") {
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", "anything"));
  CHECK(glob_match("h?llo", "hello"));
  CHECK_FALSE(glob_match("h?llo", "hllo"));
  CHECK(glob_match("h*llo", "hllo"));
  CHECK(glob_match("h*llo", "heeeello"));
  CHECK(glob_match("h[ae]llo", "hallo"));
  CHECK_FALSE(glob_match("h[ae]llo", "hillo"));
  CHECK(glob_match("h[^e]llo", "hallo"));
  CHECK_FALSE(glob_match("h[^e]llo", "hello"));
  CHECK(glob_match("h[a-b]llo", "hbllo"));
  CHECK_FALSE(glob_match("h[a-b]llo", "hcllo"));
  CHECK(glob_match("h\\*llo", "h*llo"));
  CHECK_FALSE(glob_match("h\\*llo", "hello"));
  CHECK(glob_match("*:*:end", "a:b:c:end"));
  CHECK_FALSE(glob_match("*:*:end", "a:end"));
  CHECK(glob_match("a*b*c", "aXXbYYbZZc"));
  CHECK_FALSE(glob_match("abc", "abcd"));
  CHECK(glob_match("SAVE", "save", true));
  CHECK_FALSE(glob_match("SAVE", "save", false));
}

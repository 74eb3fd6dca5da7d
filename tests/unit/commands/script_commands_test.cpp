// EVAL / EVALSHA / SCRIPT through the front-end core (docs/scripts.md): Redis's
// conversions between Lua and RESP, its error texts, the partitions a script reserves,
// the script cache, and SCRIPT KILL of a running script.

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "commands/scripts.hpp"
#include "harness.hpp"
#include "store/key_hash.hpp"

using namespace otkv;
using namespace otkv::test;

namespace {

/// A key of partition `p` of 4.
std::string key_in(uint32_t p, const std::string& prefix = "k") {
  for (int i = 0;; ++i) {
    auto key = prefix + std::to_string(i);
    if (store::key_hash(key) % 4 == p)
      return key;
  }
}

std::string error_text(const std::string& resp) {
  return resp.size() > 3 && resp[0] == '-' ? resp.substr(1, resp.size() - 3) : "";
}

} // namespace

TEST_CASE("a script's return value becomes Redis's reply", "[scripts]") {
  harness h(4);
  CHECK(h.run({"EVAL", "return 'hello'", "0"}) == bulk("hello"));
  CHECK(h.run({"EVAL", "return 42", "0"}) == integer(42));
  CHECK(h.run({"EVAL", "return 3.99", "0"}) == integer(3)); // numbers are cut to integers
  CHECK(h.run({"EVAL", "return -3.99", "0"}) == integer(-3));
  CHECK(h.run({"EVAL", "return true", "0"}) == integer(1));
  CHECK(h.run({"EVAL", "return false", "0"}) == nil);
  CHECK(h.run({"EVAL", "return nil", "0"}) == nil);
  CHECK(h.run({"EVAL", "return", "0"}) == nil);
  // An array up to its first nil, nested as deep as it goes.
  CHECK(h.run({"EVAL", "return {1, 'two', {3, {'four'}}, false, true, nil, 7}", "0"})
        == "*5\r\n:1\r\n$3\r\ntwo\r\n*2\r\n:3\r\n*1\r\n$4\r\nfour\r\n$-1\r\n:1\r\n");
  CHECK(h.run({"EVAL", "return {}", "0"}) == "*0\r\n");
  CHECK(h.run({"EVAL", "return {ok='FINE'}", "0"}) == "+FINE\r\n");
  CHECK(h.run({"EVAL", "return redis.status_reply('FINE')", "0"}) == "+FINE\r\n");
  CHECK(h.run({"EVAL", "return {err='My Error'}", "0"}) == "-My Error\r\n");
  CHECK(h.run({"EVAL", "return redis.error_reply('ERR mine')", "0"}) == "-ERR mine\r\n");
  // KEYS and ARGV.
  CHECK(h.run({"EVAL", "return {KEYS[1], KEYS[2], ARGV[1], #ARGV}", "2", "a", "b", "x", "y"})
        == "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nx\r\n:2\r\n");
  CHECK(h.run({"EVAL", "return redis.sha1hex('Pizza & Mandolino')", "0"})
        == bulk("74822d82031af7493c20eefa13bd07ec4fada82f"));
  CHECK(h.run({"EVAL", "return redis.sha1hex('')", "0"})
        == bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
}

TEST_CASE("redis.call's replies become Lua values", "[scripts]") {
  harness h(4);
  auto k = key_in(1);
  CHECK(h.run({"EVAL", "return redis.call('set', KEYS[1], 'v').ok", "1", k}) == bulk("OK"));
  CHECK(h.run({"EVAL", "return type(redis.call('get', KEYS[1]))", "1", k}) == bulk("string"));
  CHECK(h.run({"EVAL", "return type(redis.call('get', 'nope'))", "0"}) == bulk("boolean"));
  CHECK(h.run({"EVAL", "return redis.call('get', 'nope') == false", "0"}) == integer(1));
  CHECK(h.run({"EVAL", "return type(redis.call('incr', KEYS[1]..'n'))", "1", k})
        == bulk("number"));
  CHECK(h.run({"EVAL", "local t = redis.call('mget', KEYS[1], 'nope') return {#t, t[1]}",
               "1", k})
        == "*2\r\n:2\r\n$1\r\nv\r\n");
  // Numbers passed to redis.call become their decimal text.
  CHECK(h.run({"EVAL", "redis.call('set', KEYS[1], 10) return redis.call('incrby', KEYS[1], 5)",
               "1", k})
        == integer(15));
  CHECK(h.run({"EVAL", "redis.call('set', KEYS[1], 0.5) return redis.call('get', KEYS[1])",
               "1", k})
        == bulk("0.5"));
  // An error: redis.pcall returns it as {err = …}; redis.call raises it.
  CHECK(h.run({"SET", k, "text"}) == ok);
  CHECK(h.run({"EVAL", "return redis.pcall('incr', KEYS[1]).err", "1", k})
        == bulk("ERR value is not an integer or out of range"));
  auto raised = error_text(h.run({"EVAL", "return redis.call('incr', KEYS[1])", "1", k}));
  CHECK(raised.rfind("ERR value is not an integer or out of range script: f_", 0) == 0);
  CHECK(raised.find(", on @user_script:1.") != std::string::npos);
  // A caught error lets the script go on.
  CHECK(h.run({"EVAL", "redis.pcall('incr', KEYS[1]) return 'after'", "1", k}) == bulk("after"));
}

TEST_CASE("scripts get Redis's errors", "[scripts]") {
  harness h(4);
  auto starts = [&](std::vector<std::string> args, const std::string& prefix) {
    auto text = error_text(h.run(std::move(args)));
    INFO(text);
    CHECK(text.rfind(prefix, 0) == 0);
  };
  starts({"EVAL", "return 1", "-1"}, "ERR Number of keys can't be negative");
  starts({"EVAL", "return 1", "2", "a"}, "ERR Number of keys can't be greater than number of args");
  starts({"EVAL", "return 1", "x"}, "ERR value is not an integer");
  starts({"EVAL", "return 1"}, "ERR wrong number of arguments for 'eval' command");
  starts({"EVAL", "this is not lua", "0"}, "ERR Error compiling script (new function): user_script:1:");
  starts({"EVAL", "return a", "0"}, "ERR Script attempted to access nonexistent global variable 'a'");
  starts({"EVAL", "a = 10", "0"}, "ERR Attempt to modify a readonly table");
  starts({"EVAL", "return nosuchfunction()", "0"}, "ERR Script attempted to access nonexistent global");
  starts({"EVAL", "local t = nil return t.x", "0"}, "ERR user_script:1: attempt to index local 't'");
  starts({"EVAL", "error('boom')", "0"}, "ERR user_script:1: boom");
  starts({"EVAL", "return redis.call()", "0"}, "ERR Please specify at least one argument");
  starts({"EVAL", "return redis.call('nosuch')", "0"}, "ERR Unknown Redis command called from script");
  starts({"EVAL", "return redis.call('get', 'a', 'b')", "0"}, "ERR Wrong number of args calling Redis command from script");
  starts({"EVAL", "return redis.call('get', {})", "0"}, "ERR Lua redis lib command arguments must be strings or integers");
  // Commands of the connection, the server or scripting itself (arity is checked first).
  for (auto call : {"'multi'", "'exec'", "'watch', 'x'", "'eval', 'return 1', 0",
                    "'script', 'flush'", "'config', 'get', 'x'", "'info'", "'client', 'id'",
                    "'quit'", "'shutdown'"})
    starts({"EVAL", std::string("return redis.call(") + call + ")", "0"},
           "ERR This Redis command is not allowed from script");
  CHECK(h.run({"EVAL", "return redis.call('ping')", "0"}) == "+PONG\r\n");
  CHECK(h.run({"EVAL", "return redis.call('echo', 'e')", "0"}) == bulk("e"));
  // Files and stdout are out of reach.
  starts({"EVAL", "return dofile('/etc/passwd')", "0"}, "ERR Script attempted to access nonexistent global variable 'dofile'");
  starts({"EVAL", "return loadfile('/etc/passwd')", "0"}, "ERR Script attempted to access nonexistent global variable 'loadfile'");
  starts({"EVAL", "return io.open('/etc/passwd')", "0"}, "ERR Script attempted to access nonexistent global variable 'io'");
  starts({"EVAL", "return os.execute('true')", "0"}, "ERR Script attempted to access nonexistent global variable 'os'");
  // No script can change what the next one sees: the globals, the libraries and the
  // strings' metatable are locked, also against setmetatable and rawset.
  for (auto trick : {"setmetatable(_G, nil)", "rawset(_G, 'x', 1)", "redis.call = nil",
                     "rawset(redis, 'call', nil)", "string.rep = nil", "math.floor = nil",
                     "table.insert = nil", "getmetatable('').__index.rep = nil",
                     "setmetatable(redis, {})", "_G.redis = nil"}) {
    INFO(trick);
    CHECK(h.run({"EVAL", trick, "0"})[0] == '-');
  }
  CHECK(h.run({"EVAL", "return redis.call('ping')", "0"}) == "+PONG\r\n");
  CHECK(h.run({"EVAL", "return string.rep('a', 3) .. math.floor(2.5)", "0"}) == bulk("aaa2"));
  CHECK(h.run({"EVAL", "local t = {} rawset(t, 'x', 1) return t.x", "0"}) == integer(1));
  starts({"EVAL", "setmetatable(_G, {})", "0"}, "ERR Attempt to modify a readonly table");
  CHECK(h.run({"EVAL", "local t = setmetatable({}, {__index = function() return 9 end}) return t.x",
               "0"})
        == integer(9));
  // Source text loads; a precompiled chunk does not.
  CHECK(h.run({"EVAL", "return loadstring('return 5')()", "0"}) == integer(5));
  CHECK(h.run({"EVAL", "return loadstring(string.dump(function() return 1 end)) == nil", "0"})
        == integer(1));
  starts({"EVAL", "return setfenv", "0"}, "ERR Script attempted to access nonexistent global variable 'setfenv'");
  // Globals stay read-only across runs, and a run's KEYS do not leak into the next.
  CHECK(h.run({"EVAL", "return KEYS[1]", "1", "first"}) == bulk("first"));
  CHECK(h.run({"EVAL", "return KEYS[1]", "0"}) == nil);
}

TEST_CASE("a script reserves its declared keys' partitions and touches no other",
          "[scripts]") {
  harness h(4);
  auto a = key_in(0), b = key_in(2), same = key_in(0, "other");
  CHECK(h.run({"EVAL", "redis.call('set', KEYS[1], 2) redis.call('set', KEYS[2], 1) return 1",
               "2", b, a})
        == integer(1));
  REQUIRE(h.reservations.size() == 1);
  CHECK(h.reservations[0] == std::vector<uint32_t>{0, 2}); // ascending, each once
  CHECK(h.run({"MGET", a, b}) == "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  // A key of a partition the script did not declare: an error (Redis Cluster's).
  auto text = error_text(h.run({"EVAL", "return redis.call('set', ARGV[1], 'v')", "1", a, b}));
  CHECK(text.rfind("ERR Script attempted to access a non local key", 0) == 0);
  CHECK(h.run({"GET", b}) == bulk("2"));
  // An undeclared key of a declared key's partition is within reach.
  CHECK(h.run({"EVAL", "return redis.call('set', ARGV[1], 'v')", "1", a, same}) == ok);
  CHECK(h.run({"GET", same}) == bulk("v"));
  // No key declared: every partition, as Redis runs a script.
  h.reservations.clear();
  CHECK(h.run({"EVAL", "return redis.call('mget', ARGV[1], ARGV[2])", "0", a, b})
        == "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  REQUIRE(h.reservations.size() == 1);
  CHECK(h.reservations[0] == std::vector<uint32_t>{0, 1, 2, 3});
  CHECK(h.run({"EVAL", "return redis.call('dbsize')", "0"}) == integer(3));
  // Writes before an error stay (Redis does not roll a script back).
  CHECK(h.run({"EVAL", "redis.call('set', KEYS[1], 'kept') redis.call('incr', KEYS[1])", "1", a})
          .rfind("-ERR value is not an integer", 0)
        == 0);
  CHECK(h.run({"GET", a}) == bulk("kept"));
  // A busy partition: the script runs nothing.
  h.busy = true;
  CHECK(h.run({"EVAL", "return redis.call('set', KEYS[1], 'no')", "1", a})[0] == '-');
  h.busy = false;
  CHECK(h.run({"GET", a}) == bulk("kept"));
}

TEST_CASE("read-only scripts refuse writes", "[scripts]") {
  harness h(4);
  CHECK(h.run({"SET", "k", "v"}) == ok);
  CHECK(h.run({"EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k"}) == bulk("v"));
  CHECK(error_text(h.run({"EVAL_RO", "return redis.call('del', KEYS[1])", "1", "k"}))
          .rfind("ERR Write commands are not allowed from read-only scripts.", 0)
        == 0);
  CHECK(h.run({"GET", "k"}) == bulk("v"));
  auto sha = cmd::sha1_hex("return redis.call('incr', KEYS[1])");
  CHECK(h.run({"SCRIPT", "LOAD", "return redis.call('incr', KEYS[1])"}) == bulk(sha));
  CHECK(h.run({"EVALSHA_RO", sha, "1", "n"})[0] == '-');
  CHECK(h.run({"EVALSHA", sha, "1", "n"}) == integer(1));
}

TEST_CASE("the script cache: EVAL and SCRIPT LOAD keep, EVALSHA finds, FLUSH forgets",
          "[scripts]") {
  harness h(4);
  std::string body = "return ARGV[1] .. '!'";
  auto sha = cmd::sha1_hex(body);
  CHECK(h.run({"EVALSHA", sha, "0", "x"}) == "-NOSCRIPT No matching script. Please use EVAL.\r\n");
  CHECK(h.run({"SCRIPT", "EXISTS", sha, "nope"}) == "*2\r\n:0\r\n:0\r\n");
  CHECK(h.run({"EVAL", body, "0", "x"}) == bulk("x!"));
  CHECK(h.run({"EVALSHA", sha, "0", "y"}) == bulk("y!"));
  std::string upper = sha;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(h.run({"EVALSHA", upper, "0", "z"}) == bulk("z!"));
  CHECK(h.run({"SCRIPT", "EXISTS", sha, "nope"}) == "*2\r\n:1\r\n:0\r\n");
  CHECK(h.run({"SCRIPT", "FLUSH"}) == ok);
  CHECK(h.run({"SCRIPT", "EXISTS", sha}) == "*1\r\n:0\r\n");
  CHECK(h.run({"EVALSHA", sha, "0", "x"})[0] == '-'); // also compiled copies are gone
  auto other = cmd::sha1_hex("return 7");
  CHECK(h.run({"SCRIPT", "LOAD", "return 7"}) == bulk(other));
  CHECK(h.run({"EVALSHA", other, "0"}) == integer(7));
  CHECK(error_text(h.run({"SCRIPT", "LOAD", "return ("}))
          .rfind("ERR Error compiling script (new function)", 0)
        == 0);
  CHECK(h.run({"SCRIPT", "FLUSH", "ASYNC"}) == ok);
  CHECK(h.run({"SCRIPT", "FLUSH", "LATER"})[0] == '-');
  CHECK(h.run({"SCRIPT", "KILL"}) == "-NOTBUSY No scripts in execution right now.\r\n");
  CHECK(h.run({"SCRIPT", "NOPE"})[0] == '-');
  CHECK(h.run({"SCRIPT", "HELP"})[0] == '*');
}

TEST_CASE("SCRIPT KILL stops a running script that wrote nothing; shutdown stops any",
          "[scripts]") {
  auto registry = std::make_shared<cmd::script_registry>();
  std::vector<store::partition> parts(2);
  std::atomic<int> data_calls{0}; // redis.call's uses of the partitions
  cmd::reserved_data reserved = [&](uint32_t p) {
    ++data_calls;
    return &parts[p];
  };
  auto run_in_thread = [&](const std::string& body, net::reply& out) {
    return std::thread([&, body] {
      cmd::script_runner runner(registry, cmd::key_router(2));
      net::arg_list args{"EVAL", body, "0"};
      cmd::script_call call;
      cmd::parse_script_call(args, call);
      call.partitions = {0, 1};
      out = runner.run(call, reserved, 0);
    });
  };
  auto kill_until = [&](cmd::script_registry::kill_outcome want) {
    for (int i = 0; i < 5000; ++i) {
      if (registry->kill() == want)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  };
  // A loop that only reads: killed. A pcall around it does not save it.
  net::reply looped;
  auto t = run_in_thread("while true do pcall(function() while true do end end) end", looped);
  CHECK(kill_until(cmd::script_registry::kill_outcome::killed));
  t.join();
  CHECK(looped.text.rfind("ERR Script killed by user with SCRIPT KILL...", 0) == 0);
  CHECK(registry->kill() == cmd::script_registry::kill_outcome::not_busy);
  // A loop that wrote first: unkillable, but shutdown stops it. SCRIPT KILL is asked only
  // once the SET runs (its second use of the data: the first checks its key), as asking
  // earlier would rightly kill the script before it writes.
  net::reply wrote;
  t = run_in_thread("redis.call('set', 'k', 'v') while true do end", wrote);
  for (int i = 0; i < 5000 && data_calls.load() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(registry->kill() == cmd::script_registry::kill_outcome::unkillable);
  registry->stop_all();
  t.join();
  INFO(wrote.text);
  CHECK(wrote.text.rfind("ERR Script stopped: the server is shutting down", 0) == 0);
}

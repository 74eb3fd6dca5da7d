#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <memory>

#include "harness.hpp"

using namespace otkv::test;

TEST_CASE("Unknown commands and wrong arity read like Redis", "[server]") {
  harness h;
  CHECK(h.run({"FOO"}) == "-ERR unknown command 'FOO', with args beginning with: \r\n");
  CHECK(h.run({"foo", "a", "b"}) == "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
  CHECK(h.run({"GET"}) == "-ERR wrong number of arguments for 'get' command\r\n");
  CHECK(h.run({"GET", "a", "b"}) == "-ERR wrong number of arguments for 'get' command\r\n");
  CHECK(h.run({"ECHO"}) == "-ERR wrong number of arguments for 'echo' command\r\n");
}

TEST_CASE("PING, ECHO, SELECT, QUIT, TIME", "[server]") {
  harness h;
  CHECK(h.run({"PING"}) == "+PONG\r\n");
  CHECK(h.run({"ping", "hi"}) == bulk("hi"));
  CHECK(h.run({"PING", "a", "b"}) == "-ERR wrong number of arguments for 'ping' command\r\n");
  CHECK(h.run({"ECHO", "x y"}) == bulk("x y"));
  CHECK(h.run({"SELECT", "0"}) == ok);
  CHECK(h.run({"SELECT", "1"}) == "-ERR DB index is out of range\r\n");
  CHECK(h.run({"SELECT", "x"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(h.effect.what == otkv::cmd::effect::kind::none);
  CHECK(h.run({"QUIT"}) == ok);
  CHECK(h.effect.what == otkv::cmd::effect::kind::close);
  auto t = h.run({"TIME"});
  CHECK(t.rfind("*2\r\n$10\r\n", 0) == 0);
}

TEST_CASE("CLIENT subcommands", "[server]") {
  harness h;
  CHECK(h.run({"CLIENT", "GETNAME"}) == nil);
  CHECK(h.run({"CLIENT", "SETNAME", "worker-1"}) == ok);
  CHECK(h.run({"CLIENT", "GETNAME"}) == bulk("worker-1"));
  CHECK(h.run({"CLIENT", "SETNAME", "bad name"})
        == "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  CHECK(h.run({"CLIENT", "ID"}) == integer(7));
  CHECK(h.run({"CLIENT", "SETINFO", "lib-name", "redis-py"}) == ok);
  CHECK(h.run({"CLIENT", "SETINFO", "lib-ver", "5.0.1"}) == ok);
  CHECK(h.run({"CLIENT", "SETINFO", "other", "x"}) == "-ERR Unrecognized option 'other'\r\n");
  CHECK(h.run({"CLIENT", "INFO"}).find("lib-name=redis-py lib-ver=5.0.1") != std::string::npos);
  CHECK(h.run({"CLIENT", "NOPE"}) == "-ERR unknown subcommand 'NOPE'. Try CLIENT HELP.\r\n");
}

TEST_CASE("HELLO accepts protocol 2 only", "[server]") {
  harness h;
  auto r = h.run({"HELLO", "2"});
  CHECK(r.rfind("*14\r\n$6\r\nserver\r\n$4\r\notkv\r\n", 0) == 0);
  CHECK(r.find("$5\r\nproto\r\n:2\r\n") != std::string::npos);
  CHECK(h.run({"HELLO", "3"}) == "-NOPROTO sorry, this protocol version is not supported.\r\n");
  CHECK(h.run({"HELLO", "x"}) == "-ERR Protocol version is not an integer or out of range\r\n");
  CHECK(h.run({"HELLO", "2", "SETNAME", "me"}).rfind("*14", 0) == 0);
  CHECK(h.run({"CLIENT", "GETNAME"}) == bulk("me"));
}

TEST_CASE("COMMAND COUNT, INFO and DOCS describe the table", "[server]") {
  harness h;
  // Subcommand rows ("cluster|countkeysinslot") are listed under their command.
  size_t count = 0;
  for (const auto& c : otkv::cmd::command_table())
    count += c.name.find('|') == std::string_view::npos ? 1 : 0;
  REQUIRE(count < otkv::cmd::command_table().size());
  CHECK(h.run({"COMMAND", "COUNT"}) == integer(static_cast<long long>(count)));
  CHECK(h.run({"COMMAND"}).rfind("*" + std::to_string(count) + "\r\n", 0) == 0);
  auto info = h.run({"COMMAND", "INFO", "get", "nope"});
  CHECK(info.rfind("*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n", 0)
        == 0);
  CHECK(info.find("*-1\r\n") != std::string::npos);
  auto docs = h.run({"COMMAND", "DOCS", "set"});
  CHECK(docs.rfind("*2\r\n$3\r\nset\r\n*6\r\n$7\r\nsummary\r\n", 0) == 0);
}

TEST_CASE("CONFIG GET matches globs", "[server]") {
  harness h;
  h.server_.info.config = {{"save", ""}, {"appendonly", "no"}, {"port", "7379"}};
  CHECK(h.run({"CONFIG", "GET", "save"}) == "*2\r\n" + bulk("save") + bulk(""));
  CHECK(h.run({"CONFIG", "GET", "APPEND*"}) == "*2\r\n" + bulk("appendonly") + bulk("no"));
  CHECK(h.run({"CONFIG", "GET", "nothing"}) == "*0\r\n");
  CHECK(h.run({"CONFIG", "GET"}) == "-ERR wrong number of arguments for 'config|get' command\r\n");
  CHECK(h.run({"CONFIG", "FOO"}) == "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n");
}

TEST_CASE("INFO reports sections with Redis field names", "[server]") {
  harness h; // every request is counted as it arrives, INFO too
  h.run({"SET", "a", "1"});
  h.run({"SET", "b", "1", "EX", "100"});
  auto info = h.run({"INFO"});
  CHECK(info.find("# Server\r\n") != std::string::npos);
  CHECK(info.find("redis_version:") != std::string::npos);
  CHECK(info.find("# Clients\r\nconnected_clients:") != std::string::npos);
  CHECK(info.find("total_commands_processed:3\r\n") != std::string::npos);
  CHECK(info.find("db0:keys=2,expires=1,avg_ttl=0\r\n") != std::string::npos);
  auto stats = h.run({"INFO", "stats"});
  CHECK(stats.find("# Server") == std::string::npos);
  CHECK(stats.find("# Stats") != std::string::npos);
}

TEST_CASE("SHUTDOWN asks the server to stop", "[server]") {
  harness h;
  CHECK(h.run({"SHUTDOWN", "BOGUS"}) == "-ERR syntax error\r\n");
  CHECK(h.effect.what == otkv::cmd::effect::kind::none);
  CHECK(h.run({"SHUTDOWN", "NOSAVE"}).empty());
  CHECK(h.effect.what == otkv::cmd::effect::kind::shutdown);
  CHECK(h.effect.save == otkv::cmd::effect::save_choice::nosave);
  CHECK(h.run({"SHUTDOWN", "SAVE"}).empty());
  CHECK(h.effect.save == otkv::cmd::effect::save_choice::save);
  CHECK(h.run({"SHUTDOWN"}).empty());
  CHECK(h.effect.save == otkv::cmd::effect::save_choice::configured);
}

TEST_CASE("AUTH guards every command but AUTH, HELLO and QUIT", "[server][auth]") {
  harness h;
  h.server_.info.requirepass = "s3cret";
  h.client_.authenticated = false;
  CHECK(h.run({"GET", "k"}) == "-NOAUTH Authentication required.\r\n");
  CHECK(h.run({"SELECT", "0"}) == "-NOAUTH Authentication required.\r\n");
  CHECK(h.run({"COMMAND", "COUNT"}) == "-NOAUTH Authentication required.\r\n");
  CHECK(h.run({"SHUTDOWN"}) == "-NOAUTH Authentication required.\r\n");
  CHECK(h.effect.what == otkv::cmd::effect::kind::none);
  CHECK(h.run({"NOSUCH"}).rfind("-ERR unknown command", 0) == 0);
  CHECK(h.run({"HELLO", "2"}).rfind("-NOAUTH HELLO must be called", 0) == 0);
  CHECK(h.run({"AUTH", "wrong"})
        == "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  CHECK(h.effect.what == otkv::cmd::effect::kind::auth_failed);
  CHECK(h.run({"AUTH", "other", "s3cret"})
        == "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  CHECK(h.run({"AUTH", "s3cre"})
        == "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  CHECK_FALSE(h.client_.authenticated);
  CHECK(h.run({"AUTH", "default", "s3cret"}) == ok);
  CHECK(h.client_.authenticated);
  CHECK(h.run({"GET", "k"}) == nil);
}

TEST_CASE("HELLO 2 AUTH authenticates", "[server][auth]") {
  harness h;
  h.server_.info.requirepass = "pw";
  h.client_.authenticated = false;
  CHECK(h.run({"HELLO", "2", "AUTH", "default", "bad"})
        == "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  CHECK(h.run({"HELLO", "2", "AUTH", "default", "pw", "SETNAME", "x"}).rfind("*14", 0) == 0);
  CHECK(h.client_.authenticated);
  CHECK(h.run({"CLIENT", "GETNAME"}) == bulk("x"));
}

TEST_CASE("AUTH without a configured password says so", "[server][auth]") {
  harness h;
  CHECK(h.run({"AUTH", "x"}).rfind("-ERR AUTH <password> called without any password", 0) == 0);
}

TEST_CASE("Write commands are refused with -MISCONF while the op log fails", "[server][persistence]") {
  harness h;
  auto health = std::make_shared<std::atomic<int>>(0);
  h.server_.info.log_error = health;
  CHECK(h.run({"SET", "k", "v"}) == ok);
  CHECK(h.run({"INFO", "persistence"}).find("aof_last_write_status:ok\r\n") != std::string::npos);
  health->store(ENOSPC);
  const std::string misconf = "-MISCONF Errors writing to the AOF file: No space left on device\r\n";
  CHECK(h.run({"SET", "k", "w"}) == misconf);
  CHECK(h.run({"DEL", "k"}) == misconf);
  CHECK(h.run({"INCR", "n"}) == misconf);
  CHECK(h.run({"FLUSHALL"}) == misconf);
  CHECK(h.run({"GET", "k"}) == bulk("v")); // reads go on
  CHECK(h.run({"PING"}) == "+PONG\r\n");
  CHECK(h.run({"INFO", "persistence"}).find("aof_last_write_status:err\r\n") != std::string::npos);
  CHECK(h.run({"INFO", "commandstats"}).find("cmdstat_set:calls=1,") != std::string::npos);
  health->store(0);
  CHECK(h.run({"SET", "k", "w"}) == ok);
  CHECK(h.run({"GET", "k"}) == bulk("w"));
}

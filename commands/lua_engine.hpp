#pragma once

// A Lua 5.1 interpreter for EVAL scripts (docs/scripts.md): the sandbox Redis gives
// scripts (base, table, string and math libraries, read-only globals), the `redis`
// library, and Redis's conversions between Lua values and RESP replies. It knows no
// partitions: redis.call goes to the lua_host the caller passes. One engine per thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "net/reply.hpp"
#include "net/request_parser.hpp"

struct lua_State;

namespace otkv::cmd {

/// What a running script needs from whoever runs it.
class lua_host {
public:
  virtual ~lua_host() = default;
  /// Runs `args` (args[0]: the command's name) for redis.call / redis.pcall: its reply,
  /// or an error reply (the script's error).
  virtual net::reply call(net::arg_list& args) = 0;
  /// Asked every few thousand Lua instructions: an error text stops the script with it
  /// (SCRIPT KILL, shutdown); nullptr lets it go on.
  virtual const char* interrupt() = 0;
};

/// See the file comment.
class lua_engine {
public:
  lua_engine();
  ~lua_engine();
  lua_engine(const lua_engine&) = delete;
  lua_engine& operator=(const lua_engine&) = delete;

  /// Compiles `body` as the function of `sha` (once). Returns an empty reply, or the
  /// compile error (`-ERR Error compiling script …`).
  net::reply load(const std::string& sha, std::string_view body);

  /// Whether `sha`'s function is compiled here.
  bool loaded(const std::string& sha);

  /// Runs `sha`'s function (load() it first) with KEYS = `keys` and ARGV = `argv`;
  /// `host` serves its redis.call. Returns its reply converted to RESP, or its error.
  net::reply run(const std::string& sha, const net::arg_list& keys, const net::arg_list& argv,
                 lua_host& host);

  /// Checks that `body` compiles, without keeping it: empty, or the compile error.
  static net::reply check(std::string_view body);

private:
  lua_State* lua_;
};

/// The SHA1 of `text` as 40 lowercase hex digits (a script's name, as Redis names it).
std::string sha1_hex(std::string_view text);

} // namespace otkv::cmd

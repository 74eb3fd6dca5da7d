#include "commands/lua_engine.hpp"

#include <openssl/evp.h>

#include <cstdio>
#include <utility>

#include "commands/errors.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}

namespace otkv::cmd {

namespace {

/// Registry key of the running script's lua_host.
char host_key;
/// Lua instructions between two lua_host::interrupt() questions.
constexpr int hook_every = 100'000;
/// How deep a reply may nest (either way) before it is cut.
constexpr int max_depth = 64;

lua_host* host_of(lua_State* lua) {
  lua_pushlightuserdata(lua, &host_key);
  lua_rawget(lua, LUA_REGISTRYINDEX);
  auto* host = static_cast<lua_host*>(lua_touserdata(lua, -1));
  lua_pop(lua, 1);
  return host;
}

/// Raises `text` as a Redis error table {err = text}: the script's reply, if uncaught.
[[noreturn]] int raise(lua_State* lua, const std::string& text) {
  lua_newtable(lua);
  lua_pushlstring(lua, text.data(), text.size());
  lua_setfield(lua, -2, "err");
  lua_error(lua);
  std::abort(); // lua_error does not return
}

// -- RESP → Lua ----------------------------------------------------------------------

void push_reply(lua_State* lua, const net::reply& r, int depth = 0) {
  using k = net::reply::kind;
  if (!lua_checkstack(lua, 4) || depth > max_depth) {
    lua_pushboolean(lua, 0);
    return;
  }
  switch (r.type) {
    case k::status:
    case k::error:
      lua_newtable(lua);
      lua_pushlstring(lua, r.text.data(), r.text.size());
      lua_setfield(lua, -2, r.type == k::status ? "ok" : "err");
      return;
    case k::integer:
      lua_pushnumber(lua, static_cast<lua_Number>(r.number));
      return;
    case k::bulk:
    case k::raw:
      lua_pushlstring(lua, r.text.data(), r.text.size());
      return;
    case k::array:
      lua_createtable(lua, static_cast<int>(r.items.size()), 0);
      for (size_t i = 0; i < r.items.size(); ++i) {
        push_reply(lua, r.items[i], depth + 1);
        lua_rawseti(lua, -2, static_cast<int>(i + 1));
      }
      return;
    case k::null:
    case k::null_array:
      lua_pushboolean(lua, 0);
      return;
  }
}

// -- Lua → RESP ----------------------------------------------------------------------

/// The string field `name` of the table at the top, if it has one.
bool string_field(lua_State* lua, const char* name, std::string& out) {
  lua_pushstring(lua, name);
  lua_rawget(lua, -2);
  bool found = lua_type(lua, -1) == LUA_TSTRING;
  if (found) {
    size_t n = 0;
    const char* s = lua_tolstring(lua, -1, &n);
    out.assign(s, n);
  }
  lua_pop(lua, 1);
  return found;
}

/// Converts the value at the top (and pops it).
net::reply to_reply(lua_State* lua, int depth = 0) {
  net::reply r;
  switch (lua_type(lua, -1)) {
    case LUA_TSTRING: {
      size_t n = 0;
      const char* s = lua_tolstring(lua, -1, &n);
      r = net::reply::bulk(std::string(s, n));
      break;
    }
    case LUA_TBOOLEAN:
      r = lua_toboolean(lua, -1) ? net::reply::integer(1) : net::reply::null();
      break;
    case LUA_TNUMBER:
      r = net::reply::integer(static_cast<int64_t>(lua_tonumber(lua, -1)));
      break;
    case LUA_TTABLE: {
      std::string text;
      if (string_field(lua, "err", text)) {
        r = err::from_script(std::move(text));
      } else if (string_field(lua, "ok", text)) {
        r = net::reply::status(std::move(text));
      } else if (depth >= max_depth || !lua_checkstack(lua, 4)) {
        r = err::script_reply_too_deep();
      } else {
        std::vector<net::reply> items;
        for (int i = 1;; ++i) { // up to the first nil, as Redis
          lua_rawgeti(lua, -1, i);
          if (lua_isnil(lua, -1)) {
            lua_pop(lua, 1);
            break;
          }
          items.push_back(to_reply(lua, depth + 1));
        }
        r = net::reply::array(std::move(items));
      }
      break;
    }
    default:
      r = net::reply::null();
  }
  lua_pop(lua, 1);
  return r;
}

// -- the redis library ---------------------------------------------------------------

int call_command(lua_State* lua, bool raise_errors) {
  int argc = lua_gettop(lua);
  if (argc == 0)
    raise(lua, err::script_call_no_args().text);
  net::arg_list args;
  args.reserve(static_cast<size_t>(argc));
  for (int i = 1; i <= argc; ++i) {
    if (lua_type(lua, i) == LUA_TNUMBER) {
      char buf[64];
      int n = std::snprintf(buf, sizeof buf, "%.17g", lua_tonumber(lua, i));
      args.emplace_back(buf, static_cast<size_t>(n));
    } else if (lua_type(lua, i) == LUA_TSTRING) {
      size_t n = 0;
      const char* s = lua_tolstring(lua, i, &n);
      args.emplace_back(s, n);
    } else {
      raise(lua, err::script_call_bad_arg().text);
    }
  }
  auto r = host_of(lua)->call(args);
  if (r.is_error() && raise_errors)
    raise(lua, r.text);
  push_reply(lua, r);
  return 1;
}

int redis_call(lua_State* lua) { return call_command(lua, true); }
int redis_pcall(lua_State* lua) { return call_command(lua, false); }

/// redis.error_reply / redis.status_reply: {err = s} / {ok = s}.
int make_reply_table(lua_State* lua, const char* field) {
  if (lua_gettop(lua) != 1 || lua_type(lua, 1) != LUA_TSTRING)
    raise(lua, err::script_wrong_args(field[0] == 'e' ? "redis.error_reply"
                                                      : "redis.status_reply").text);
  lua_newtable(lua);
  lua_pushvalue(lua, 1);
  lua_setfield(lua, -2, field);
  return 1;
}
int redis_error_reply(lua_State* lua) { return make_reply_table(lua, "err"); }
int redis_status_reply(lua_State* lua) { return make_reply_table(lua, "ok"); }

int redis_sha1hex(lua_State* lua) {
  if (lua_gettop(lua) != 1)
    raise(lua, err::script_wrong_args("redis.sha1hex").text);
  size_t n = 0;
  const char* s = lua_tolstring(lua, 1, &n);
  auto hex = sha1_hex(std::string_view(s != nullptr ? s : "", s != nullptr ? n : 0));
  lua_pushlstring(lua, hex.data(), hex.size());
  return 1;
}

/// redis.log: accepted and dropped (docs/scripts.md).
int redis_log(lua_State* lua) {
  if (lua_gettop(lua) < 2)
    raise(lua, err::script_wrong_args("redis.log").text);
  return 0;
}

/// redis.setresp: RESP2 only.
int redis_setresp(lua_State* lua) {
  if (lua_gettop(lua) != 1 || lua_tonumber(lua, 1) != 2)
    raise(lua, err::script_resp3().text);
  return 0;
}

/// redis.set_repl / redis.replicate_commands: effects are what is logged and shipped,
/// always (as Redis 7), so these change nothing.
int redis_replicate_commands(lua_State* lua) {
  lua_pushboolean(lua, 1);
  return 1;
}
int redis_nothing(lua_State*) { return 0; }

/// Registry key of the set of read-only tables (the globals and the libraries' proxies).
char readonly_key;

bool is_readonly(lua_State* lua, int index) {
  if (!lua_istable(lua, index))
    return false;
  lua_pushlightuserdata(lua, &readonly_key);
  lua_rawget(lua, LUA_REGISTRYINDEX);
  lua_pushvalue(lua, index < 0 ? index - 1 : index);
  lua_rawget(lua, -2);
  bool found = lua_toboolean(lua, -1) != 0;
  lua_pop(lua, 2);
  return found;
}

/// rawset that refuses the read-only tables (it would bypass their guard).
int guarded_rawset(lua_State* lua) {
  luaL_checktype(lua, 1, LUA_TTABLE);
  if (is_readonly(lua, 1))
    raise(lua, err::script_readonly_table().text);
  luaL_checkany(lua, 2);
  luaL_checkany(lua, 3);
  lua_settop(lua, 3);
  lua_rawset(lua, 1);
  return 1;
}

/// setmetatable that refuses the read-only tables with the read-only error.
int guarded_setmetatable(lua_State* lua) {
  if (is_readonly(lua, 1))
    raise(lua, err::script_readonly_table().text);
  lua_pushvalue(lua, lua_upvalueindex(1)); // the library's setmetatable
  lua_insert(lua, 1);
  lua_call(lua, lua_gettop(lua) - 1, LUA_MULTRET);
  return lua_gettop(lua);
}

/// loadstring of source text only: a precompiled (binary) chunk could break the
/// interpreter, so it gives nil and a message, as a syntax error does.
int text_loadstring(lua_State* lua) {
  size_t n = 0;
  const char* s = luaL_checklstring(lua, 1, &n);
  const char* name = luaL_optstring(lua, 2, s);
  if (n > 0 && s[0] == LUA_SIGNATURE[0]) {
    lua_pushnil(lua);
    lua_pushliteral(lua, "binary chunks are not loaded");
    return 2;
  }
  if (luaL_loadbuffer(lua, s, n, name) != 0) {
    lua_pushnil(lua);
    lua_insert(lua, -2);
    return 2;
  }
  return 1;
}

/// Adds the table at the top to the read-only tables (rawset and setmetatable refuse it).
void mark_readonly(lua_State* lua) {
  lua_pushlightuserdata(lua, &readonly_key);
  lua_rawget(lua, LUA_REGISTRYINDEX);
  lua_pushvalue(lua, -2);
  lua_pushboolean(lua, 1);
  lua_rawset(lua, -3);
  lua_pop(lua, 1);
}

int readonly_newindex(lua_State* lua) { raise(lua, err::script_readonly_table().text); }

/// Replaces global library `name` by an empty proxy reading through to it: scripts can
/// read it, not change it (so no script changes what the next one sees).
void protect_library(lua_State* lua, const char* name) {
  lua_newtable(lua); // the proxy
  lua_newtable(lua); // its metatable
  lua_getglobal(lua, name);
  lua_setfield(lua, -2, "__index");
  lua_pushcfunction(lua, readonly_newindex);
  lua_setfield(lua, -2, "__newindex");
  lua_pushboolean(lua, 0);
  lua_setfield(lua, -2, "__metatable"); // getmetatable gives false, setmetatable fails
  lua_setmetatable(lua, -2);
  mark_readonly(lua);
  lua_setglobal(lua, name);
}

/// Registry key of the real globals table (scripts see an empty proxy of it).
char globals_key;

/// A global's value, from the real globals (upvalue 1); reading an undeclared one is an
/// error (as Redis).
int global_index(lua_State* lua) {
  lua_pushvalue(lua, 2);
  lua_rawget(lua, lua_upvalueindex(1));
  if (!lua_isnil(lua, -1))
    return 1;
  const char* name = lua_tostring(lua, 2);
  raise(lua, err::script_undeclared_global(name != nullptr ? name : "?").text);
}
/// So is making one: the globals are read-only to scripts.
int global_newindex(lua_State* lua) { raise(lua, err::script_readonly_table().text); }

/// The message handler of a run: makes the error a table {err, source, line} naming
/// where in the script it was raised.
int on_error(lua_State* lua) {
  if (!lua_istable(lua, 1)) {
    const char* msg = lua_tostring(lua, 1);
    auto text = err::script_runtime(msg != nullptr ? msg : "execution failure").text;
    lua_newtable(lua);
    lua_pushlstring(lua, text.data(), text.size());
    lua_setfield(lua, -2, "err");
    lua_replace(lua, 1);
  }
  lua_Debug ar;
  for (int level = 1; level <= 3 && lua_getstack(lua, level, &ar); ++level) {
    lua_getinfo(lua, "Sl", &ar);
    if (ar.what != nullptr && std::string_view(ar.what) == "C")
      continue;
    lua_pushstring(lua, ar.source);
    lua_setfield(lua, 1, "source");
    lua_pushinteger(lua, ar.currentline);
    lua_setfield(lua, 1, "line");
    break;
  }
  lua_settop(lua, 1);
  return 1;
}

void on_hook(lua_State* lua, lua_Debug*) {
  auto* host = host_of(lua);
  if (host == nullptr)
    return;
  if (const char* stop = host->interrupt()) {
    // From now on every instruction asks again: a pcall that catches the error does not
    // save the script, its caller's next instruction raises it once more.
    lua_sethook(lua, on_hook, LUA_MASKCOUNT, 1);
    raise(lua, stop);
  }
}

void open_library(lua_State* lua, lua_CFunction open, const char* name) {
  lua_pushcfunction(lua, open);
  lua_pushstring(lua, name);
  lua_call(lua, 1, 0);
}

void set_function(lua_State* lua, const char* name, lua_CFunction f) {
  lua_pushcfunction(lua, f);
  lua_setfield(lua, -2, name);
}

void set_number(lua_State* lua, const char* name, int n) {
  lua_pushinteger(lua, n);
  lua_setfield(lua, -2, name);
}

/// Sets global `name` (in the real globals, past the proxy) to an array of `values`.
void set_array(lua_State* lua, const char* name, const net::arg_list& values) {
  lua_pushlightuserdata(lua, &globals_key);
  lua_rawget(lua, LUA_REGISTRYINDEX);
  lua_pushstring(lua, name);
  lua_createtable(lua, static_cast<int>(values.size()), 0);
  for (size_t i = 0; i < values.size(); ++i) {
    lua_pushlstring(lua, values[i].data(), values[i].size());
    lua_rawseti(lua, -2, static_cast<int>(i + 1));
  }
  lua_rawset(lua, -3);
  lua_pop(lua, 1);
}

std::string function_name(const std::string& sha) { return "f_" + sha; }

} // namespace

lua_engine::lua_engine() : lua_(luaL_newstate()) {
  if (lua_ == nullptr)
    throw std::bad_alloc();
  open_library(lua_, luaopen_base, "");
  open_library(lua_, luaopen_table, LUA_TABLIBNAME);
  open_library(lua_, luaopen_string, LUA_STRLIBNAME);
  open_library(lua_, luaopen_math, LUA_MATHLIBNAME);
  // No files, no stdout, no binary chunks, no changing another function's (or the
  // thread's) environment.
  for (const char* unsafe : {"loadfile", "dofile", "print", "load", "setfenv", "getfenv"}) {
    lua_pushnil(lua_);
    lua_setglobal(lua_, unsafe);
  }
  lua_pushcfunction(lua_, text_loadstring);
  lua_setglobal(lua_, "loadstring");
  lua_pushcfunction(lua_, guarded_rawset);
  lua_setglobal(lua_, "rawset");
  lua_getglobal(lua_, "setmetatable");
  lua_pushcclosure(lua_, guarded_setmetatable, 1);
  lua_setglobal(lua_, "setmetatable");
  lua_pushlightuserdata(lua_, &readonly_key);
  lua_newtable(lua_);
  lua_rawset(lua_, LUA_REGISTRYINDEX);
  lua_newtable(lua_);
  set_function(lua_, "call", redis_call);
  set_function(lua_, "pcall", redis_pcall);
  set_function(lua_, "error_reply", redis_error_reply);
  set_function(lua_, "status_reply", redis_status_reply);
  set_function(lua_, "sha1hex", redis_sha1hex);
  set_function(lua_, "log", redis_log);
  set_function(lua_, "setresp", redis_setresp);
  set_function(lua_, "replicate_commands", redis_replicate_commands);
  set_function(lua_, "set_repl", redis_nothing);
  set_number(lua_, "LOG_DEBUG", 0);
  set_number(lua_, "LOG_VERBOSE", 1);
  set_number(lua_, "LOG_NOTICE", 2);
  set_number(lua_, "LOG_WARNING", 3);
  set_number(lua_, "REPL_NONE", 0);
  set_number(lua_, "REPL_AOF", 1);
  set_number(lua_, "REPL_SLAVE", 2);
  set_number(lua_, "REPL_REPLICA", 2);
  set_number(lua_, "REPL_ALL", 3);
  lua_setglobal(lua_, "redis");
  for (const char* library : {"redis", LUA_STRLIBNAME, LUA_MATHLIBNAME, LUA_TABLIBNAME})
    protect_library(lua_, library);
  // Strings' methods are the real string library: its metatable is locked too.
  lua_pushliteral(lua_, "");
  if (lua_getmetatable(lua_, -1)) {
    lua_pushboolean(lua_, 0);
    lua_setfield(lua_, -2, "__metatable");
    lua_pop(lua_, 1);
  }
  lua_pop(lua_, 1);
  // From here on scripts see the globals through an empty proxy: every assignment is
  // refused, every read goes to the real table (kept in the registry for KEYS/ARGV).
  lua_pushlightuserdata(lua_, &globals_key);
  lua_pushvalue(lua_, LUA_GLOBALSINDEX);
  lua_rawset(lua_, LUA_REGISTRYINDEX);
  lua_newtable(lua_); // the proxy
  lua_newtable(lua_); // its metatable
  lua_pushvalue(lua_, LUA_GLOBALSINDEX);
  lua_pushcclosure(lua_, global_index, 1);
  lua_setfield(lua_, -2, "__index");
  set_function(lua_, "__newindex", global_newindex);
  lua_pushboolean(lua_, 0);
  lua_setfield(lua_, -2, "__metatable");
  lua_setmetatable(lua_, -2);
  lua_pushvalue(lua_, -1);
  lua_setfield(lua_, LUA_GLOBALSINDEX, "_G"); // _G is the proxy too
  mark_readonly(lua_);
  lua_replace(lua_, LUA_GLOBALSINDEX);
  lua_sethook(lua_, on_hook, LUA_MASKCOUNT, hook_every);
}

lua_engine::~lua_engine() { lua_close(lua_); }

net::reply lua_engine::check(std::string_view body) {
  lua_State* lua = luaL_newstate();
  if (lua == nullptr)
    throw std::bad_alloc();
  net::reply r;
  if (luaL_loadbuffer(lua, body.data(), body.size(), "@user_script") != 0)
    r = err::script_compile(lua_tostring(lua, -1));
  lua_close(lua);
  return r;
}

bool lua_engine::loaded(const std::string& sha) {
  lua_getfield(lua_, LUA_REGISTRYINDEX, function_name(sha).c_str());
  bool found = lua_isfunction(lua_, -1);
  lua_pop(lua_, 1);
  return found;
}

net::reply lua_engine::load(const std::string& sha, std::string_view body) {
  if (loaded(sha))
    return {};
  if (luaL_loadbuffer(lua_, body.data(), body.size(), "@user_script") != 0) {
    auto r = err::script_compile(lua_tostring(lua_, -1));
    lua_pop(lua_, 1);
    return r;
  }
  lua_setfield(lua_, LUA_REGISTRYINDEX, function_name(sha).c_str());
  return {};
}

net::reply lua_engine::run(const std::string& sha, const net::arg_list& keys,
                           const net::arg_list& argv, lua_host& host) {
  lua_settop(lua_, 0);
  lua_sethook(lua_, on_hook, LUA_MASKCOUNT, hook_every);
  lua_pushlightuserdata(lua_, &host_key);
  lua_pushlightuserdata(lua_, &host);
  lua_rawset(lua_, LUA_REGISTRYINDEX);
  set_array(lua_, "KEYS", keys);
  set_array(lua_, "ARGV", argv);
  lua_pushcfunction(lua_, on_error);
  lua_getfield(lua_, LUA_REGISTRYINDEX, function_name(sha).c_str());
  net::reply r;
  if (!lua_isfunction(lua_, -1)) {
    r = err::noscript();
  } else if (lua_pcall(lua_, 0, 1, 1) != 0) {
    std::string msg, source, line;
    if (lua_istable(lua_, -1)) {
      string_field(lua_, "err", msg);
      string_field(lua_, "source", source);
      lua_getfield(lua_, -1, "line");
      if (lua_isnumber(lua_, -1))
        line = std::to_string(lua_tointeger(lua_, -1));
      lua_pop(lua_, 1);
    } else if (const char* text = lua_tostring(lua_, -1)) {
      msg = text;
    }
    r = err::script_failed(msg, function_name(sha), source, line);
  } else {
    r = to_reply(lua_);
  }
  lua_settop(lua_, 0);
  lua_pushlightuserdata(lua_, &host_key);
  lua_pushnil(lua_);
  lua_rawset(lua_, LUA_REGISTRYINDEX);
  // A small collection step per run keeps garbage from piling up between full cycles.
  lua_gc(lua_, LUA_GCSTEP, 1);
  return r;
}

std::string sha1_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha1(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned i = 0; i < n; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

} // namespace otkv::cmd

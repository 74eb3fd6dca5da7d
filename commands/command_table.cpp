// The command table: the one place where commands are registered.
// Adding a command = one line here + its handler in a family file + tests + a row in
// docs/commands.md.

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "commands/dispatch.hpp"
#include "commands/families.hpp"

namespace otkv::cmd {

namespace {

constexpr uint32_t W = flag::write;
constexpr uint32_t R = flag::readonly;
constexpr uint32_t F = flag::fast;
constexpr uint32_t A = flag::admin;
constexpr uint32_t N = flag::noauth | flag::loading | flag::stale; // allowed before AUTH
constexpr uint32_t L = flag::loading | flag::stale;
constexpr uint32_t ONE = flag::one_partition; // keys must share a partition (CROSSSLOT)

constexpr route C = route::connection;
constexpr route K = route::key;
constexpr route KS = route::keys;
constexpr route ALL = route::all;

// clang-format off
const std::vector<command> table = {
  // name        arity flags     keys       route handler         connection      merge          group          summary
  {"get",         2,  R | F,     1,  1, 1,  K,   op_get,          nullptr,        nullptr,       "string",     "Returns the string value of a key."},
  {"set",        -3,  W,         1,  1, 1,  K,   op_set,          nullptr,        nullptr,       "string",     "Sets the string value of a key, ignoring its type."},
  {"mget",       -2,  R | F,     1, -1, 1,  KS,  op_mget,         nullptr,        merge_by_key,  "string",     "Atomically returns the string values of one or more keys."},
  {"mset",       -3,  W,         1, -1, 2,  KS,  op_mset,         nullptr,        merge_ok,      "string",     "Sets the string values of one or more keys."},
  {"incr",        2,  W | F,     1,  1, 1,  K,   op_incr,         nullptr,        nullptr,       "string",     "Increments the integer value of a key by one."},
  {"decr",        2,  W | F,     1,  1, 1,  K,   op_decr,         nullptr,        nullptr,       "string",     "Decrements the integer value of a key by one."},
  {"incrby",      3,  W | F,     1,  1, 1,  K,   op_incrby,       nullptr,        nullptr,       "string",     "Increments the integer value of a key by a number."},
  {"decrby",      3,  W | F,     1,  1, 1,  K,   op_decrby,       nullptr,        nullptr,       "string",     "Decrements a number from the integer value of a key."},
  {"incrbyfloat", 3,  W | F,     1,  1, 1,  K,   op_incrbyfloat,  nullptr,        nullptr,       "string",     "Increment the floating point value of a key by a number."},
  {"append",      3,  W,         1,  1, 1,  K,   op_append,       nullptr,        nullptr,       "string",     "Appends a string to the value of a key."},
  {"strlen",      2,  R | F,     1,  1, 1,  K,   op_strlen,       nullptr,        nullptr,       "string",     "Returns the length of a string value."},
  {"getdel",      2,  W | F,     1,  1, 1,  K,   op_getdel,       nullptr,        nullptr,       "string",     "Returns the string value of a key after deleting the key."},
  {"getset",      3,  W,         1,  1, 1,  K,   op_getset,       nullptr,        nullptr,       "string",     "Returns the previous string value of a key after setting it to a new value."},
  {"getex",      -2,  W | F,     1,  1, 1,  K,   op_getex,        nullptr,        nullptr,       "string",     "Returns the string value of a key after setting its expiration time."},
  {"setnx",       3,  W | F,     1,  1, 1,  K,   op_setnx,        nullptr,        nullptr,       "string",     "Set the string value of a key only when the key doesn't exist."},
  {"setex",       4,  W,         1,  1, 1,  K,   op_setex,        nullptr,        nullptr,       "string",     "Sets the string value and expiration time of a key."},
  {"psetex",      4,  W,         1,  1, 1,  K,   op_psetex,       nullptr,        nullptr,       "string",     "Sets both string value and expiration time in milliseconds of a key."},
  {"getrange",    4,  R,         1,  1, 1,  K,   op_getrange,     nullptr,        nullptr,       "string",     "Returns a substring of the string stored at a key."},
  {"setrange",    4,  W,         1,  1, 1,  K,   op_setrange,     nullptr,        nullptr,       "string",     "Overwrites a part of a string value with another by an offset."},
  {"msetnx",     -3,  W | ONE,   1, -1, 2,  KS,  op_msetnx,       nullptr,        merge_ok,      "string",     "Atomically sets multiple keys only when none of them exist (keys in one partition)."},
  {"rename",      3,  W | ONE,   1,  2, 1,  KS,  op_rename,       nullptr,        merge_ok,      "keyspace",   "Renames a key and overwrites the destination (keys in one partition)."},
  {"renamenx",    3,  W | F | ONE, 1, 2, 1, KS,  op_renamenx,     nullptr,        merge_ok,      "keyspace",   "Renames a key only when the target key name doesn't exist (keys in one partition)."},
  {"copy",       -3,  W | ONE,   1,  2, 1,  KS,  op_copy,         nullptr,        merge_ok,      "keyspace",   "Copies the value of a key to a new key (keys in one partition)."},
  {"del",        -2,  W,         1, -1, 1,  KS,  op_del,          nullptr,        merge_sum,     "keyspace",   "Deletes one or more keys."},
  {"exists",     -2,  R | F,     1, -1, 1,  KS,  op_exists,       nullptr,        merge_sum,     "keyspace",   "Determines whether one or more keys exist."},
  {"keys",        2,  R,         0,  0, 0,  ALL, op_keys,         nullptr,        merge_concat,  "keyspace",   "Returns all key names that match a pattern."},
  {"expire",     -3,  W | F,     1,  1, 1,  K,   op_expire,       nullptr,        nullptr,       "keyspace",   "Sets the expiration time of a key in seconds."},
  {"pexpire",    -3,  W | F,     1,  1, 1,  K,   op_pexpire,      nullptr,        nullptr,       "keyspace",   "Sets the expiration time of a key in milliseconds."},
  {"expireat",   -3,  W | F,     1,  1, 1,  K,   op_expireat,     nullptr,        nullptr,       "keyspace",   "Sets the expiration time of a key to a Unix timestamp."},
  {"pexpireat",  -3,  W | F,     1,  1, 1,  K,   op_pexpireat,    nullptr,        nullptr,       "keyspace",   "Sets the expiration time of a key to a Unix milliseconds timestamp."},
  {"expiretime",  2,  R | F,     1,  1, 1,  K,   op_expiretime,   nullptr,        nullptr,       "keyspace",   "Returns the expiration time of a key as a Unix timestamp."},
  {"pexpiretime", 2,  R | F,     1,  1, 1,  K,   op_pexpiretime,  nullptr,        nullptr,       "keyspace",   "Returns the expiration time of a key as a Unix milliseconds timestamp."},
  {"unlink",     -2,  W | F,     1, -1, 1,  KS,  op_del,          nullptr,        merge_sum,     "keyspace",   "Asynchronously deletes one or more keys."},
  {"touch",      -2,  R | F,     1, -1, 1,  KS,  op_exists,       nullptr,        merge_sum,     "keyspace",   "Returns the number of existing keys out of those specified after updating the time they were last accessed."},
  {"ttl",         2,  R | F,     1,  1, 1,  K,   op_ttl,          nullptr,        nullptr,       "keyspace",   "Returns the expiration time in seconds of a key."},
  {"pttl",        2,  R | F,     1,  1, 1,  K,   op_pttl,         nullptr,        nullptr,       "keyspace",   "Returns the expiration time in milliseconds of a key."},
  {"persist",     2,  W | F,     1,  1, 1,  K,   op_persist,      nullptr,        nullptr,       "keyspace",   "Removes the expiration time of a key."},
  {"type",        2,  R | F,     1,  1, 1,  K,   op_type,         nullptr,        nullptr,       "keyspace",   "Determines the type of value stored at a key."},
  {"scan",       -2,  R,         0,  0, 0,  ALL, op_scan,         nullptr,        merge_scan,    "keyspace",   "Iterates over the key names in the database."},
  {"randomkey",   1,  R,         0,  0, 0,  ALL, op_randomkey,    nullptr,        merge_randomkey, "keyspace", "Returns a random key name from the database."},
  {"dbsize",      1,  R | F,     0,  0, 0,  ALL, op_dbsize,       nullptr,        merge_sum,     "server",     "Returns the number of keys in the database."},
  {"flushall",   -1,  W,         0,  0, 0,  ALL, op_flushall,     nullptr,        merge_ok,      "server",     "Removes all keys from all databases."},
  {"flushdb",    -1,  W,         0,  0, 0,  ALL, op_flushall,     nullptr,        merge_ok,      "server",     "Remove all keys from the current database."},
  {"info",       -1,  0,         0,  0, 0,  ALL, op_partition_stats, nullptr,     merge_info,    "server",     "Returns information and statistics about the server."},
  {"ping",       -1,  F,         0,  0, 0,  C,   nullptr,         conn_ping,      nullptr,       "connection", "Returns the server's liveliness response."},
  {"echo",        2,  F,         0,  0, 0,  C,   nullptr,         conn_echo,      nullptr,       "connection", "Returns the given string."},
  {"quit",       -1,  N | F,     0,  0, 0,  C,   nullptr,         conn_quit,      nullptr,       "connection", "Closes the connection."},
  {"select",      2,  L | F,     0,  0, 0,  C,   nullptr,         conn_select,    nullptr,       "connection", "Changes the selected database."},
  {"hello",      -1,  N | F,     0,  0, 0,  C,   nullptr,         conn_hello,     nullptr,       "connection", "Handshakes with the server."},
  {"auth",       -2,  N | F,     0,  0, 0,  C,   nullptr,         conn_auth,      nullptr,       "connection", "Authenticates the connection."},
  {"client",     -2,  0,         0,  0, 0,  C,   nullptr,         conn_client,    nullptr,       "connection", "A container for client connection commands."},
  {"command",    -1,  L,         0,  0, 0,  C,   nullptr,         conn_command,   nullptr,       "server",     "Returns detailed information about all commands."},
  {"config",     -2,  A,         0,  0, 0,  C,   nullptr,         conn_config,    nullptr,       "server",     "A container for server configuration commands."},
  {"time",        1,  F,         0,  0, 0,  C,   nullptr,         conn_time,      nullptr,       "server",     "Returns the server time."},
  {"debug",      -2,  A,         0,  0, 0,  C,   nullptr,         conn_debug,     nullptr,       "server",     "Fault injection for tests (needs --enable-debug-command yes)."},
  {"save",        1,  A,         0,  0, 0,  C,   nullptr,         conn_save,      nullptr,       "server",     "Synchronously saves the database to disk."},
  {"bgsave",     -1,  A,         0,  0, 0,  C,   nullptr,         conn_bgsave,    nullptr,       "server",     "Asynchronously saves the database to disk."},
  {"lastsave",    1,  F,         0,  0, 0,  C,   nullptr,         conn_lastsave,  nullptr,       "server",     "Returns the Unix timestamp of the last successful save to disk."},
  {"slowlog",    -2,  A,         0,  0, 0,  C,   nullptr,         conn_slowlog,   nullptr,       "server",     "A container for slow log commands."},
  {"shutdown",   -1,  A | L,     0,  0, 0,  C,   nullptr,         conn_shutdown,  nullptr,       "server",     "Stops the server, draining what is in flight."},
};
// clang-format on

const std::unordered_map<std::string, const command*>& index() {
  static const auto idx = [] {
    std::unordered_map<std::string, const command*> m;
    for (const auto& c : table)
      m.emplace(std::string(c.name), &c);
    return m;
  }();
  return idx;
}

} // namespace

const std::vector<command>& command_table() {
  return table;
}

const command* find_command(std::string_view name) {
  char buf[32];
  if (name.size() >= sizeof(buf))
    return nullptr;
  for (size_t i = 0; i < name.size(); ++i)
    buf[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
  auto i = index().find(std::string(buf, name.size()));
  return i == index().end() ? nullptr : i->second;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size())
    return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != lower[i])
      return false;
  return true;
}

} // namespace otkv::cmd

// The keyspace family: DEL, EXISTS, EXPIRE, TTL, SCAN, RENAME, COPY, DBSIZE, FLUSHALL …
// Handlers run on partitions (SCAN and RANDOMKEY merge their parts here);
// register_keyspace_family adds one table row per command.

#include <cstdlib>
#include <limits>

#include "commands/command_table.hpp"
#include "commands/dispatch.hpp"
#include "commands/errors.hpp"
#include "net/integer.hpp"
#include "store/glob.hpp"

namespace otkv::cmd {

namespace {

/// DEL key [key …] → number of keys removed.
net::reply op_del(op_context& ctx, const net::arg_list& args) {
  int64_t n = 0;
  for (size_t i = 1; i < args.size(); ++i)
    n += ctx.data.erase(args[i], ctx.now) ? 1 : 0;
  return net::reply::integer(n);
}

/// EXISTS key [key …] → number of keys that exist (a key named twice counts twice).
net::reply op_exists(op_context& ctx, const net::arg_list& args) {
  int64_t n = 0;
  for (size_t i = 1; i < args.size(); ++i)
    n += ctx.data.find(args[i], ctx.now) ? 1 : 0;
  return net::reply::integer(n);
}

/// KEYS pattern → array of the matching keys of this partition.
net::reply op_keys(op_context& ctx, const net::arg_list& args) {
  std::vector<net::reply> out;
  const std::string& pattern = args[1];
  bool all = pattern == "*";
  ctx.data.for_each(ctx.now, [&](const store::entry& e) {
    if (all || store::glob_match(pattern, e.key()))
      out.push_back(net::reply::bulk(std::string(e.key())));
  });
  return net::reply::array(std::move(out));
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: `unit_ms` is 1000 or 1; `absolute` for the
/// …AT forms (a Unix time instead of a time from now). As Redis 7.0's
/// expireGenericCommand: options first, then the number (negative allowed; only an
/// overflow is refused), then NX/XX/GT/LT; a deadline not after now deletes the key
/// (journaled as an erase) and answers 1.
net::reply expire_generic(op_context& ctx, const net::arg_list& args, int64_t unit_ms,
                          std::string_view name, bool absolute = false) {
  bool nx = false, xx = false, gt = false, lt = false;
  for (size_t i = 3; i < args.size(); ++i) {
    const auto& a = args[i];
    if (iequals(a, "nx"))
      nx = true;
    else if (iequals(a, "xx"))
      xx = true;
    else if (iequals(a, "gt"))
      gt = true;
    else if (iequals(a, "lt"))
      lt = true;
    else
      return err::unsupported_option(a);
  }
  if (nx && (xx || gt || lt))
    return err::nx_and_xx_gt_lt();
  if (gt && lt)
    return err::gt_and_lt();
  int64_t v = 0;
  if (!net::parse_int64(args[2], v))
    return err::not_integer();
  constexpr int64_t max = std::numeric_limits<int64_t>::max();
  constexpr int64_t min = std::numeric_limits<int64_t>::min();
  if (unit_ms != 1 && (v > max / unit_ms || v < min / unit_ms))
    return err::expire_time(name);
  int64_t ms = v * unit_ms;
  int64_t base = absolute ? 0 : ctx.now; // >= 0: adding it to a negative ms cannot overflow
  if (ms > max - base)
    return err::expire_time(name);
  store::millis at = base + ms;
  auto* e = ctx.data.find(args[1], ctx.now);
  if (!e)
    return net::reply::integer(0);
  // A key without a TTL counts as having an infinite one for GT and LT.
  if ((nx && e->expire_at() != 0) || (xx && e->expire_at() == 0)
      || (gt && (e->expire_at() == 0 || at <= e->expire_at()))
      || (lt && e->expire_at() != 0 && at >= e->expire_at()))
    return net::reply::integer(0);
  if (at <= ctx.now)
    ctx.data.erase(args[1], ctx.now);
  else
    ctx.data.set_expire(*e, at);
  return net::reply::integer(1);
}

/// TTL and PTTL: -2 missing, -1 no deadline, else the remaining time in the unit.
net::reply ttl_generic(op_context& ctx, const net::arg_list& args, bool seconds) {
  auto* e = ctx.data.find(args[1], ctx.now);
  if (!e)
    return net::reply::integer(-2);
  if (e->expire_at() == 0)
    return net::reply::integer(-1);
  int64_t left = e->expire_at() - ctx.now;
  return net::reply::integer(seconds ? (left + 500) / 1000 : left);
}

/// EXPIRE key seconds [NX|XX|GT|LT] → 1 if the deadline was set, 0 if not.
net::reply op_expire(op_context& ctx, const net::arg_list& args) {
  return expire_generic(ctx, args, 1000, "expire");
}

/// PEXPIRE key milliseconds [NX|XX|GT|LT] → 1 if the deadline was set, 0 if not.
net::reply op_pexpire(op_context& ctx, const net::arg_list& args) {
  return expire_generic(ctx, args, 1, "pexpire");
}

/// EXPIREAT key unix-seconds [NX|XX|GT|LT] → 1 if the deadline was set, 0 if not.
net::reply op_expireat(op_context& ctx, const net::arg_list& args) {
  return expire_generic(ctx, args, 1000, "expireat", true);
}

/// PEXPIREAT key unix-milliseconds [NX|XX|GT|LT] → 1 if the deadline was set, 0 if not.
net::reply op_pexpireat(op_context& ctx, const net::arg_list& args) {
  return expire_generic(ctx, args, 1, "pexpireat", true);
}

/// EXPIRETIME key → the deadline in Unix seconds (rounded, as Redis: (ms + 500) / 1000),
/// -1 without deadline, -2 without key.
net::reply op_expiretime(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[1], ctx.now);
  if (!e)
    return net::reply::integer(-2);
  if (e->expire_at() == 0)
    return net::reply::integer(-1);
  // Redis's sum wraps for a deadline within 500 ms of INT64_MAX; wrap the same way, without UB.
  auto rounded = static_cast<int64_t>(static_cast<uint64_t>(e->expire_at()) + 500);
  return net::reply::integer(rounded / 1000);
}

/// PEXPIRETIME key → the deadline in Unix milliseconds, -1 without deadline, -2 without key.
net::reply op_pexpiretime(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[1], ctx.now);
  if (!e)
    return net::reply::integer(-2);
  return net::reply::integer(e->expire_at() == 0 ? -1 : e->expire_at());
}

/// TTL key → seconds left, -1 without deadline, -2 without key.
net::reply op_ttl(op_context& ctx, const net::arg_list& args) {
  return ttl_generic(ctx, args, true);
}

/// PTTL key → milliseconds left, -1 without deadline, -2 without key.
net::reply op_pttl(op_context& ctx, const net::arg_list& args) {
  return ttl_generic(ctx, args, false);
}

/// PERSIST key → 1 if a deadline was removed, else 0.
net::reply op_persist(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[1], ctx.now);
  if (!e || e->expire_at() == 0)
    return net::reply::integer(0);
  ctx.data.set_expire(*e, 0);
  return net::reply::integer(1);
}

/// TYPE key → +string, +list, +set, +zset, +hash or +none.
net::reply op_type(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[1], ctx.now);
  return net::reply::status(std::string(e ? store::type_name(e->type()) : "none"));
}

/// SCAN cursor [MATCH pattern] [COUNT n] [TYPE t] on the cursor's partition → [next
/// position, keys…] ([] on another: the cursor names a partition of another node).
net::reply op_scan(op_context& ctx, const net::arg_list& args) {
  uint64_t cursor = std::strtoull(args[1].c_str(), nullptr, 10);
  if ((cursor >> scan_position_bits) != ctx.partition)
    return net::reply::array({});
  std::string pattern = "*";
  int64_t count = 10;
  const std::string* type = nullptr; // TYPE's name: only keys of that type
  for (size_t i = 2; i + 1 < args.size(); i += 2) {
    if (iequals(args[i], "match"))
      pattern = args[i + 1];
    else if (iequals(args[i], "count"))
      net::parse_int64(args[i + 1], count);
    else if (iequals(args[i], "type"))
      type = &args[i + 1];
  }
  uint64_t position = (cursor & ((uint64_t{1} << scan_position_bits) - 1))
                      << (64 - scan_position_bits);
  std::vector<net::reply> out{net::reply::integer(0)};
  uint64_t next = ctx.data.scan(position, static_cast<size_t>(count), ctx.now,
                                [&](const store::entry& e) {
                                  if ((type == nullptr
                                       || iequals(store::type_name(e.type()), to_lower(*type)))
                                      && store::glob_match(pattern, e.key()))
                                    out.push_back(net::reply::bulk(std::string(e.key())));
                                });
  out[0].number = static_cast<int64_t>(next >> (64 - scan_position_bits));
  return net::reply::array(std::move(out));
}

/// SCAN's merge: the cursor's partition answered [next position, keys…]; the reply is
/// [next cursor, [keys…]], moving to the next partition when this one is done.
net::reply merge_scan(client_context&, fanout& f) {
  const auto& args = f.args;
  int64_t parsed = 0;
  if (!net::parse_int64(args[1], parsed) || parsed < 0)
    return err::invalid_cursor();
  for (size_t i = 2; i < args.size(); i += 2) {
    if (i + 1 >= args.size())
      return err::syntax();
    int64_t n = 0;
    if (iequals(args[i], "count") && (!net::parse_int64(args[i + 1], n) || n < 1))
      return n < 1 && net::parse_int64(args[i + 1], n) ? err::syntax() : err::not_integer();
    if (!iequals(args[i], "count") && !iequals(args[i], "match") && !iequals(args[i], "type"))
      return err::syntax();
  }
  auto cursor = static_cast<uint64_t>(parsed);
  uint64_t part = cursor >> scan_position_bits;
  if (part >= f.places)
    return err::invalid_cursor();
  auto& r = f.results.at(0); // the cursor's partition's (route::cursor: the only part)
  if (r.is_error())
    return std::move(r);
  uint64_t next = static_cast<uint64_t>(r.items.at(0).number);
  if (next == 0 && f.next_place != 0)
    next = uint64_t{f.next_place} << scan_position_bits;
  else if (next != 0)
    next |= part << scan_position_bits;
  std::vector<net::reply> keys(std::make_move_iterator(r.items.begin() + 1),
                               std::make_move_iterator(r.items.end()));
  return net::reply::array({net::reply::bulk(std::to_string(next)),
                            net::reply::array(std::move(keys))});
}

/// Part of RANDOMKEY → one random live key of this partition, or null.
net::reply op_randomkey(op_context& ctx, const net::arg_list&) {
  std::vector<std::string> keys;
  uint64_t pos = ctx.data.size() == 0
                   ? 0
                   : static_cast<uint64_t>(std::rand()) << 33; // a random bucket prefix
  pos = ctx.data.scan(pos, 1, ctx.now, [&](const store::entry& e) { keys.emplace_back(e.key()); });
  if (keys.empty()) // wrapped past the end: try from the start
    ctx.data.scan(0, 1, ctx.now, [&](const store::entry& e) { keys.emplace_back(e.key()); });
  if (keys.empty())
    return net::reply::null();
  return net::reply::bulk(keys[static_cast<size_t>(std::rand()) % keys.size()]);
}

/// RANDOMKEY's merge: a random key among the partitions' picks, or null.
net::reply merge_randomkey(client_context&, fanout& f) {
  std::vector<net::reply*> picks;
  for (auto& r : f.results)
    if (r.type == net::reply::kind::bulk)
      picks.push_back(&r);
  if (picks.empty())
    return net::reply::null();
  return std::move(*picks[static_cast<size_t>(std::rand()) % picks.size()]);
}

/// RENAME key newkey → +OK; the value and deadline move (-ERR no such key without key).
net::reply op_rename(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[1], ctx.now);
  if (!e)
    return err::no_such_key();
  if (args[1] != args[2]) {
    if (e->type() == store::value_type::string)
      ctx.data.put(args[2], e->value(), e->expire_at());
    else // the aggregate is copied whole, and logged so
      ctx.data.put_object(args[2], e->object()->clone(), e->expire_at());
    ctx.data.erase(args[1], ctx.now);
  }
  return net::reply::ok();
}

/// RENAMENX key newkey → 1 if renamed, 0 if newkey exists.
net::reply op_renamenx(op_context& ctx, const net::arg_list& args) {
  if (!ctx.data.find(args[1], ctx.now))
    return err::no_such_key();
  if (ctx.data.find(args[2], ctx.now))
    return net::reply::integer(0);
  op_rename(ctx, args);
  return net::reply::integer(1);
}

/// COPY source destination [DB 0] [REPLACE] → 1 if copied, 0 if not.
net::reply op_copy(op_context& ctx, const net::arg_list& args) {
  bool replace = false;
  for (size_t i = 3; i < args.size(); ++i) {
    if (iequals(args[i], "replace")) {
      replace = true;
    } else if (iequals(args[i], "db") && i + 1 < args.size()) {
      int64_t db = 0;
      if (!net::parse_int64(args[++i], db))
        return err::not_integer();
      if (db != 0)
        return err::db_index();
    } else {
      return err::syntax();
    }
  }
  if (args[1] == args[2]) // as Redis, before looking the key up
    return err::same_object();
  auto* src = ctx.data.find(args[1], ctx.now);
  if (!src || (!replace && ctx.data.find(args[2], ctx.now)))
    return net::reply::integer(0);
  if (src->type() != store::value_type::string) {
    ctx.data.put_object(args[2], src->object()->clone(), src->expire_at());
    return net::reply::integer(1);
  }
  std::string value(src->value());
  ctx.data.put(args[2], value, src->expire_at());
  return net::reply::integer(1);
}

/// OBJECT HELP, and the subcommands without a row of their own (unknown).
net::reply conn_object(client_context&, net::arg_list& args) {
  if (iequals(args[1], "help") && args.size() == 2)
    return net::reply::array(
      {net::reply::status("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"),
       net::reply::status("ENCODING <key>"),
       net::reply::status("    Return the kind of internal representation used in order to store the value"),
       net::reply::status("    associated with a <key>."),
       net::reply::status("REFCOUNT <key>"),
       net::reply::status("    Return the number of references of the value associated with the specified"),
       net::reply::status("    <key> (always 1: OTKV shares no values)."),
       net::reply::status("HELP"),
       net::reply::status("    Print this help.")});
  return err::unknown_subcommand(args[1], "object");
}

/// OBJECT ENCODING key → how the value is stored (docs/data-types.md): "embstr" for every
/// string (kept in its key's one allocation), "listpack" / "intset" / "hashtable" /
/// "quicklist" for aggregates; null without key.
net::reply op_object_encoding(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[2], ctx.now);
  if (!e)
    return net::reply::null();
  if (e->type() == store::value_type::string)
    return net::reply::bulk("embstr");
  return net::reply::bulk(std::string(e->object()->encoding()));
}

/// OBJECT REFCOUNT key → 1 (OTKV shares no values), null without key.
net::reply op_object_refcount(op_context& ctx, const net::arg_list& args) {
  return ctx.data.find(args[2], ctx.now) ? net::reply::integer(1) : net::reply::null();
}

/// MEMORY HELP, and the subcommands without a row of their own (unknown).
net::reply conn_memory(client_context&, net::arg_list& args) {
  if (iequals(args[1], "help") && args.size() == 2)
    return net::reply::array(
      {net::reply::status("MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"),
       net::reply::status("USAGE <key> [SAMPLES <count>]"),
       net::reply::status("    Return memory in bytes used by <key> and its value (every element"),
       net::reply::status("    counted: SAMPLES is accepted and ignored)."),
       net::reply::status("HELP"),
       net::reply::status("    Print this help.")});
  return err::unknown_subcommand(args[1], "memory");
}

/// MEMORY USAGE key [SAMPLES n] → the bytes of the key's entry and its value (aggregates:
/// every element counted), null without key.
net::reply op_memory_usage(op_context& ctx, const net::arg_list& args) {
  for (size_t i = 3; i < args.size(); i += 2) {
    int64_t n = 0;
    if (!iequals(args[i], "samples") || i + 1 >= args.size())
      return err::syntax();
    if (!net::parse_int64(args[i + 1], n))
      return err::not_integer();
  }
  auto* e = ctx.data.find(args[2], ctx.now);
  if (!e)
    return net::reply::null();
  size_t bytes = 32 + e->key().size(); // the entry's header and key
  bytes += e->type() == store::value_type::string ? e->value().size()
                                                  : sizeof(void*) + e->object()->memory();
  return net::reply::integer(static_cast<int64_t>(bytes));
}

/// DBSIZE → number of keys in this partition (like Redis, expired keys not yet
/// reclaimed are counted).
net::reply op_dbsize(op_context& ctx, const net::arg_list&) {
  return net::reply::integer(static_cast<int64_t>(ctx.data.size()));
}

/// FLUSHALL|FLUSHDB [ASYNC|SYNC] → +OK once this partition is empty.
net::reply op_flushall(op_context& ctx, const net::arg_list& args) {
  if (args.size() > 2 || (args.size() == 2 && !iequals(args[1], "async") && !iequals(args[1], "sync")))
    return err::syntax();
  ctx.data.clear();
  return net::reply::ok();
}

} // namespace

void register_keyspace_family(command_registry& table) {
  using namespace shorthand;
  // clang-format off
  table.insert(table.end(), {
    // name        arity flags     keys       route handler         connection      merge          group          summary
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
    {"object",     -2,  SUB,       0,  0, 0,  C,   nullptr,         conn_object,    nullptr,       "keyspace",   "A container for object introspection commands."},
    {"object|encoding", 3, R,      2,  2, 1,  K,   op_object_encoding, nullptr,     nullptr,       "keyspace",   "Returns the internal encoding of a Redis object."},
    {"object|refcount", 3, R,      2,  2, 1,  K,   op_object_refcount, nullptr,     nullptr,       "keyspace",   "Returns the reference count of a value of a key."},
    {"memory",     -2,  SUB,       0,  0, 0,  C,   nullptr,         conn_memory,    nullptr,       "server",     "A container for memory diagnostics commands."},
    {"memory|usage", -3, R,        2,  2, 1,  K,   op_memory_usage, nullptr,        nullptr,       "server",     "Estimates the memory usage of a key."},
    {"scan",       -2,  R,         0,  0, 0,  CUR, op_scan,         nullptr,        merge_scan,    "keyspace",   "Iterates over the key names in the database."},
    {"randomkey",   1,  R,         0,  0, 0,  ALL, op_randomkey,    nullptr,        merge_randomkey, "keyspace", "Returns a random key name from the database."},
    {"dbsize",      1,  R | F,     0,  0, 0,  ALL, op_dbsize,       nullptr,        merge_sum,     "server",     "Returns the number of keys in the database."},
    {"flushall",   -1,  W,         0,  0, 0,  ALL, op_flushall,     nullptr,        merge_ok,      "server",     "Removes all keys from all databases."},
    {"flushdb",    -1,  W,         0,  0, 0,  ALL, op_flushall,     nullptr,        merge_ok,      "server",     "Remove all keys from the current database."},
  });
  // clang-format on
}

} // namespace otkv::cmd

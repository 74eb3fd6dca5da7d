// The hash family: HSET, HGET, HDEL, HINCRBY, HSCAN … Handlers run on the partition
// owning the key; a change is applied as a store::change_builder change, so the op log
// and replicas replay exactly it. register_hash_family adds one table row per command.

#include <cmath>
#include <limits>
#include <unordered_set>

#include "commands/aggregate.hpp"
#include "commands/command_table.hpp"
#include "commands/dispatch.hpp"
#include "commands/errors.hpp"
#include "commands/number_text.hpp"
#include "net/integer.hpp"
#include "store/glob.hpp"
#include "store/hash_object.hpp"

namespace otkv::cmd {

namespace {

using store::hash_object;

/// HSET key field value [field value …] → the number of fields added (HMSET: +OK).
net::reply hset_generic(op_context& ctx, const net::arg_list& args, bool ok_reply) {
  if (args.size() % 2 != 0)
    return err::arity(ok_reply ? "hmset" : "hset");
  bool wrong = false;
  auto* h = write_object<hash_object>(ctx, args[1], true, wrong);
  if (wrong)
    return err::wrong_type();
  // Every pair is recorded, as Redis propagates HSET whole (rewriting a value is a change).
  store::change_builder change("hset", ctx.data.records_kept());
  int64_t added = 0;
  for (size_t i = 2; i + 1 < args.size(); i += 2) {
    added += h->set(args[i], args[i + 1]) ? 1 : 0;
    change.add(args[i]).add(args[i + 1]);
  }
  note_change(ctx, args[1], *h, change);
  if (ok_reply)
    return net::reply::ok();
  return net::reply::integer(added);
}

net::reply op_hset(op_context& ctx, const net::arg_list& args) {
  return hset_generic(ctx, args, false);
}

net::reply op_hmset(op_context& ctx, const net::arg_list& args) {
  return hset_generic(ctx, args, true);
}

/// HSETNX key field value → 1 if the field was set, 0 if it existed.
net::reply op_hsetnx(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  auto* h = write_object<hash_object>(ctx, args[1], true, wrong);
  if (wrong)
    return err::wrong_type();
  if (h->get(args[2]))
    return net::reply::integer(0);
  apply_and_note(ctx, args[1], *h, store::change_builder("hset").add(args[2]).add(args[3]));
  return net::reply::integer(1);
}

/// HGET key field → the value, or null.
net::reply op_hget(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  const auto* h = read_object<hash_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  auto v = h ? h->get(args[2]) : std::nullopt;
  return v ? net::reply::bulk(std::string(*v)) : net::reply::null();
}

/// HMGET key field [field …] → the values (null for missing fields).
net::reply op_hmget(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  const auto* h = read_object<hash_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  std::vector<net::reply> out;
  for (size_t i = 2; i < args.size(); ++i) {
    auto v = h ? h->get(args[i]) : std::nullopt;
    out.push_back(v ? net::reply::bulk(std::string(*v)) : net::reply::null());
  }
  return net::reply::array(std::move(out));
}

/// HGETALL / HKEYS / HVALS: every field and/or value.
net::reply hgetall_generic(op_context& ctx, const net::arg_list& args, bool fields, bool values) {
  bool wrong = false;
  const auto* h = read_object<hash_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  std::vector<net::reply> out;
  if (h)
    h->for_each([&](std::string_view f, std::string_view v) {
      if (fields)
        out.push_back(net::reply::bulk(std::string(f)));
      if (values)
        out.push_back(net::reply::bulk(std::string(v)));
    });
  return net::reply::array(std::move(out));
}

net::reply op_hgetall(op_context& ctx, const net::arg_list& args) {
  return hgetall_generic(ctx, args, true, true);
}

net::reply op_hkeys(op_context& ctx, const net::arg_list& args) {
  return hgetall_generic(ctx, args, true, false);
}

net::reply op_hvals(op_context& ctx, const net::arg_list& args) {
  return hgetall_generic(ctx, args, false, true);
}

/// HDEL key field [field …] → the number of fields removed.
net::reply op_hdel(op_context& ctx, const net::arg_list& args) {
  return remove_elements<hash_object>(ctx, args, "hdel");
}

/// HEXISTS key field → 1 or 0.
net::reply op_hexists(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  const auto* h = read_object<hash_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  return net::reply::integer(h && h->get(args[2]) ? 1 : 0);
}

/// HLEN key → the number of fields.
net::reply op_hlen(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  const auto* h = read_object<hash_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  return net::reply::integer(h ? static_cast<int64_t>(h->size()) : 0);
}

/// HSTRLEN key field → the length of the field's value (0 if missing).
net::reply op_hstrlen(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  const auto* h = read_object<hash_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  auto v = h ? h->get(args[2]) : std::nullopt;
  return net::reply::integer(v ? static_cast<int64_t>(v->size()) : 0);
}

/// HINCRBY key field increment → the value after adding the increment.
net::reply op_hincrby(op_context& ctx, const net::arg_list& args) {
  int64_t incr = 0;
  if (!net::parse_int64(args[3], incr))
    return err::not_integer();
  bool wrong = false;
  auto* h = write_object<hash_object>(ctx, args[1], false, wrong);
  if (wrong)
    return err::wrong_type();
  int64_t current = 0;
  auto v = h ? h->get(args[2]) : std::nullopt;
  if (v && !net::parse_int64(*v, current))
    return err::hash_not_integer();
  if ((incr > 0 && current > std::numeric_limits<int64_t>::max() - incr)
      || (incr < 0 && current < std::numeric_limits<int64_t>::min() - incr))
    return err::overflow();
  int64_t next = current + incr;
  if (!h)
    h = write_object<hash_object>(ctx, args[1], true, wrong);
  apply_and_note(ctx, args[1], *h, store::change_builder("hset").add(args[2]).add(next));
  return net::reply::integer(next);
}

/// HINCRBYFLOAT key field increment → the new value as a bulk string.
net::reply op_hincrbyfloat(op_context& ctx, const net::arg_list& args) {
  long double incr = 0, current = 0;
  if (!parse_long_double(args[3], incr))
    return err::not_float();
  if (std::isnan(incr) || std::isinf(incr))
    return err::value_nan_or_infinity();
  bool wrong = false;
  auto* h = write_object<hash_object>(ctx, args[1], false, wrong);
  if (wrong)
    return err::wrong_type();
  auto v = h ? h->get(args[2]) : std::nullopt;
  if (v && !parse_long_double(*v, current))
    return err::hash_not_float();
  long double next = current + incr;
  if (std::isnan(next) || std::isinf(next))
    return err::nan_or_infinity();
  std::string text = format_long_double(next);
  if (!h)
    h = write_object<hash_object>(ctx, args[1], true, wrong);
  apply_and_note(ctx, args[1], *h, store::change_builder("hset").add(args[2]).add(text));
  return net::reply::bulk(std::move(text));
}

/// HRANDFIELD key [count [WITHVALUES]] → a random field (null without key); with a
/// count, that many distinct fields (a negative count: |count| fields, repeats allowed).
net::reply op_hrandfield(op_context& ctx, const net::arg_list& args) {
  int64_t count = 1;
  bool with_count = args.size() >= 3, with_values = false;
  if (args.size() > 4 || (args.size() == 4 && !iequals(args[3], "withvalues")))
    return err::syntax();
  with_values = args.size() == 4;
  if (with_count && !net::parse_int64(args[2], count))
    return err::not_integer();
  if (with_count && !random_count_allowed(count))
    return err::out_of_range();
  bool wrong = false;
  const auto* h = read_object<hash_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  if (!with_count)
    return h ? net::reply::bulk(std::string(h->random(random_source()()).first))
             : net::reply::null();
  std::vector<net::reply> out;
  if (!h || count == 0)
    return net::reply::array({});
  auto add = [&](std::string_view f, std::string_view v) {
    out.push_back(net::reply::bulk(std::string(f)));
    if (with_values)
      out.push_back(net::reply::bulk(std::string(v)));
  };
  auto& rng = random_source();
  if (count < 0) { // repeats allowed
    for (int64_t i = 0; i < -count; ++i) {
      auto [f, v] = h->random(rng());
      add(f, v);
    }
    return net::reply::array(std::move(out));
  }
  auto n = static_cast<size_t>(count);
  if (n >= h->size()) {
    h->for_each(add);
    return net::reply::array(std::move(out));
  }
  if (n * 3 > h->size()) { // many: take all, drop random ones
    std::vector<std::pair<std::string_view, std::string_view>> all;
    h->for_each([&](std::string_view f, std::string_view v) { all.emplace_back(f, v); });
    std::shuffle(all.begin(), all.end(), rng);
    for (size_t i = 0; i < n; ++i)
      add(all[i].first, all[i].second);
    return net::reply::array(std::move(out));
  }
  std::unordered_set<std::string_view> seen;
  while (seen.size() < n) {
    auto [f, v] = h->random(rng());
    if (seen.insert(f).second)
      add(f, v);
  }
  return net::reply::array(std::move(out));
}

/// HSCAN key cursor [MATCH pattern] [COUNT n] → [next cursor, [field, value, …]].
net::reply op_hscan(op_context& ctx, const net::arg_list& args) {
  scan_options o;
  if (auto r = parse_scan_options(args, o); r.is_error())
    return r;
  bool wrong = false;
  const auto* h = read_object<hash_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  std::vector<net::reply> items;
  uint64_t next = 0;
  bool all = o.pattern == "*";
  if (h)
    next = h->scan(o.cursor, o.count, [&](std::string_view f, std::string_view v) {
      if (!all && !store::glob_match(o.pattern, f))
        return;
      items.push_back(net::reply::bulk(std::string(f)));
      items.push_back(net::reply::bulk(std::string(v)));
    });
  return net::reply::array({net::reply::bulk(std::to_string(next)),
                            net::reply::array(std::move(items))});
}

} // namespace

void register_hash_family(command_registry& table) {
  using namespace shorthand;
  // clang-format off
  table.insert(table.end(), {
    // name         arity flags   keys       route handler          connection merge   group   summary
    {"hset",         -4,  W | F,  1,  1, 1,  K,   op_hset,          nullptr,  nullptr,  "hash", "Creates or modifies the value of a field in a hash."},
    {"hmset",        -4,  W | F,  1,  1, 1,  K,   op_hmset,         nullptr,  nullptr,  "hash", "Sets the values of multiple fields."},
    {"hsetnx",        4,  W | F,  1,  1, 1,  K,   op_hsetnx,        nullptr,  nullptr,  "hash", "Sets the value of a field in a hash only when the field doesn't exist."},
    {"hget",          3,  R | F,  1,  1, 1,  K,   op_hget,          nullptr,  nullptr,  "hash", "Returns the value of a field in a hash."},
    {"hmget",        -3,  R | F,  1,  1, 1,  K,   op_hmget,         nullptr,  nullptr,  "hash", "Returns the values of all fields in a hash."},
    {"hgetall",       2,  R,      1,  1, 1,  K,   op_hgetall,       nullptr,  nullptr,  "hash", "Returns all fields and values in a hash."},
    {"hkeys",         2,  R,      1,  1, 1,  K,   op_hkeys,         nullptr,  nullptr,  "hash", "Returns all fields in a hash."},
    {"hvals",         2,  R,      1,  1, 1,  K,   op_hvals,         nullptr,  nullptr,  "hash", "Returns all values in a hash."},
    {"hdel",         -3,  W | F,  1,  1, 1,  K,   op_hdel,          nullptr,  nullptr,  "hash", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain."},
    {"hexists",       3,  R | F,  1,  1, 1,  K,   op_hexists,       nullptr,  nullptr,  "hash", "Determines whether a field exists in a hash."},
    {"hlen",          2,  R | F,  1,  1, 1,  K,   op_hlen,          nullptr,  nullptr,  "hash", "Returns the number of fields in a hash."},
    {"hstrlen",       3,  R | F,  1,  1, 1,  K,   op_hstrlen,       nullptr,  nullptr,  "hash", "Returns the length of the value of a field."},
    {"hincrby",       4,  W | F,  1,  1, 1,  K,   op_hincrby,       nullptr,  nullptr,  "hash", "Increments the integer value of a field in a hash by a number."},
    {"hincrbyfloat",  4,  W | F,  1,  1, 1,  K,   op_hincrbyfloat,  nullptr,  nullptr,  "hash", "Increments the floating point value of a field by a number."},
    {"hrandfield",   -2,  R,      1,  1, 1,  K,   op_hrandfield,    nullptr,  nullptr,  "hash", "Returns one or more random fields from a hash."},
    {"hscan",        -3,  R,      1,  1, 1,  K,   op_hscan,         nullptr,  nullptr,  "hash", "Iterates over fields and values of a hash."},
  });
  // clang-format on
}

} // namespace otkv::cmd

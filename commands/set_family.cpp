// The set family: SADD, SREM, SMEMBERS, SPOP, SINTER, SSCAN … Handlers run on the
// partition owning the key; SINTER, SUNION and SDIFF gather each key's members from its
// partition and combine them in the merge (keys in any partitions, as MGET); the …STORE
// forms, SMOVE and SINTERCARD need their keys in one partition. A change is applied as a
// store::change_builder change, so the op log and replicas replay exactly it.
// register_set_family adds one table row per command.

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "commands/aggregate.hpp"
#include "commands/command_table.hpp"
#include "commands/dispatch.hpp"
#include "commands/errors.hpp"
#include "net/integer.hpp"
#include "store/glob.hpp"
#include "store/set_object.hpp"

namespace otkv::cmd {

namespace {

using store::set_object;

/// SADD key member [member …] → the number of members added.
net::reply op_sadd(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  auto* s = write_object<set_object>(ctx, args[1], true, wrong);
  if (wrong)
    return err::wrong_type();
  // As Redis propagates only what SADD added, the change holds only the new members.
  store::change_builder change("sadd", ctx.data.records_kept());
  int64_t added = 0;
  for (size_t i = 2; i < args.size(); ++i)
    if (s->add(args[i])) {
      change.add(args[i]);
      ++added;
    }
  if (added > 0)
    note_change(ctx, args[1], *s, change);
  return net::reply::integer(added);
}

/// SREM key member [member …] → the number of members removed.
net::reply op_srem(op_context& ctx, const net::arg_list& args) {
  return remove_elements<set_object>(ctx, args, "srem");
}

/// SMEMBERS key → every member.
net::reply op_smembers(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  const auto* s = read_object<set_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  std::vector<net::reply> out;
  if (s)
    s->for_each([&](std::string_view m) { out.push_back(net::reply::bulk(std::string(m))); });
  return net::reply::array(std::move(out));
}

/// SISMEMBER key member → 1 or 0.
net::reply op_sismember(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  const auto* s = read_object<set_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  return net::reply::integer(s && s->contains(args[2]) ? 1 : 0);
}

/// SMISMEMBER key member [member …] → 1 or 0 for each member.
net::reply op_smismember(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  const auto* s = read_object<set_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  std::vector<net::reply> out;
  for (size_t i = 2; i < args.size(); ++i)
    out.push_back(net::reply::integer(s && s->contains(args[i]) ? 1 : 0));
  return net::reply::array(std::move(out));
}

/// SCARD key → the number of members.
net::reply op_scard(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  const auto* s = read_object<set_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  return net::reply::integer(s ? static_cast<int64_t>(s->size()) : 0);
}

/// Up to `n` distinct members of `s` picked at random.
std::vector<std::string> distinct_random(const set_object& s, size_t n) {
  std::vector<std::string> out;
  auto& rng = random_source();
  if (n >= s.size()) {
    s.for_each([&](std::string_view m) { out.emplace_back(m); });
    return out;
  }
  if (n * 3 > s.size()) { // many: take all, keep a random n
    s.for_each([&](std::string_view m) { out.emplace_back(m); });
    std::shuffle(out.begin(), out.end(), rng);
    out.resize(n);
    return out;
  }
  std::unordered_set<std::string_view> seen;
  while (seen.size() < n) {
    auto m = s.random(rng());
    if (seen.insert(m).second)
      out.emplace_back(m);
  }
  return out;
}

/// SPOP key [count] → a random member removed (null without key); with a count, an
/// array of up to count distinct members removed.
net::reply op_spop(op_context& ctx, const net::arg_list& args) {
  if (args.size() > 3)
    return err::syntax();
  int64_t count = 1;
  bool with_count = args.size() == 3;
  if (with_count && (!net::parse_int64(args[2], count) || count < 0))
    return err::not_positive();
  bool wrong = false;
  auto* s = write_object<set_object>(ctx, args[1], false, wrong);
  if (wrong)
    return err::wrong_type();
  if (!s)
    return with_count ? net::reply::array({}) : net::reply::null();
  if (count == 0)
    return net::reply::array({});
  auto picked = distinct_random(*s, static_cast<size_t>(count));
  store::change_builder change("srem"); // replayed as the members it removed
  for (const auto& m : picked)
    change.add(m);
  apply_and_note(ctx, args[1], *s, change);
  if (!with_count)
    return net::reply::bulk(std::move(picked.front()));
  return bulk_array(picked);
}

/// SRANDMEMBER key [count] → a random member (null without key); with a count, that many
/// distinct members (a negative count: |count| members, repeats allowed).
net::reply op_srandmember(op_context& ctx, const net::arg_list& args) {
  if (args.size() > 3)
    return err::syntax();
  int64_t count = 1;
  bool with_count = args.size() == 3;
  if (with_count && !net::parse_int64(args[2], count))
    return err::not_integer();
  if (with_count && !random_count_allowed(count))
    return err::out_of_range();
  bool wrong = false;
  const auto* s = read_object<set_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  if (!with_count)
    return s ? net::reply::bulk(std::string(s->random(random_source()()))) : net::reply::null();
  if (!s || count == 0)
    return net::reply::array({});
  if (count > 0)
    return bulk_array(distinct_random(*s, static_cast<size_t>(count)));
  std::vector<net::reply> out;
  auto& rng = random_source();
  for (int64_t i = 0; i < -count; ++i)
    out.push_back(net::reply::bulk(std::string(s->random(rng()))));
  return net::reply::array(std::move(out));
}

/// SMOVE source destination member → 1 if moved, 0 if member was not in source.
net::reply op_smove(op_context& ctx, const net::arg_list& args) {
  bool wrong = false; // as Redis: a missing source first, then both types
  auto* src = write_object<set_object>(ctx, args[1], false, wrong);
  if (!src && !wrong)
    return net::reply::integer(0);
  if (!wrong)
    read_object<set_object>(ctx, args[2], wrong);
  if (wrong)
    return err::wrong_type();
  if (!src->contains(args[3]))
    return net::reply::integer(0);
  if (args[1] == args[2])
    return net::reply::integer(1);
  apply_and_note(ctx, args[1], *src, store::change_builder("srem").add(args[3]));
  auto* dst = write_object<set_object>(ctx, args[2], true, wrong);
  apply_and_note(ctx, args[2], *dst, store::change_builder("sadd").add(args[3]));
  return net::reply::integer(1);
}

/// Part of SINTER / SUNION / SDIFF → for each of its keys: its members, null when
/// missing, or -WRONGTYPE.
net::reply op_sets_part(op_context& ctx, const net::arg_list& args) {
  std::vector<net::reply> out;
  for (size_t i = 1; i < args.size(); ++i) {
    bool wrong = false;
    const auto* s = read_object<set_object>(ctx, args[i], wrong);
    if (wrong) {
      out.push_back(err::wrong_type());
    } else if (!s) {
      out.push_back(net::reply::null());
    } else {
      std::vector<net::reply> members;
      s->for_each([&](std::string_view m) { members.push_back(net::reply::bulk(std::string(m))); });
      out.push_back(net::reply::array(std::move(members)));
    }
  }
  return net::reply::array(std::move(out));
}

enum class set_op { inter, unite, diff };

/// The members of every key (in request order; an empty vector for a missing key).
using key_members = std::vector<std::vector<std::string_view>>;

/// SINTER / SUNION / SDIFF of `sets` (the first key's set first).
std::vector<std::string_view> combine(const key_members& sets, set_op op) {
  std::vector<std::string_view> out;
  if (sets.empty())
    return out;
  if (op == set_op::unite) {
    std::unordered_set<std::string_view> seen;
    for (const auto& s : sets)
      for (auto m : s)
        if (seen.insert(m).second)
          out.push_back(m);
    return out;
  }
  std::vector<std::unordered_set<std::string_view>> others;
  for (size_t i = 1; i < sets.size(); ++i)
    others.emplace_back(sets[i].begin(), sets[i].end());
  for (auto m : sets[0]) {
    bool keep = op == set_op::inter;
    for (const auto& o : others) {
      bool in = o.count(m) > 0;
      if (op == set_op::inter && !in) {
        keep = false;
        break;
      }
      if (op == set_op::diff && in) {
        keep = false;
        break;
      }
      if (op == set_op::diff)
        keep = true;
    }
    if (op == set_op::diff && others.empty())
      keep = true;
    if (keep)
      out.push_back(m);
  }
  return out;
}

/// SINTER / SUNION / SDIFF's merge: each key's members from the parts, combined.
net::reply merge_sets(fanout& f, set_op op) {
  key_members sets(f.keys);
  for (size_t i = 0; i < f.results.size(); ++i) {
    auto& r = f.results[i];
    if (r.is_error())
      return std::move(r);
    for (size_t j = 0; j < r.items.size() && j < f.slots[i].size(); ++j) {
      auto& item = r.items[j];
      if (item.is_error())
        return std::move(item);
      auto& members = sets[f.slots[i][j]];
      for (const auto& m : item.items)
        members.push_back(m.text);
    }
  }
  return bulk_array(combine(sets, op));
}

net::reply merge_sinter(client_context&, fanout& f) {
  return merge_sets(f, set_op::inter);
}
net::reply merge_sunion(client_context&, fanout& f) {
  return merge_sets(f, set_op::unite);
}
net::reply merge_sdiff(client_context&, fanout& f) {
  return merge_sets(f, set_op::diff);
}

/// The members of the sets at args[first …] (all in this partition), or an error.
net::reply read_sets(op_context& ctx, const net::arg_list& args, size_t first, size_t end,
                     key_members& sets) {
  for (size_t i = first; i < end; ++i) {
    bool wrong = false;
    const auto* s = read_object<set_object>(ctx, args[i], wrong);
    if (wrong)
      return err::wrong_type();
    sets.emplace_back();
    if (s)
      s->for_each([&](std::string_view m) { sets.back().push_back(m); });
  }
  return net::reply::ok();
}

/// SINTERSTORE / SUNIONSTORE / SDIFFSTORE destination key [key …] → the stored set's size.
net::reply store_generic(op_context& ctx, const net::arg_list& args, set_op op) {
  key_members sets;
  if (auto r = read_sets(ctx, args, 2, args.size(), sets); r.is_error())
    return r;
  auto result = combine(sets, op);
  if (result.empty()) {
    ctx.data.erase(args[1], ctx.now);
    return net::reply::integer(0);
  }
  auto s = std::make_unique<set_object>();
  for (auto m : result)
    s->add(m);
  auto n = static_cast<int64_t>(s->size());
  ctx.data.put_object(args[1], std::move(s), 0);
  return net::reply::integer(n);
}

net::reply op_sinterstore(op_context& ctx, const net::arg_list& args) {
  return store_generic(ctx, args, set_op::inter);
}
net::reply op_sunionstore(op_context& ctx, const net::arg_list& args) {
  return store_generic(ctx, args, set_op::unite);
}
net::reply op_sdiffstore(op_context& ctx, const net::arg_list& args) {
  return store_generic(ctx, args, set_op::diff);
}

/// SINTERCARD numkeys key [key …] [LIMIT limit] → the size of the intersection (counting
/// stops at limit; 0: no limit).
net::reply op_sintercard(op_context& ctx, const net::arg_list& args) {
  int64_t numkeys = 0;
  if (!net::parse_int64(args[1], numkeys) || numkeys <= 0) // one error for both, as Redis
    return err::numkeys_not_positive();
  if (numkeys > static_cast<int64_t>(args.size()) - 2)
    return err::numkeys_too_many();
  auto end = static_cast<size_t>(2 + numkeys);
  int64_t limit = 0;
  for (size_t i = end; i < args.size(); i += 2) {
    if (!iequals(args[i], "limit") || i + 1 >= args.size())
      return err::syntax();
    if (!net::parse_int64(args[i + 1], limit) || limit < 0) // one error for both, as Redis
      return err::limit_negative();
  }
  key_members sets;
  if (auto r = read_sets(ctx, args, 2, end, sets); r.is_error())
    return r;
  auto n = static_cast<int64_t>(combine(sets, set_op::inter).size());
  return net::reply::integer(limit > 0 ? std::min(n, limit) : n);
}

/// SSCAN key cursor [MATCH pattern] [COUNT n] → [next cursor, [member …]].
net::reply op_sscan(op_context& ctx, const net::arg_list& args) {
  scan_options o;
  if (auto r = parse_scan_options(args, o); r.is_error())
    return r;
  bool wrong = false;
  const auto* s = read_object<set_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  std::vector<net::reply> items;
  uint64_t next = 0;
  bool all = o.pattern == "*";
  if (s)
    next = s->scan(o.cursor, o.count, [&](std::string_view m) {
      if (all || store::glob_match(o.pattern, m))
        items.push_back(net::reply::bulk(std::string(m)));
    });
  return net::reply::array({net::reply::bulk(std::to_string(next)),
                            net::reply::array(std::move(items))});
}

} // namespace

void register_set_family(command_registry& table) {
  using namespace shorthand;
  // clang-format off
  table.insert(table.end(), {
    // name         arity flags         keys        route handler          connection merge          group  summary
    {"sadd",         -3,  W | F,        1,  1, 1,   K,  op_sadd,           nullptr,  nullptr,        "set", "Adds one or more members to a set. Creates the key if it doesn't exist."},
    {"srem",         -3,  W | F,        1,  1, 1,   K,  op_srem,           nullptr,  nullptr,        "set", "Removes one or more members from a set. Deletes the set if the last member was removed."},
    {"smembers",      2,  R,            1,  1, 1,   K,  op_smembers,       nullptr,  nullptr,        "set", "Returns all members of a set."},
    {"sismember",     3,  R | F,        1,  1, 1,   K,  op_sismember,      nullptr,  nullptr,        "set", "Determines whether a member belongs to a set."},
    {"smismember",   -3,  R | F,        1,  1, 1,   K,  op_smismember,     nullptr,  nullptr,        "set", "Determines whether multiple members belong to a set."},
    {"scard",         2,  R | F,        1,  1, 1,   K,  op_scard,          nullptr,  nullptr,        "set", "Returns the number of members in a set."},
    {"spop",         -2,  W | F,        1,  1, 1,   K,  op_spop,           nullptr,  nullptr,        "set", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped."},
    {"srandmember",  -2,  R,            1,  1, 1,   K,  op_srandmember,    nullptr,  nullptr,        "set", "Get one or multiple random members from a set."},
    {"smove",         4,  W | F | ONE,  1,  2, 1,   KS, op_smove,          nullptr,  merge_ok,       "set", "Moves a member from one set to another (keys in one partition)."},
    {"sinter",       -2,  R | MERGED,   1, -1, 1,   KS, op_sets_part,      nullptr,  merge_sinter,   "set", "Returns the intersect of multiple sets."},
    {"sunion",       -2,  R | MERGED,   1, -1, 1,   KS, op_sets_part,      nullptr,  merge_sunion,   "set", "Returns the union of multiple sets."},
    {"sdiff",        -2,  R | MERGED,   1, -1, 1,   KS, op_sets_part,      nullptr,  merge_sdiff,    "set", "Returns the difference of multiple sets."},
    {"sinterstore",  -3,  W | ONE,      1, -1, 1,   KS, op_sinterstore,    nullptr,  merge_ok,       "set", "Stores the intersect of multiple sets in a key (keys in one partition)."},
    {"sunionstore",  -3,  W | ONE,      1, -1, 1,   KS, op_sunionstore,    nullptr,  merge_ok,       "set", "Stores the union of multiple sets in a key (keys in one partition)."},
    {"sdiffstore",   -3,  W | ONE,      1, -1, 1,   KS, op_sdiffstore,     nullptr,  merge_ok,       "set", "Stores the difference of multiple sets in a key (keys in one partition)."},
    {"sintercard",   -3,  R | ONE,      2, numkeys_last, 1, KS, op_sintercard, nullptr, merge_ok,    "set", "Returns the number of members of the intersect of multiple sets (keys in one partition)."},
    {"sscan",        -3,  R,            1,  1, 1,   K,  op_sscan,          nullptr,  nullptr,        "set", "Iterates over members of a set."},
  });
  // clang-format on
}

} // namespace otkv::cmd

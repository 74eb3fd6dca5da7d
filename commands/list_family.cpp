// The list family: LPUSH, LPOP, LRANGE, LINSERT, LMOVE … Handlers run on the partition
// owning the key (LMOVE and RPOPLPUSH: both keys in one partition); a change is applied
// as a store::change_builder change, so the op log and replicas replay exactly it.
// register_list_family adds one table row per command.

#include <limits>

#include "commands/aggregate.hpp"
#include "commands/command_table.hpp"
#include "commands/dispatch.hpp"
#include "commands/errors.hpp"
#include "net/integer.hpp"
#include "store/list_object.hpp"

namespace otkv::cmd {

namespace {

using store::list_object;

/// LPUSH / RPUSH / LPUSHX / RPUSHX: `front` for the L forms, `existing` for the X forms.
net::reply push_generic(op_context& ctx, const net::arg_list& args, bool front, bool existing) {
  bool wrong = false;
  auto* l = write_object<list_object>(ctx, args[1], !existing, wrong);
  if (wrong)
    return err::wrong_type();
  if (!l)
    return net::reply::integer(0);
  store::change_builder change(front ? "lpush" : "rpush", ctx.data.records_kept());
  for (size_t i = 2; i < args.size(); ++i) {
    l->push(front, args[i]); // as apply_change replays it
    change.add(args[i]);
  }
  return net::reply::integer(static_cast<int64_t>(note_change(ctx, args[1], *l, change)));
}

net::reply op_lpush(op_context& ctx, const net::arg_list& args) {
  return push_generic(ctx, args, true, false);
}
net::reply op_rpush(op_context& ctx, const net::arg_list& args) {
  return push_generic(ctx, args, false, false);
}
net::reply op_lpushx(op_context& ctx, const net::arg_list& args) {
  return push_generic(ctx, args, true, true);
}
net::reply op_rpushx(op_context& ctx, const net::arg_list& args) {
  return push_generic(ctx, args, false, true);
}

/// Pops up to `n` items from the head (`front`) or tail of the list at `key`, recorded.
std::vector<std::string> pop_items(op_context& ctx, std::string_view key, list_object& l,
                                   bool front, size_t n) {
  n = std::min(n, l.size());
  std::vector<std::string> out;
  out.reserve(n);
  if (front)
    l.for_range(0, n - 1, [&](std::string_view s) {
      out.emplace_back(s);
      return true;
    });
  else
    for (size_t i = 0; i < n; ++i)
      out.emplace_back(l.at(l.size() - 1 - i));
  apply_and_note(ctx, key, l,
                 store::change_builder(front ? "lpop" : "rpop").add(static_cast<int64_t>(n)));
  return out;
}

/// LPOP / RPOP key [count] → the item (null without key); with a count, an array of up to
/// count items (a null array without key).
net::reply pop_generic(op_context& ctx, const net::arg_list& args, bool front) {
  if (args.size() > 3)
    return err::arity(front ? "lpop" : "rpop");
  int64_t count = 1;
  bool with_count = args.size() == 3;
  if (with_count && (!net::parse_int64(args[2], count) || count < 0))
    return err::not_positive();
  bool wrong = false;
  auto* l = write_object<list_object>(ctx, args[1], false, wrong);
  if (wrong)
    return err::wrong_type();
  if (!l)
    return with_count ? net::reply::null_array() : net::reply::null();
  if (with_count && count == 0)
    return net::reply::array({});
  auto items = pop_items(ctx, args[1], *l, front, static_cast<size_t>(count));
  if (!with_count)
    return net::reply::bulk(std::move(items.front()));
  return bulk_array(items);
}

net::reply op_lpop(op_context& ctx, const net::arg_list& args) {
  return pop_generic(ctx, args, true);
}
net::reply op_rpop(op_context& ctx, const net::arg_list& args) {
  return pop_generic(ctx, args, false);
}

/// LMPOP numkeys key … LEFT|RIGHT [COUNT count] → [key, [item …]] popped from the first
/// key that exists; null when none does.
net::reply op_lmpop(op_context& ctx, const net::arg_list& args) {
  static const char* const ends[2] = {"left", "right"};
  mpop_request req;
  if (auto r = parse_mpop(args, 1, ends, req); r.is_error())
    return r;
  for (size_t k = req.first_key; k < req.end_key; ++k) {
    bool wrong = false;
    auto* l = write_object<list_object>(ctx, args[k], false, wrong);
    if (wrong)
      return err::wrong_type();
    if (l)
      return net::reply::array({net::reply::bulk(args[k]),
                                bulk_array(pop_items(ctx, args[k], *l, !req.max,
                                                     static_cast<size_t>(req.count)))});
  }
  return net::reply::null_array();
}

/// LLEN key → the number of items.
net::reply op_llen(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  const auto* l = read_object<list_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  return net::reply::integer(l ? static_cast<int64_t>(l->size()) : 0);
}

/// A Redis list index (negative: from the end) as a position, or false if out of range.
bool list_position(const list_object& l, int64_t index, size_t& out) {
  auto len = static_cast<int64_t>(l.size());
  if (index < 0)
    index += len;
  if (index < 0 || index >= len)
    return false;
  out = static_cast<size_t>(index);
  return true;
}

/// LINDEX key index → the item at index, or null.
net::reply op_lindex(op_context& ctx, const net::arg_list& args) {
  int64_t index = 0;
  if (!net::parse_int64(args[2], index))
    return err::not_integer();
  bool wrong = false;
  const auto* l = read_object<list_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  size_t at = 0;
  if (!l || !list_position(*l, index, at))
    return net::reply::null();
  return net::reply::bulk(std::string(l->at(at)));
}

/// LRANGE key start stop → the items from start to stop (inclusive; negative: from the end).
net::reply op_lrange(op_context& ctx, const net::arg_list& args) {
  int64_t start = 0, stop = 0;
  if (!net::parse_int64(args[2], start) || !net::parse_int64(args[3], stop))
    return err::not_integer();
  bool wrong = false;
  const auto* l = read_object<list_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  std::vector<net::reply> out;
  if (!l)
    return net::reply::array({});
  auto len = static_cast<int64_t>(l->size());
  if (start < 0)
    start += len;
  if (stop < 0)
    stop += len;
  if (start < 0)
    start = 0;
  if (start > stop || start >= len)
    return net::reply::array({});
  if (stop >= len)
    stop = len - 1;
  out.reserve(static_cast<size_t>(stop - start + 1));
  l->for_range(static_cast<size_t>(start), static_cast<size_t>(stop), [&](std::string_view s) {
    out.push_back(net::reply::bulk(std::string(s)));
    return true;
  });
  return net::reply::array(std::move(out));
}

/// LSET key index item → +OK (-ERR no such key, -ERR index out of range).
net::reply op_lset(op_context& ctx, const net::arg_list& args) {
  int64_t index = 0;
  if (!net::parse_int64(args[2], index))
    return err::not_integer();
  bool wrong = false;
  auto* l = write_object<list_object>(ctx, args[1], false, wrong);
  if (wrong)
    return err::wrong_type();
  if (!l)
    return err::no_such_key();
  size_t at = 0;
  if (!list_position(*l, index, at))
    return err::index_out_of_range();
  apply_and_note(ctx, args[1], *l,
                 store::change_builder("lset").add(static_cast<int64_t>(at)).add(args[3]));
  return net::reply::ok();
}

/// LINSERT key BEFORE|AFTER pivot item → the length after inserting, -1 without the
/// pivot, 0 without key.
net::reply op_linsert(op_context& ctx, const net::arg_list& args) {
  bool after = iequals(args[2], "after");
  if (!after && !iequals(args[2], "before"))
    return err::syntax();
  bool wrong = false;
  auto* l = write_object<list_object>(ctx, args[1], false, wrong);
  if (wrong)
    return err::wrong_type();
  if (!l)
    return net::reply::integer(0);
  size_t i = 0;
  bool found = false;
  l->for_range(0, l->size() - 1, [&](std::string_view s) {
    if (s == args[3])
      found = true;
    else
      ++i;
    return !found;
  });
  if (!found)
    return net::reply::integer(-1);
  auto at = static_cast<int64_t>(i + (after ? 1 : 0));
  return net::reply::integer(static_cast<int64_t>(
    apply_and_note(ctx, args[1], *l, store::change_builder("linsert").add(at).add(args[4]))));
}

/// LREM key count item → the number removed (count > 0: first count from the head,
/// < 0: from the tail, 0: all).
net::reply op_lrem(op_context& ctx, const net::arg_list& args) {
  int64_t count = 0;
  if (!net::parse_int64(args[2], count))
    return err::not_integer();
  bool wrong = false;
  auto* l = write_object<list_object>(ctx, args[1], false, wrong);
  if (wrong)
    return err::wrong_type();
  if (!l)
    return net::reply::integer(0);
  size_t before = l->size();
  size_t left =
    apply_and_note(ctx, args[1], *l, store::change_builder("lrem").add(count).add(args[3]));
  return net::reply::integer(static_cast<int64_t>(before - left));
}

/// LTRIM key start stop → +OK; only the items from start to stop stay.
net::reply op_ltrim(op_context& ctx, const net::arg_list& args) {
  int64_t start = 0, stop = 0;
  if (!net::parse_int64(args[2], start) || !net::parse_int64(args[3], stop))
    return err::not_integer();
  bool wrong = false;
  auto* l = write_object<list_object>(ctx, args[1], false, wrong);
  if (wrong)
    return err::wrong_type();
  if (!l)
    return net::reply::ok();
  auto len = static_cast<int64_t>(l->size());
  if (start < 0)
    start += len;
  if (stop < 0)
    stop += len;
  if (start < 0)
    start = 0;
  int64_t head = 0, tail = 0;
  if (start > stop || start >= len) {
    head = len;
  } else {
    if (stop >= len)
      stop = len - 1;
    head = start;
    tail = len - stop - 1;
  }
  if (head == 0 && tail == 0)
    return net::reply::ok();
  apply_and_note(ctx, args[1], *l, store::change_builder("ltrim").add(head).add(tail));
  return net::reply::ok();
}

/// LPOS key item [RANK rank] [COUNT n] [MAXLEN len] → the first match's index (null if
/// none); with COUNT, an array of up to n indexes (0: all).
net::reply op_lpos(op_context& ctx, const net::arg_list& args) {
  int64_t rank = 1, count = -1, maxlen = 0;
  for (size_t i = 3; i < args.size(); i += 2) {
    if (i + 1 >= args.size())
      return err::syntax();
    int64_t v = 0;
    if (!net::parse_int64(args[i + 1], v))
      return err::not_integer();
    if (iequals(args[i], "rank")) {
      if (v == 0)
        return err::lpos_rank_zero();
      if (v == std::numeric_limits<int64_t>::min())
        return err::lpos_rank_range();
      rank = v;
    } else if (iequals(args[i], "count")) {
      if (v < 0)
        return err::lpos_negative("COUNT");
      count = v;
    } else if (iequals(args[i], "maxlen")) {
      if (v < 0)
        return err::lpos_negative("MAXLEN");
      maxlen = v;
    } else {
      return err::syntax();
    }
  }
  bool wrong = false;
  const auto* l = read_object<list_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  std::vector<net::reply> found;
  size_t want = count < 0 ? 1 : (count == 0 ? std::numeric_limits<size_t>::max()
                                            : static_cast<size_t>(count));
  if (l) {
    size_t n = l->size();
    size_t limit = maxlen == 0 ? n : std::min(n, static_cast<size_t>(maxlen));
    int64_t skip = (rank > 0 ? rank : -rank) - 1; // matches to pass over first
    auto check = [&](size_t i, std::string_view s) {
      if (s != args[2])
        return true;
      if (skip > 0) {
        --skip;
        return true;
      }
      found.push_back(net::reply::integer(static_cast<int64_t>(i)));
      return found.size() < want;
    };
    if (rank > 0) {
      size_t i = 0;
      if (limit > 0)
        l->for_range(0, limit - 1, [&](std::string_view s) { return check(i++, s); });
    } else {
      for (size_t k = 0; k < limit; ++k)
        if (!check(n - 1 - k, l->at(n - 1 - k)))
          break;
    }
  }
  if (count < 0)
    return found.empty() ? net::reply::null() : std::move(found.front());
  return net::reply::array(std::move(found));
}

/// Whether `word` is LEFT (true) or RIGHT (false); false in `ok` for anything else.
bool parse_side(const std::string& word, bool& left) {
  left = iequals(word, "left");
  return left || iequals(word, "right");
}

/// LMOVE / RPOPLPUSH: moves the item at `from_left`'s end of args[1] to `to_left`'s end
/// of args[2] → the item, or null when args[1] is missing.
net::reply move_generic(op_context& ctx, const net::arg_list& args, bool from_left, bool to_left) {
  bool wrong = false; // as Redis: a missing source first, then both types
  auto* src = write_object<list_object>(ctx, args[1], false, wrong);
  if (!src && !wrong)
    return net::reply::null();
  if (!wrong)
    read_object<list_object>(ctx, args[2], wrong);
  if (wrong)
    return err::wrong_type();
  std::string item = std::move(pop_items(ctx, args[1], *src, from_left, 1).front());
  auto* to = write_object<list_object>(ctx, args[2], true, wrong);
  apply_and_note(ctx, args[2], *to, store::change_builder(to_left ? "lpush" : "rpush").add(item));
  return net::reply::bulk(std::move(item));
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT → the item moved, or null.
net::reply op_lmove(op_context& ctx, const net::arg_list& args) {
  bool from = false, to = false;
  if (!parse_side(args[3], from) || !parse_side(args[4], to))
    return err::syntax();
  return move_generic(ctx, args, from, to);
}

/// RPOPLPUSH source destination → the item moved, or null.
net::reply op_rpoplpush(op_context& ctx, const net::arg_list& args) {
  return move_generic(ctx, args, false, true);
}

// -- blocking forms (docs/data-types.md: a request waits in its partition's worker) ----

/// BLPOP / BRPOP key [key …] timeout → [key, item] from the first list that exists, or
/// waits for one; null array at its timeout.
net::reply bpop_generic(op_context& ctx, const net::arg_list& args, bool front) {
  uint64_t ms = 0;
  if (auto r = parse_block_timeout(args.back(), ms); r.is_error())
    return r;
  bool wrong = false;
  auto [k, l] = first_ready<list_object>(ctx, args, 1, args.size() - 1, wrong);
  if (wrong)
    return err::wrong_type();
  if (!l)
    return block_or_null(ctx, ms);
  auto items = pop_items(ctx, args[k], *l, front, 1);
  return net::reply::array({net::reply::bulk(args[k]), net::reply::bulk(std::move(items.front()))});
}

net::reply op_blpop(op_context& ctx, const net::arg_list& args) {
  return bpop_generic(ctx, args, true);
}
net::reply op_brpop(op_context& ctx, const net::arg_list& args) {
  return bpop_generic(ctx, args, false);
}

/// BLMOVE / BRPOPLPUSH: LMOVE, or wait for the source to exist.
net::reply bmove_generic(op_context& ctx, const net::arg_list& args, bool from, bool to,
                         const std::string& timeout) {
  uint64_t ms = 0;
  if (auto r = parse_block_timeout(timeout, ms); r.is_error())
    return r;
  bool wrong = false;
  auto [k, src] = first_ready<list_object>(ctx, args, 1, 2, wrong);
  (void)k;
  if (!src && !wrong)
    return block_or_null(ctx, ms, true);
  return move_generic(ctx, args, from, to);
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout → the item moved.
net::reply op_blmove(op_context& ctx, const net::arg_list& args) {
  bool from = false, to = false;
  if (!parse_side(args[3], from) || !parse_side(args[4], to))
    return err::syntax();
  return bmove_generic(ctx, args, from, to, args[5]);
}

/// BRPOPLPUSH source destination timeout → the item moved.
net::reply op_brpoplpush(op_context& ctx, const net::arg_list& args) {
  return bmove_generic(ctx, args, false, true, args[3]);
}

/// BLMPOP timeout numkeys key … LEFT|RIGHT [COUNT count] → as LMPOP, or waits.
net::reply op_blmpop(op_context& ctx, const net::arg_list& args) {
  static const char* const ends[2] = {"left", "right"};
  mpop_request req;
  if (auto r = parse_mpop(args, 2, ends, req); r.is_error())
    return r;
  uint64_t ms = 0;
  if (auto r = parse_block_timeout(args[1], ms); r.is_error())
    return r;
  bool wrong = false;
  auto [k, l] = first_ready<list_object>(ctx, args, req.first_key, req.end_key, wrong);
  if (wrong)
    return err::wrong_type();
  if (!l)
    return block_or_null(ctx, ms);
  return net::reply::array(
    {net::reply::bulk(args[k]),
     bulk_array(pop_items(ctx, args[k], *l, !req.max, static_cast<size_t>(req.count)))});
}

} // namespace

void register_list_family(command_registry& table) {
  using namespace shorthand;
  // clang-format off
  table.insert(table.end(), {
    // name        arity flags       keys       route handler       connection merge      group   summary
    {"lpush",       -3,  W | F,      1,  1, 1,  K,   op_lpush,      nullptr,  nullptr,    "list", "Prepends one or more elements to a list. Creates the key if it doesn't exist."},
    {"rpush",       -3,  W | F,      1,  1, 1,  K,   op_rpush,      nullptr,  nullptr,    "list", "Appends one or more elements to a list. Creates the key if it doesn't exist."},
    {"lpushx",      -3,  W | F,      1,  1, 1,  K,   op_lpushx,     nullptr,  nullptr,    "list", "Prepends one or more elements to a list only when the list exists."},
    {"rpushx",      -3,  W | F,      1,  1, 1,  K,   op_rpushx,     nullptr,  nullptr,    "list", "Appends an element to a list only when the list exists."},
    {"lpop",        -2,  W | F,      1,  1, 1,  K,   op_lpop,       nullptr,  nullptr,    "list", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped."},
    {"rpop",        -2,  W | F,      1,  1, 1,  K,   op_rpop,       nullptr,  nullptr,    "list", "Returns and removes the last elements of a list. Deletes the list if the last element was popped."},
    {"lmpop",       -4,  W | ONE,    2,  numkeys_last, 1, KS, op_lmpop, nullptr, merge_ok,   "list", "Returns multiple elements from a list after removing them (keys in one partition). Deletes the list if the last element was popped."},
    {"blpop",       -3,  W | BLOCK | ONE, 1, -2, 1,  KS,  op_blpop,      nullptr,  merge_ok,   "list", "Removes and returns the first element in a list, or blocks until one is available (keys in one partition)."},
    {"brpop",       -3,  W | BLOCK | ONE, 1, -2, 1,  KS,  op_brpop,      nullptr,  merge_ok,   "list", "Removes and returns the last element in a list, or blocks until one is available (keys in one partition)."},
    {"blmove",       6,  W | BLOCK | ONE, 1, 2, 1, KS, op_blmove,   nullptr,  merge_ok,   "list", "Pops an element from a list, pushes it to another list and returns it; blocks until one is available (keys in one partition)."},
    {"brpoplpush",   4,  W | BLOCK | ONE, 1, 2, 1, KS, op_brpoplpush, nullptr, merge_ok,  "list", "Pops an element from a list, pushes it to another list and returns it; blocks until one is available (keys in one partition)."},
    {"blmpop",      -5,  W | BLOCK | ONE, 3, numkeys_last, 1, KS, op_blmpop, nullptr, merge_ok, "list", "Pops the first element from one of multiple lists, or blocks until one is available (keys in one partition)."},
    {"llen",         2,  R | F,      1,  1, 1,  K,   op_llen,       nullptr,  nullptr,    "list", "Returns the length of a list."},
    {"lindex",       3,  R,          1,  1, 1,  K,   op_lindex,     nullptr,  nullptr,    "list", "Returns an element from a list by its index."},
    {"lrange",       4,  R,          1,  1, 1,  K,   op_lrange,     nullptr,  nullptr,    "list", "Returns a range of elements from a list."},
    {"lset",         4,  W,          1,  1, 1,  K,   op_lset,       nullptr,  nullptr,    "list", "Sets the value of an element in a list by its index."},
    {"linsert",      5,  W,          1,  1, 1,  K,   op_linsert,    nullptr,  nullptr,    "list", "Inserts an element before or after another element in a list."},
    {"lrem",         4,  W,          1,  1, 1,  K,   op_lrem,       nullptr,  nullptr,    "list", "Removes elements from a list. Deletes the list if the last element was removed."},
    {"ltrim",        4,  W,          1,  1, 1,  K,   op_ltrim,      nullptr,  nullptr,    "list", "Removes elements from both ends a list. Deletes the list if all elements were trimmed."},
    {"lpos",        -3,  R,          1,  1, 1,  K,   op_lpos,       nullptr,  nullptr,    "list", "Returns the index of matching elements in a list."},
    {"lmove",        5,  W | ONE,    1,  2, 1,  KS,  op_lmove,      nullptr,  merge_ok,   "list", "Returns an element after popping it from one list and pushing it to another (keys in one partition)."},
    {"rpoplpush",    3,  W | ONE,    1,  2, 1,  KS,  op_rpoplpush,  nullptr,  merge_ok,   "list", "Returns the last element of a list after removing and pushing it to another list (keys in one partition)."},
  });
  // clang-format on
}

} // namespace otkv::cmd

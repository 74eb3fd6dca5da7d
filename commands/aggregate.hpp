#pragma once

// What the aggregate families (hash, list, set) share: finding a key's aggregate for a
// read or a change with Redis's -WRONGTYPE check, reporting a change, and SCAN-style
// cursors over an aggregate's elements. Plain C++ (no CAF).

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>

#include "commands/command.hpp"
#include "store/element_change.hpp"
#include "store/partition.hpp"

namespace otkv::cmd {

/// -WRONGTYPE (err::wrong_type, for the templates here).
net::reply wrong_type_reply();

/// The aggregate of type T at `key` for reading: nullptr when the key is missing;
/// `wrong` is set (and nullptr returned) when it holds another type.
template <class T>
const T* read_object(op_context& ctx, std::string_view key, bool& wrong) {
  wrong = false;
  auto* e = ctx.data.find(key, ctx.now);
  if (e == nullptr)
    return nullptr;
  if (e->type() != T::kind) {
    wrong = true;
    return nullptr;
  }
  return static_cast<const T*>(e->object());
}

/// The aggregate of type T at `key` for a change (made empty if missing and `create`):
/// nullptr when missing and not created, or (with `wrong` set) of another type.
template <class T>
T* write_object(op_context& ctx, std::string_view key, bool create, bool& wrong) {
  wrong = false;
  auto* e = ctx.data.find_for_change(key, store::key_hash(key), ctx.now, create, T::kind);
  if (e == nullptr)
    return nullptr;
  if (e->type() != T::kind) {
    wrong = true;
    return nullptr;
  }
  return static_cast<T*>(e->object());
}

/// Reports `change` (already applied to `o`, the aggregate at `key`) to the partition's
/// sink; an aggregate left empty is removed, as Redis removes it — `o` is gone then. Returns
/// the aggregate's size (0: removed).
size_t note_change(op_context& ctx, std::string_view key, const store::object& o,
                   const store::change_builder& change);

/// Applies `change` to `o` (the aggregate at `key`) and reports it (note_change); returns
/// the size left (0: `o` was removed and must not be used again).
size_t apply_and_note(op_context& ctx, std::string_view key, store::object& o,
                      const store::change_builder& change);

/// HDEL / SREM / ZREM: removes the elements args[2 …] from the T at args[1], logged as the
/// change `change_name` → how many were there (0 without key; -WRONGTYPE).
template <class T>
net::reply remove_elements(op_context& ctx, const net::arg_list& args,
                           std::string_view change_name) {
  bool wrong = false;
  auto* o = write_object<T>(ctx, args[1], false, wrong);
  if (wrong)
    return wrong_type_reply();
  if (!o)
    return net::reply::integer(0);
  size_t before = o->size();
  store::change_builder change(change_name);
  for (size_t i = 2; i < args.size(); ++i)
    change.add(args[i]);
  size_t left = apply_and_note(ctx, args[1], *o, change);
  return net::reply::integer(static_cast<int64_t>(before - left));
}

/// What ZMPOP / LMPOP (and their blocking forms) say after their keys.
struct mpop_request {
  size_t first_key = 0, end_key = 0; ///< the keys: args[first_key … end_key)
  bool max = false;                  ///< the second end word ("max", "right")
  int64_t count = 1;
};

/// Parses `numkeys key … END [COUNT count]` (numkeys at args[count_at]) as Redis's ZMPOP
/// and LMPOP do; `ends`: the two end words ("min", "max" or "left", "right").
net::reply parse_mpop(const net::arg_list& args, size_t count_at, const char* const ends[2],
                      mpop_request& req);

/// Parses a blocking command's timeout, seconds as a float (as Redis): `ms`, rounded up
/// (0: wait without limit). An error reply when it is not a number or is negative.
net::reply parse_block_timeout(const std::string& text, uint64_t& ms);

/// What a blocking command answers when it found nothing: it parks (op_context::blocked)
/// where it may wait, else (MULTI, scripts) at once, as Redis: a null array, or for
/// BLMOVE and BRPOPLPUSH (`null_bulk`) a null bulk string.
inline net::reply block_or_null(op_context& ctx, uint64_t ms, bool null_bulk = false) {
  if (ctx.may_block) {
    ctx.blocked = true;
    ctx.block_ms = ms;
    ctx.block_keys = null_bulk ? 1 : 0; // BLMOVE waits on its source only
  }
  return null_bulk ? net::reply::null() : net::reply::null_array();
}

/// For a blocking pop: the position and aggregate of the first of the keys
/// args[first … end) that holds a T (0 and nullptr for none). A key of another type sets
/// `wrong` (-WRONGTYPE), except when the request is waking (op_context::waking): then it
/// counts as missing, so the request keeps waiting, as Redis serves only keys of its type;
/// and a waking request looks at its ready_key only.
template <class T>
std::pair<size_t, T*> first_ready(op_context& ctx, const net::arg_list& args, size_t first,
                                  size_t end, bool& wrong) {
  wrong = false;
  for (size_t k = first; k < end; ++k) {
    if (ctx.waking && !ctx.ready_key.empty() && args[k] != ctx.ready_key)
      continue; // woken by another key: served from that one
    auto* o = write_object<T>(ctx, args[k], false, wrong);
    if (wrong && ctx.waking)
      wrong = false;
    else if (wrong || o)
      return {wrong ? 0 : k, o};
  }
  return {0, nullptr};
}

/// The options of HSCAN / SSCAN / ZSCAN after the cursor: MATCH pattern, COUNT n.
struct scan_options {
  uint64_t cursor = 0;
  std::string pattern = "*";
  size_t count = 10;
};

/// Parses `args[2]` (the cursor) and the options after it; returns an error reply (or a
/// non-error when they are fine), as Redis's scanGenericCommand.
net::reply parse_scan_options(const net::arg_list& args, scan_options& o);

/// The most picks a negative HRANDFIELD / SRANDMEMBER / ZRANDMEMBER count may ask for
/// (repeats allowed, so the reply is not bounded by the aggregate): 16M replies, a bound
/// on the memory one request can make the worker spend. Redis has none; past it, OTKV
/// answers Redis's -ERR value is out of range.
inline constexpr int64_t max_random_repeats = int64_t{1} << 24;

/// Whether a random-pick count is allowed: Redis's range (±2^62), and at most
/// max_random_repeats repeats for a negative count.
inline bool random_count_allowed(int64_t count) {
  return count >= -max_random_repeats && count <= std::numeric_limits<int64_t>::max() / 2;
}

/// The partition's random source (HRANDFIELD, SRANDMEMBER, SPOP, …).
std::mt19937_64& random_source();

/// A reply of a list of strings: a RESP2 array of bulk strings.
template <class Range>
net::reply bulk_array(const Range& items) {
  std::vector<net::reply> out;
  for (const auto& s : items)
    out.push_back(net::reply::bulk(std::string(s)));
  return net::reply::array(std::move(out));
}

} // namespace otkv::cmd

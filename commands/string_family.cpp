// The string family: GET, SET, INCR, APPEND … Handlers run on the partition owning
// the key; register_string_family adds one table row per command.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "commands/command_table.hpp"
#include "commands/dispatch.hpp"
#include "commands/errors.hpp"
#include "commands/number_text.hpp"
#include "net/integer.hpp"

namespace otkv::cmd {

namespace {

/// Whether `e` (an entry or nullptr) is not a string: the command answers -WRONGTYPE.
bool not_string(const store::entry* e) {
  return e != nullptr && e->type() != store::value_type::string;
}

/// GET key → bulk value or null.
net::reply op_get(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[1], ctx.first_key_hash(args[1]), ctx.now);
  if (e == nullptr)
    return net::reply::null();
  if (not_string(e))
    return err::wrong_type();
  return ctx.encode ? net::encoded_bulk(e->value()) : net::reply::bulk(std::string(e->value()));
}

/// The option flags of SET and GETEX (Redis's OBJ_SET_NX … OBJ_PXAT).
enum string_option : unsigned {
  opt_nx = 1, opt_xx = 2, opt_get = 4, opt_keepttl = 8, opt_persist = 16,
  opt_ex = 32, opt_px = 64, opt_exat = 128, opt_pxat = 256,
  opt_timed = opt_ex | opt_px | opt_exat | opt_pxat,
};

/// The options of SET (after `key value`) or GETEX (after `key`).
struct string_options {
  unsigned flags = 0;
  const std::string* expire = nullptr; ///< the value of the last EX/PX/EXAT/PXAT
};

/// Parses SET's or GETEX's options as Redis 7.0's parseExtendedStringArgumentsOrReply
/// does: an option may repeat (the last EX/PX/EXAT/PXAT value wins, `EX 10 EX 20`),
/// but two that conflict (NX and XX, EX and PX, a deadline and KEEPTTL or PERSIST)
/// are a syntax error. The deadline's value is only read later (expire_millis).
bool parse_string_options(const net::arg_list& args, bool is_set, string_options& o) {
  unsigned& f = o.flags;
  for (size_t j = is_set ? 3 : 2; j < args.size(); ++j) {
    const auto& a = args[j];
    unsigned timed = 0; // the deadline option `a` names, if any
    if (iequals(a, "ex"))
      timed = opt_ex;
    else if (iequals(a, "px"))
      timed = opt_px;
    else if (iequals(a, "exat"))
      timed = opt_exat;
    else if (iequals(a, "pxat"))
      timed = opt_pxat;
    if (is_set && iequals(a, "nx") && !(f & opt_xx)) {
      f |= opt_nx;
    } else if (is_set && iequals(a, "xx") && !(f & opt_nx)) {
      f |= opt_xx;
    } else if (is_set && iequals(a, "get")) {
      f |= opt_get;
    } else if (is_set && iequals(a, "keepttl") && !(f & (opt_persist | opt_timed))) {
      f |= opt_keepttl;
    } else if (!is_set && iequals(a, "persist") && !(f & (opt_timed | opt_keepttl))) {
      f |= opt_persist;
    } else if (timed != 0 && !(f & (opt_keepttl | opt_persist | (opt_timed & ~timed)))
               && j + 1 < args.size()) {
      f |= timed;
      o.expire = &args[++j];
    } else {
      return false;
    }
  }
  return true;
}

/// The deadline of `o`'s EX/PX/EXAT/PXAT as absolute Unix ms (Redis's
/// getExpireMillisecondsOrReply); returns an error reply (naming `command`) or a non-error.
net::reply expire_millis(const string_options& o, store::millis now, std::string_view command,
                         store::millis& at) {
  int64_t v = 0;
  if (!net::parse_int64(*o.expire, v))
    return err::not_integer();
  bool seconds = (o.flags & (opt_ex | opt_exat)) != 0;
  constexpr int64_t max = std::numeric_limits<int64_t>::max();
  if (v <= 0 || (seconds && v > max / 1000))
    return err::expire_time(command);
  if (seconds)
    v *= 1000;
  if (o.flags & (opt_ex | opt_px)) {
    if (v > max - now)
      return err::expire_time(command);
    v += now;
  }
  at = v;
  return net::reply::ok();
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
/// → +OK, or null when NX/XX prevented it; with GET the old value (or null).
net::reply op_set(op_context& ctx, const net::arg_list& args) {
  string_options o;
  if (!parse_string_options(args, true, o))
    return err::syntax();
  store::millis expire_at = 0; // absolute; 0 = none
  if (o.expire != nullptr)
    if (auto r = expire_millis(o, ctx.now, "set", expire_at); r.is_error())
      return r;
  bool get = o.flags & opt_get;
  uint64_t hash = ctx.first_key_hash(args[1]);
  auto* old = ctx.data.find(args[1], hash, ctx.now);
  if (get && not_string(old))
    return err::wrong_type();
  net::reply result = get ? (old ? net::reply::bulk(std::string(old->value())) : net::reply::null())
                          : net::reply::ok();
  if (((o.flags & opt_nx) && old) || ((o.flags & opt_xx) && !old))
    return get ? result : net::reply::null();
  bool keepttl = o.flags & opt_keepttl;
  ctx.data.put(args[1], hash, args[2], old && keepttl ? old->expire_at() : expire_at);
  return result;
}

/// INCR / DECR / INCRBY / DECRBY: adds `delta` to the integer stored at args[1].
net::reply incr_by(op_context& ctx, const net::arg_list& args, int64_t delta) {
  auto* e = ctx.data.find(args[1], ctx.now);
  int64_t current = 0;
  if (not_string(e))
    return err::wrong_type();
  if (e && !net::parse_int64(e->value(), current))
    return err::not_integer();
  if ((delta > 0 && current > std::numeric_limits<int64_t>::max() - delta)
      || (delta < 0 && current < std::numeric_limits<int64_t>::min() - delta))
    return err::overflow();
  int64_t next = current + delta;
  ctx.data.put(args[1], std::to_string(next), e ? e->expire_at() : 0); // keeps the TTL
  return net::reply::integer(next);
}

/// The delta argument of INCRBY / DECRBY.
bool delta_arg(const std::string& text, int64_t& out) {
  return net::parse_int64(text, out);
}

/// INCR key → the value after adding 1.
net::reply op_incr(op_context& ctx, const net::arg_list& args) {
  return incr_by(ctx, args, 1);
}

/// DECR key → the value after subtracting 1.
net::reply op_decr(op_context& ctx, const net::arg_list& args) {
  return incr_by(ctx, args, -1);
}

/// INCRBY key delta → the value after adding delta.
net::reply op_incrby(op_context& ctx, const net::arg_list& args) {
  int64_t d = 0;
  if (!delta_arg(args[2], d))
    return err::not_integer();
  return incr_by(ctx, args, d);
}

/// DECRBY key delta → the value after subtracting delta.
net::reply op_decrby(op_context& ctx, const net::arg_list& args) {
  int64_t d = 0;
  if (!delta_arg(args[2], d) || d == std::numeric_limits<int64_t>::min())
    return err::not_integer();
  return incr_by(ctx, args, -d);
}

/// APPEND key value → the length after appending.
net::reply op_append(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[1], ctx.now);
  if (not_string(e))
    return err::wrong_type();
  if ((e ? e->value().size() : 0) + args[2].size() > store::max_value_size)
    return err::string_too_long();
  // In place, and logged as the suffix (not the whole new value).
  auto& grown = ctx.data.append(args[1], args[2], ctx.now);
  return net::reply::integer(static_cast<int64_t>(grown.value().size()));
}

/// STRLEN key → the value's length, 0 without key.
net::reply op_strlen(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[1], ctx.now);
  if (not_string(e))
    return err::wrong_type();
  return net::reply::integer(e ? static_cast<int64_t>(e->value().size()) : 0);
}

/// GETDEL key → the value (or null); the key is removed.
net::reply op_getdel(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[1], ctx.now);
  if (!e)
    return net::reply::null();
  if (not_string(e))
    return err::wrong_type();
  auto r = net::reply::bulk(std::string(e->value()));
  ctx.data.erase(args[1], ctx.now);
  return r;
}

/// GETSET key value → the old value (or null); sets the new one without a deadline.
net::reply op_getset(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[1], ctx.now);
  if (not_string(e))
    return err::wrong_type();
  auto r = e ? net::reply::bulk(std::string(e->value())) : net::reply::null();
  ctx.data.put(args[1], args[2], 0);
  return r;
}

/// GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST] → the value (or null), changing its
/// deadline. As Redis 7.0: options are checked first (syntax), the deadline's value only
/// when the key exists; an EXAT/PXAT in the past deletes the key.
net::reply op_getex(op_context& ctx, const net::arg_list& args) {
  string_options o;
  if (!parse_string_options(args, false, o))
    return err::syntax();
  auto* e = ctx.data.find(args[1], ctx.now);
  if (!e)
    return net::reply::null();
  if (not_string(e))
    return err::wrong_type();
  store::millis at = 0;
  if (o.expire != nullptr)
    if (auto r = expire_millis(o, ctx.now, "getex", at); r.is_error())
      return r;
  auto r = net::reply::bulk(std::string(e->value()));
  if (o.expire != nullptr && at <= ctx.now)
    ctx.data.erase(args[1], ctx.now);
  else if (o.expire != nullptr)
    ctx.data.set_expire(*e, at);
  else if ((o.flags & opt_persist) && e->expire_at() != 0)
    ctx.data.set_expire(*e, 0);
  return r;
}

/// SETNX key value → 1 if the key was set, 0 if it existed.
net::reply op_setnx(op_context& ctx, const net::arg_list& args) {
  if (ctx.data.find(args[1], ctx.now))
    return net::reply::integer(0);
  ctx.data.put(args[1], args[2], 0);
  return net::reply::integer(1);
}

/// SETEX and PSETEX: `unit_ms` is 1000 or 1.
net::reply setex_generic(op_context& ctx, const net::arg_list& args, int64_t unit_ms,
                         std::string_view name) {
  int64_t v = 0;
  if (!net::parse_int64(args[2], v))
    return err::not_integer();
  constexpr int64_t max = std::numeric_limits<int64_t>::max();
  if (v <= 0 || v > max / unit_ms || v * unit_ms > max - ctx.now)
    return err::expire_time(name);
  ctx.data.put(args[1], args[3], ctx.now + v * unit_ms);
  return net::reply::ok();
}

/// Clamps Redis-style (negative = from the end) range bounds to [0, len).
bool clamp_range(int64_t& start, int64_t& end, int64_t len) {
  if (start < 0)
    start += len;
  if (end < 0)
    end += len;
  if (start < 0)
    start = 0;
  if (end < 0)
    end = 0;
  if (end >= len)
    end = len - 1;
  return len > 0 && start <= end;
}

/// SETEX key seconds value → +OK.
net::reply op_setex(op_context& ctx, const net::arg_list& args) {
  return setex_generic(ctx, args, 1000, "setex");
}

/// PSETEX key milliseconds value → +OK.
net::reply op_psetex(op_context& ctx, const net::arg_list& args) {
  return setex_generic(ctx, args, 1, "psetex");
}

/// GETRANGE key start end → the substring (negative positions count from the end).
net::reply op_getrange(op_context& ctx, const net::arg_list& args) {
  int64_t start = 0, end = 0;
  if (!net::parse_int64(args[2], start) || !net::parse_int64(args[3], end))
    return err::not_integer();
  auto* e = ctx.data.find(args[1], ctx.now);
  if (!e)
    return net::reply::bulk("");
  if (not_string(e))
    return err::wrong_type();
  auto v = e->value();
  auto len = static_cast<int64_t>(v.size());
  if (start < 0 && end < 0 && start > end)
    return net::reply::bulk("");
  if (!clamp_range(start, end, len))
    return net::reply::bulk("");
  return net::reply::bulk(std::string(v.substr(static_cast<size_t>(start),
                                               static_cast<size_t>(end - start + 1))));
}

/// SETRANGE key offset value → the length after overwriting from offset (zero-padded).
net::reply op_setrange(op_context& ctx, const net::arg_list& args) {
  int64_t offset = 0;
  if (!net::parse_int64(args[2], offset))
    return err::not_integer();
  if (offset < 0)
    return err::offset_out_of_range();
  const auto& piece = args[3];
  auto* e = ctx.data.find(args[1], ctx.now);
  if (not_string(e))
    return err::wrong_type();
  if (piece.empty())
    return net::reply::integer(e ? static_cast<int64_t>(e->value().size()) : 0);
  if (static_cast<uint64_t>(offset) + piece.size() > 512ull * 1024 * 1024)
    return err::string_too_long();
  // In place, and logged as the changed range (not the whole new value).
  auto& changed = ctx.data.set_range(args[1], static_cast<size_t>(offset), piece, ctx.now);
  return net::reply::integer(static_cast<int64_t>(changed.value().size()));
}

/// INCRBYFLOAT key increment → the new value as a bulk string (Redis's formatting,
/// exact at any magnitude: 1e130 is 131 digits).
net::reply op_incrbyfloat(op_context& ctx, const net::arg_list& args) {
  long double incr = 0, current = 0;
  auto* e = ctx.data.find(args[1], ctx.now);
  if (not_string(e))
    return err::wrong_type();
  if ((e && !parse_long_double(e->value(), current)) || !parse_long_double(args[2], incr))
    return err::not_float();
  long double next = current + incr;
  if (std::isnan(next) || std::isinf(next))
    return err::nan_or_infinity();
  std::string text = format_long_double(next);
  ctx.data.put(args[1], text, e ? e->expire_at() : 0);
  return net::reply::bulk(std::move(text));
}

/// MGET key [key …] → array of values (null for missing keys).
net::reply op_mget(op_context& ctx, const net::arg_list& args) {
  std::vector<net::reply> out;
  out.reserve(args.size() - 1);
  for (size_t i = 1; i < args.size(); ++i) {
    auto* e = ctx.data.find(args[i], ctx.now);
    // As Redis: a key of another type reads as missing.
    out.push_back(e && !not_string(e) ? net::reply::bulk(std::string(e->value()))
                                      : net::reply::null());
  }
  return net::reply::array(std::move(out));
}

/// MSETNX key value [key value …] → 1 if every key was set, 0 (nothing set) if any existed.
net::reply op_msetnx(op_context& ctx, const net::arg_list& args) {
  for (size_t i = 1; i + 1 < args.size(); i += 2)
    if (ctx.data.find(args[i], ctx.now))
      return net::reply::integer(0);
  for (size_t i = 1; i + 1 < args.size(); i += 2)
    ctx.data.put(args[i], args[i + 1], 0);
  return net::reply::integer(1);
}

/// MSET key value [key value …] → +OK. Keys are set in order (a repeated key keeps
/// the last value); the TTL of each key is cleared.
net::reply op_mset(op_context& ctx, const net::arg_list& args) {
  for (size_t i = 1; i + 1 < args.size(); i += 2)
    ctx.data.put(args[i], args[i + 1], 0);
  return net::reply::ok();
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN] → the longest common
/// subsequence of the two strings (missing keys: empty), its length (LEN), or its matching
/// ranges, last first, and its length (IDX), as Redis 7's LCS. O(len1 × len2) time and
/// memory (bounded by proto-max-bulk-len's 512 MiB).
net::reply op_lcs(op_context& ctx, const net::arg_list& args) {
  bool len_only = false, idx = false, with_len = false;
  int64_t min_len = 0;
  for (size_t i = 3; i < args.size(); ++i) {
    if (iequals(args[i], "len")) {
      len_only = true;
    } else if (iequals(args[i], "idx")) {
      idx = true;
    } else if (iequals(args[i], "withmatchlen")) {
      with_len = true;
    } else if (iequals(args[i], "minmatchlen") && i + 1 < args.size()) {
      if (!net::parse_int64(args[++i], min_len))
        return err::not_integer();
      min_len = std::max<int64_t>(min_len, 0);
    } else {
      return err::syntax();
    }
  }
  std::string_view a, b;
  for (int k : {1, 2}) {
    auto* e = ctx.data.find(args[static_cast<size_t>(k)], ctx.now);
    if (not_string(e))
      return err::lcs_not_strings();
    (k == 1 ? a : b) = e ? e->value() : std::string_view();
  }
  if (len_only && idx)
    return err::lcs_len_and_idx();
  size_t w = b.size() + 1;
  if ((a.size() + 1) * w > store::max_value_size / sizeof(uint32_t))
    return err::lcs_too_large();
  // table[i][j]: the LCS length of a's first i bytes and b's first j.
  std::vector<uint32_t> table((a.size() + 1) * w, 0);
  auto lcs = [&](size_t i, size_t j) -> uint32_t& { return table[i * w + j]; };
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j)
      lcs(i, j) = a[i - 1] == b[j - 1] ? lcs(i - 1, j - 1) + 1
                                       : std::max(lcs(i - 1, j), lcs(i, j - 1));
  uint32_t total = lcs(a.size(), b.size());
  if (len_only)
    return net::reply::integer(total);
  // Walk back from the end, collecting the string and the contiguous matching ranges.
  std::string common(total, '\0');
  std::vector<net::reply> matches;
  size_t i = a.size(), j = b.size(), at = total;
  size_t a_start = a.size(), a_end = 0, b_start = 0, b_end = 0; // a_start == size: none
  while (i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      common[--at] = a[i - 1];
      if (a_start == a.size()) {
        a_start = a_end = i - 1;
        b_start = b_end = j - 1;
      } else if (a_start == i && b_start == j) { // contiguous: extend backwards
        --a_start;
        --b_start;
      } else {
        emit = true;
      }
      if (a_start == 0 || b_start == 0)
        emit = true;
      --i;
      --j;
    } else {
      if (lcs(i - 1, j) > lcs(i, j - 1))
        --i;
      else
        --j;
      emit = a_start != a.size();
    }
    if (emit) {
      auto match_len = static_cast<int64_t>(a_end - a_start + 1);
      if (idx && match_len >= min_len) {
        std::vector<net::reply> m{
          net::reply::array({net::reply::integer(static_cast<int64_t>(a_start)),
                             net::reply::integer(static_cast<int64_t>(a_end))}),
          net::reply::array({net::reply::integer(static_cast<int64_t>(b_start)),
                             net::reply::integer(static_cast<int64_t>(b_end))})};
        if (with_len)
          m.push_back(net::reply::integer(match_len));
        matches.push_back(net::reply::array(std::move(m)));
      }
      a_start = a.size();
    }
  }
  if (!idx)
    return net::reply::bulk(std::move(common));
  return net::reply::array({net::reply::bulk("matches"), net::reply::array(std::move(matches)),
                            net::reply::bulk("len"), net::reply::integer(total)});
}

} // namespace

void register_string_family(command_registry& table) {
  using namespace shorthand;
  // clang-format off
  table.insert(table.end(), {
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
    {"lcs",        -3,  R | ONE,   1,  2, 1,  KS,  op_lcs,          nullptr,        merge_ok,      "string",     "Finds the longest common substring (keys in one partition)."},
    {"msetnx",     -3,  W | ONE,   1, -1, 2,  KS,  op_msetnx,       nullptr,        merge_ok,      "string",     "Atomically sets multiple keys only when none of them exist (keys in one partition)."},
  });
  // clang-format on
}

} // namespace otkv::cmd

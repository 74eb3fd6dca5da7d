#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "actors/commands/errors.hpp"
#include "actors/commands/families.hpp"
#include "net/integer.hpp"

namespace otkv::cmd {

/// GET key → bulk value or null.
net::reply op_get(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[1], ctx.now);
  return e ? net::reply::bulk(std::string(e->value())) : net::reply::null();
}

namespace {

/// Turns `EX s`, `PX ms`, `EXAT s` or `PXAT ms` (option, value) into an absolute
/// deadline; returns an error reply (naming `command`) or a non-error.
net::reply parse_deadline(const std::string& option, const std::string& text, store::millis now,
                          std::string_view command, store::millis& at) {
  int64_t v = 0;
  if (!net::parse_int64(text, v))
    return err::not_integer();
  bool seconds = iequals(option, "ex") || iequals(option, "exat");
  bool relative = iequals(option, "ex") || iequals(option, "px");
  constexpr int64_t max = std::numeric_limits<int64_t>::max();
  if (v <= 0 || (seconds && v > max / 1000))
    return err::expire_time(command);
  int64_t ms = seconds ? v * 1000 : v;
  if (relative && ms > max - now)
    return err::expire_time(command);
  at = relative ? now + ms : ms;
  return net::reply::ok();
}

/// The options of SET after `key value`.
struct set_options {
  bool nx = false, xx = false, get = false, keepttl = false;
  store::millis expire_at = 0; // absolute; 0 = none
};

/// Parses SET's options; returns an error reply's text, or an empty string.
net::reply parse_set_options(const net::arg_list& args, store::millis now, set_options& o) {
  bool have_expire = false;
  for (size_t i = 3; i < args.size(); ++i) {
    const auto& a = args[i];
    if (iequals(a, "nx") && !o.xx) {
      o.nx = true;
    } else if (iequals(a, "xx") && !o.nx) {
      o.xx = true;
    } else if (iequals(a, "get")) {
      o.get = true;
    } else if (iequals(a, "keepttl") && !have_expire) {
      o.keepttl = true;
    } else if ((iequals(a, "ex") || iequals(a, "px") || iequals(a, "exat") || iequals(a, "pxat"))
               && !have_expire && !o.keepttl && i + 1 < args.size()) {
      if (auto r = parse_deadline(a, args[i + 1], now, "set", o.expire_at); r.is_error())
        return r;
      have_expire = true;
      ++i;
    } else {
      return err::syntax();
    }
  }
  return {};
}

} // namespace

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
/// → +OK, or null when NX/XX prevented it; with GET the old value (or null).
net::reply op_set(op_context& ctx, const net::arg_list& args) {
  set_options o;
  if (auto r = parse_set_options(args, ctx.now, o); r.is_error())
    return r;
  auto* old = ctx.data.find(args[1], ctx.now);
  net::reply result = o.get ? (old ? net::reply::bulk(std::string(old->value())) : net::reply::null())
                            : net::reply::ok();
  if ((o.nx && old) || (o.xx && !old))
    return o.get ? result : net::reply::null();
  ctx.data.put(args[1], args[2], old && o.keepttl ? old->expire_at() : o.expire_at);
  return result;
}

namespace {

/// INCR / DECR / INCRBY / DECRBY: adds `delta` to the integer stored at args[1].
net::reply incr_by(op_context& ctx, const net::arg_list& args, int64_t delta) {
  auto* e = ctx.data.find(args[1], ctx.now);
  int64_t current = 0;
  if (e && !net::parse_int64(e->value(), current))
    return err::not_integer();
  if ((delta > 0 && current > std::numeric_limits<int64_t>::max() - delta)
      || (delta < 0 && current < std::numeric_limits<int64_t>::min() - delta))
    return net::reply::error("ERR increment or decrement would overflow");
  int64_t next = current + delta;
  ctx.data.put(args[1], std::to_string(next), e ? e->expire_at() : 0); // keeps the TTL
  return net::reply::integer(next);
}

/// The delta argument of INCRBY / DECRBY.
bool delta_arg(const std::string& text, int64_t& out) {
  return net::parse_int64(text, out);
}

} // namespace

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
  if ((e ? e->value().size() : 0) + args[2].size() > store::max_value_size)
    return net::reply::error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  // In place, and logged as the suffix (not the whole new value).
  auto& grown = ctx.data.append(args[1], args[2], ctx.now);
  return net::reply::integer(static_cast<int64_t>(grown.value().size()));
}

/// STRLEN key → the value's length, 0 without key.
net::reply op_strlen(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[1], ctx.now);
  return net::reply::integer(e ? static_cast<int64_t>(e->value().size()) : 0);
}

/// GETDEL key → the value (or null); the key is removed.
net::reply op_getdel(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[1], ctx.now);
  if (!e)
    return net::reply::null();
  auto r = net::reply::bulk(std::string(e->value()));
  ctx.data.erase(args[1], ctx.now);
  return r;
}

/// GETSET key value → the old value (or null); sets the new one without a deadline.
net::reply op_getset(op_context& ctx, const net::arg_list& args) {
  auto* e = ctx.data.find(args[1], ctx.now);
  auto r = e ? net::reply::bulk(std::string(e->value())) : net::reply::null();
  ctx.data.put(args[1], args[2], 0);
  return r;
}

/// GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST] → the value (or null), changing its deadline.
net::reply op_getex(op_context& ctx, const net::arg_list& args) {
  store::millis at = -1; // -1: leave the deadline alone
  for (size_t i = 2; i < args.size(); ++i) {
    const auto& a = args[i];
    bool timed = iequals(a, "ex") || iequals(a, "px") || iequals(a, "exat") || iequals(a, "pxat");
    if (at != -1 || (!timed && !iequals(a, "persist")) || (timed && i + 1 >= args.size()))
      return err::syntax();
    if (!timed) {
      at = 0;
      continue;
    }
    if (auto r = parse_deadline(a, args[i + 1], ctx.now, "getex", at); r.is_error())
      return r;
    ++i;
  }
  auto* e = ctx.data.find(args[1], ctx.now);
  if (!e)
    return net::reply::null();
  auto r = net::reply::bulk(std::string(e->value()));
  if (at > 0 && at <= ctx.now)
    ctx.data.erase(args[1], ctx.now);
  else if (at >= 0)
    ctx.data.set_expire(*e, at);
  return r;
}

/// SETNX key value → 1 if the key was set, 0 if it existed.
net::reply op_setnx(op_context& ctx, const net::arg_list& args) {
  if (ctx.data.find(args[1], ctx.now))
    return net::reply::integer(0);
  ctx.data.put(args[1], args[2], 0);
  return net::reply::integer(1);
}

namespace {

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

} // namespace

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
    return net::reply::error("ERR offset is out of range");
  const auto& piece = args[3];
  auto* e = ctx.data.find(args[1], ctx.now);
  if (piece.empty())
    return net::reply::integer(e ? static_cast<int64_t>(e->value().size()) : 0);
  if (static_cast<uint64_t>(offset) + piece.size() > 512ull * 1024 * 1024)
    return net::reply::error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  // In place, and logged as the changed range (not the whole new value).
  auto& changed = ctx.data.set_range(args[1], static_cast<size_t>(offset), piece, ctx.now);
  return net::reply::integer(static_cast<int64_t>(changed.value().size()));
}

/// INCRBYFLOAT key increment → the new value as a bulk string (Redis's formatting).
net::reply op_incrbyfloat(op_context& ctx, const net::arg_list& args) {
  auto parse = [](const std::string& s, long double& out) {
    if (s.empty() || std::isspace(static_cast<unsigned char>(s[0])))
      return false;
    char* end = nullptr;
    errno = 0;
    out = std::strtold(s.c_str(), &end);
    return end == s.c_str() + s.size() && errno != ERANGE && !std::isnan(out);
  };
  long double incr = 0, current = 0;
  if (!parse(args[2], incr))
    return net::reply::error("ERR value is not a valid float");
  auto* e = ctx.data.find(args[1], ctx.now);
  if (e && !parse(std::string(e->value()), current))
    return net::reply::error("ERR value is not a valid float");
  long double next = current + incr;
  if (std::isnan(next) || std::isinf(next))
    return net::reply::error("ERR increment would produce NaN or Infinity");
  char buf[128];
  std::snprintf(buf, sizeof(buf), "%.17Lf", next);
  std::string text(buf);
  if (text.find('.') != std::string::npos) { // trim trailing zeros, then a trailing dot
    while (!text.empty() && text.back() == '0')
      text.pop_back();
    if (!text.empty() && text.back() == '.')
      text.pop_back();
  }
  if (text == "-0")
    text = "0";
  ctx.data.put(args[1], text, e ? e->expire_at() : 0);
  return net::reply::bulk(std::move(text));
}

/// MGET key [key …] → array of values (null for missing keys).
net::reply op_mget(op_context& ctx, const net::arg_list& args) {
  std::vector<net::reply> out;
  out.reserve(args.size() - 1);
  for (size_t i = 1; i < args.size(); ++i) {
    auto* e = ctx.data.find(args[i], ctx.now);
    out.push_back(e ? net::reply::bulk(std::string(e->value())) : net::reply::null());
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

} // namespace otkv::cmd

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
      int64_t v = 0;
      if (!net::parse_int64(args[i + 1], v))
        return err::not_integer();
      bool seconds = iequals(a, "ex") || iequals(a, "exat");
      bool relative = iequals(a, "ex") || iequals(a, "px");
      constexpr int64_t max = std::numeric_limits<int64_t>::max();
      if (v <= 0 || (seconds && v > max / 1000))
        return err::expire_time("set");
      int64_t ms = seconds ? v * 1000 : v;
      if (relative && ms > max - now)
        return err::expire_time("set");
      o.expire_at = relative ? now + ms : ms;
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

/// MSET key value [key value …] → +OK. Keys are set in order (a repeated key keeps
/// the last value); the TTL of each key is cleared.
net::reply op_mset(op_context& ctx, const net::arg_list& args) {
  for (size_t i = 1; i + 1 < args.size(); i += 2)
    ctx.data.put(args[i], args[i + 1], 0);
  return net::reply::ok();
}

} // namespace otkv::cmd

// The sorted-set family: ZADD, ZRANGE (BYSCORE, BYLEX, REV, LIMIT), ZRANK, ZPOPMIN … Handlers
// run on the partition owning the key (ZRANGESTORE: both keys in one partition); a change
// is applied as a store::change_builder change ("zadd score member", "zrem member"), so the
// op log and replicas replay exactly it. register_zset_family adds one table row per command.

#include <cmath>
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
#include "store/zset_object.hpp"

namespace otkv::cmd {

namespace {

using store::format_score;
using store::parse_score;
using store::zset_object;

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member …] → members added
/// (CH: added or changed); INCR: the new score, or null when an option refused it.
net::reply zadd_generic(op_context& ctx, const net::arg_list& args, bool zincrby) {
  bool nx = false, xx = false, gt = false, lt = false, ch = false, incr = zincrby;
  size_t i = 2;
  for (; !zincrby && i < args.size(); ++i) {
    const auto& a = args[i];
    if (iequals(a, "nx"))
      nx = true;
    else if (iequals(a, "xx"))
      xx = true;
    else if (iequals(a, "gt"))
      gt = true;
    else if (iequals(a, "lt"))
      lt = true;
    else if (iequals(a, "ch"))
      ch = true;
    else if (iequals(a, "incr"))
      incr = true;
    else
      break;
  }
  size_t pairs_at = i;
  size_t words = args.size() - pairs_at;
  if (words == 0 || words % 2 != 0)
    return err::syntax();
  if (nx && xx)
    return err::zadd_xx_nx();
  if ((gt && nx) || (lt && nx) || (gt && lt))
    return err::zadd_gt_lt_nx();
  if (incr && words > 2)
    return err::zadd_incr_pairs();
  std::vector<double> scores;
  scores.reserve(words / 2);
  for (size_t k = pairs_at; k < args.size(); k += 2) {
    double s = 0;
    if (!parse_score(args[k], s))
      return err::not_float();
    scores.push_back(s);
  }
  bool wrong = false;
  auto* z = write_object<zset_object>(ctx, args[1], !xx, wrong);
  if (wrong)
    return err::wrong_type();
  if (!z) // XX on a missing key
    return incr ? net::reply::null() : net::reply::integer(0);
  store::change_builder change("zadd", ctx.data.records_kept());
  int64_t added = 0, changed = 0;
  bool any = false;
  double last = 0;
  bool refused = false;
  for (size_t k = 0; k < scores.size(); ++k) {
    const auto& member = args[pairs_at + 2 * k + 1];
    auto current = z->score(member);
    double s = scores[k];
    if ((nx && current) || (xx && !current)) {
      refused = true;
      continue;
    }
    if (incr && current) {
      s += *current;
      if (std::isnan(s))
        return err::score_nan();
    }
    if (current && ((gt && s <= *current) || (lt && s >= *current))) {
      refused = true;
      continue;
    }
    last = s;
    if (current && *current == s)
      continue;
    (current ? changed : added) += 1;
    if (change.kept())
      change.add(store::record_score(s)).add(member);
    any = true;
    z->add(member, s); // applied one by one: a member named twice takes its last score
  }
  if (any)
    note_change(ctx, args[1], *z, change);
  else if (z->size() == 0) // made for nothing (NX/GT/LT refused every pair)
    ctx.data.erase(args[1], ctx.now);
  if (incr)
    return refused ? net::reply::null() : net::reply::bulk(format_score(last));
  return net::reply::integer(ch ? added + changed : added);
}

net::reply op_zadd(op_context& ctx, const net::arg_list& args) {
  return zadd_generic(ctx, args, false);
}

/// ZINCRBY key increment member → the new score.
net::reply op_zincrby(op_context& ctx, const net::arg_list& args) {
  return zadd_generic(ctx, args, true);
}

/// ZREM key member [member …] → members removed.
net::reply op_zrem(op_context& ctx, const net::arg_list& args) {
  return remove_elements<zset_object>(ctx, args, "zrem");
}

/// ZSCORE key member → the score, or null.
net::reply op_zscore(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  const auto* z = read_object<zset_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  auto s = z ? z->score(args[2]) : std::nullopt;
  return s ? net::reply::bulk(format_score(*s)) : net::reply::null();
}

/// ZMSCORE key member [member …] → each score, or null.
net::reply op_zmscore(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  const auto* z = read_object<zset_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  std::vector<net::reply> out;
  for (size_t i = 2; i < args.size(); ++i) {
    auto s = z ? z->score(args[i]) : std::nullopt;
    out.push_back(s ? net::reply::bulk(format_score(*s)) : net::reply::null());
  }
  return net::reply::array(std::move(out));
}

/// ZCARD key → the number of members.
net::reply op_zcard(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  const auto* z = read_object<zset_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  return net::reply::integer(z ? static_cast<int64_t>(z->size()) : 0);
}

/// ZRANK / ZREVRANK key member → the rank, or null.
net::reply rank_generic(op_context& ctx, const net::arg_list& args, bool rev) {
  bool wrong = false;
  const auto* z = read_object<zset_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  auto r = z ? z->rank(args[2]) : std::nullopt;
  if (!r)
    return net::reply::null();
  return net::reply::integer(static_cast<int64_t>(rev ? z->size() - 1 - *r : *r));
}

net::reply op_zrank(op_context& ctx, const net::arg_list& args) {
  return rank_generic(ctx, args, false);
}
net::reply op_zrevrank(op_context& ctx, const net::arg_list& args) {
  return rank_generic(ctx, args, true);
}

/// How a range selects members.
enum class by { rank, score, lex };

/// A range request: what selects, in which direction, and how much of it.
struct range_query {
  by how = by::rank;
  bool rev = false;
  bool with_scores = false;
  bool limit = false;
  int64_t offset = 0;
  int64_t count = -1;
  std::string min, max; // in ascending order (a REV request's are swapped already)
};

/// A score bound: "(x" exclusive, "x", "-inf", "+inf".
bool parse_score_bound(const std::string& text, double& v, bool& exclusive) {
  exclusive = !text.empty() && text[0] == '(';
  auto number = exclusive ? std::string_view(text).substr(1) : std::string_view(text);
  return parse_score(number, v, /*saturate=*/true);
}

/// The ascending ranks [lo, hi) that `q` selects in `z`; false with `error` set.
bool rank_window(const zset_object& z, const range_query& q, size_t& lo, size_t& hi,
                 net::reply& error) {
  auto len = static_cast<int64_t>(z.size());
  lo = hi = 0;
  if (q.how == by::rank) {
    int64_t start = 0, stop = 0;
    if (!net::parse_int64(q.min, start) || !net::parse_int64(q.max, stop)) {
      error = err::not_integer();
      return false;
    }
    if (start < 0)
      start += len;
    if (stop < 0)
      stop += len;
    start = std::max<int64_t>(start, 0);
    if (start > stop || start >= len)
      return true;
    stop = std::min(stop, len - 1);
    if (q.rev) { // ranks counted from the end
      lo = static_cast<size_t>(len - 1 - stop);
      hi = static_cast<size_t>(len - start);
    } else {
      lo = static_cast<size_t>(start);
      hi = static_cast<size_t>(stop + 1);
    }
    return true;
  }
  if (q.how == by::score) {
    double a = 0, b = 0;
    bool ax = false, bx = false;
    if (!parse_score_bound(q.min, a, ax) || !parse_score_bound(q.max, b, bx)) {
      error = err::score_range();
      return false;
    }
    lo = z.count_below(a, ax);
    hi = z.count_below(b, !bx);
  } else {
    auto bound = [&](const std::string& t, bool is_min, size_t& out) {
      if (t == "-")
        out = 0;
      else if (t == "+")
        out = z.size();
      else if (!t.empty() && (t[0] == '[' || t[0] == '('))
        out = z.count_below_lex(std::string_view(t).substr(1), is_min == (t[0] == '('));
      else
        return false;
      return true;
    };
    if (!bound(q.min, true, lo) || !bound(q.max, false, hi)) {
      error = err::lex_range();
      return false;
    }
  }
  if (hi < lo)
    hi = lo;
  return true;
}

/// -ERR for bounds that do not parse (checked before the key, as Redis), else ok.
net::reply check_bounds(const range_query& q) {
  static const zset_object empty; // read only: its ranges are checked and found empty
  size_t lo = 0, hi = 0;
  net::reply error;
  return rank_window(empty, q, lo, hi, error) ? net::reply::ok() : error;
}

/// Calls `fn(member, score)` for the members `q` selects, in its order, after its LIMIT
/// (its bounds checked already: check_bounds).
template <class F>
net::reply visit_range(const zset_object* z, const range_query& q, F&& fn) {
  size_t lo = 0, hi = 0;
  if (z == nullptr) // nothing to visit (callers checked the bounds: check_bounds)
    return net::reply::ok();
  net::reply error;
  if (!rank_window(*z, q, lo, hi, error))
    return error;
  if (lo >= hi || (q.limit && q.offset < 0))
    return net::reply::ok();
  size_t skip = q.limit ? static_cast<size_t>(q.offset) : 0;
  size_t take = q.limit && q.count >= 0 ? static_cast<size_t>(q.count)
                                        : std::numeric_limits<size_t>::max();
  if (skip >= hi - lo || take == 0)
    return net::reply::ok();
  size_t first = q.rev ? lo : lo + skip, last = q.rev ? hi - 1 - skip : hi - 1;
  size_t n = 0;
  z->for_ranks(first, last, q.rev, [&](std::string_view m, double s) {
    fn(m, s);
    return ++n < take;
  });
  return net::reply::ok();
}

/// Reads a range request's options from args[at …] (WITHSCORES, LIMIT, and for ZRANGE
/// BYSCORE, BYLEX, REV when `zrange`).
net::reply parse_range_options(const net::arg_list& args, size_t at, bool zrange,
                               range_query& q) {
  bool by_score = false, by_lex = false;
  for (size_t i = at; i < args.size(); ++i) {
    const auto& a = args[i];
    if (iequals(a, "withscores")) {
      q.with_scores = true;
    } else if (iequals(a, "limit") && i + 2 < args.size()) {
      if (!net::parse_int64(args[i + 1], q.offset) || !net::parse_int64(args[i + 2], q.count))
        return err::not_integer();
      q.limit = true;
      i += 2;
    } else if (zrange && iequals(a, "byscore")) {
      by_score = true;
    } else if (zrange && iequals(a, "bylex")) {
      by_lex = true;
    } else if (zrange && iequals(a, "rev")) {
      q.rev = true;
    } else {
      return err::syntax();
    }
  }
  if (by_score && by_lex)
    return err::syntax();
  if (zrange) {
    q.how = by_score ? by::score : by_lex ? by::lex : by::rank;
    if (q.limit && q.how == by::rank)
      return err::zrange_limit();
    if (q.with_scores && q.how == by::lex)
      return err::zrange_lex_scores();
    if (q.rev && q.how != by::rank)
      std::swap(q.min, q.max); // REV BYSCORE / BYLEX take max first
  }
  return net::reply::ok();
}

/// The reply of a range: members (and scores, as bulk strings) in order; written as RESP
/// bytes straight from the stored members when the reply goes to the client as it is.
net::reply range_reply(const op_context& ctx, const zset_object* z, const range_query& q) {
  if (ctx.encode) {
    net::array_builder out(256);
    size_t n = 0;
    auto r = visit_range(z, q, [&](std::string_view m, double s) {
      net::append_bulk(out.body(), m);
      if (q.with_scores)
        net::append_bulk(out.body(), format_score(s));
      n += q.with_scores ? 2 : 1;
    });
    if (r.is_error())
      return r;
    return out.finish(n);
  }
  std::vector<net::reply> out;
  auto r = visit_range(z, q, [&](std::string_view m, double s) {
    out.push_back(net::reply::bulk(std::string(m)));
    if (q.with_scores)
      out.push_back(net::reply::bulk(format_score(s)));
  });
  if (r.is_error())
    return r;
  return net::reply::array(std::move(out));
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES].
net::reply op_zrange(op_context& ctx, const net::arg_list& args) {
  range_query q;
  q.min = args[2];
  q.max = args[3];
  if (auto r = parse_range_options(args, 4, true, q); r.is_error())
    return r;
  if (auto b = check_bounds(q); b.is_error())
    return b;
  bool wrong = false;
  const auto* z = read_object<zset_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  return range_reply(ctx, z, q);
}

/// The older range commands: ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX,
/// ZREVRANGE (`how`, `rev`; REV forms take the upper bound first).
net::reply range_generic(op_context& ctx, const net::arg_list& args, by how, bool rev) {
  range_query q;
  q.how = how;
  q.rev = rev;
  q.min = args[rev && how != by::rank ? 3 : 2];
  q.max = args[rev && how != by::rank ? 2 : 3];
  if (auto r = parse_range_options(args, 4, false, q); r.is_error())
    return r;
  if ((how == by::lex && q.with_scores) || (how == by::rank && q.limit))
    return err::syntax();
  if (auto b = check_bounds(q); b.is_error())
    return b;
  bool wrong = false;
  const auto* z = read_object<zset_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  return range_reply(ctx, z, q);
}

net::reply op_zrangebyscore(op_context& ctx, const net::arg_list& args) {
  return range_generic(ctx, args, by::score, false);
}
net::reply op_zrevrangebyscore(op_context& ctx, const net::arg_list& args) {
  return range_generic(ctx, args, by::score, true);
}
net::reply op_zrangebylex(op_context& ctx, const net::arg_list& args) {
  return range_generic(ctx, args, by::lex, false);
}
net::reply op_zrevrangebylex(op_context& ctx, const net::arg_list& args) {
  return range_generic(ctx, args, by::lex, true);
}
net::reply op_zrevrange(op_context& ctx, const net::arg_list& args) {
  return range_generic(ctx, args, by::rank, true);
}

/// ZCOUNT / ZLEXCOUNT key min max → how many members the range holds.
net::reply count_generic(op_context& ctx, const net::arg_list& args, by how) {
  range_query q;
  q.how = how;
  q.min = args[2];
  q.max = args[3];
  if (auto b = check_bounds(q); b.is_error())
    return b;
  bool wrong = false;
  const auto* z = read_object<zset_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  size_t lo = 0, hi = 0;
  net::reply error;
  if (z != nullptr && !rank_window(*z, q, lo, hi, error))
    return error;
  return net::reply::integer(static_cast<int64_t>(hi - lo));
}

net::reply op_zcount(op_context& ctx, const net::arg_list& args) {
  return count_generic(ctx, args, by::score);
}
net::reply op_zlexcount(op_context& ctx, const net::arg_list& args) {
  return count_generic(ctx, args, by::lex);
}

/// ZREMRANGEBYSCORE / ZREMRANGEBYRANK / ZREMRANGEBYLEX key a b → members removed
/// (logged as the ZREM of them).
net::reply remrange_generic(op_context& ctx, const net::arg_list& args, by how) {
  range_query q;
  q.how = how;
  q.min = args[2];
  q.max = args[3];
  if (auto b = check_bounds(q); b.is_error())
    return b;
  bool wrong = false;
  auto* z = write_object<zset_object>(ctx, args[1], false, wrong);
  if (wrong)
    return err::wrong_type();
  std::vector<std::string> doomed;
  auto r = visit_range(z, q, [&](std::string_view m, double) { doomed.emplace_back(m); });
  if (r.is_error())
    return r;
  if (doomed.empty())
    return net::reply::integer(0);
  store::change_builder change("zrem");
  for (const auto& m : doomed)
    change.add(m);
  apply_and_note(ctx, args[1], *z, change);
  return net::reply::integer(static_cast<int64_t>(doomed.size()));
}

net::reply op_zremrangebyscore(op_context& ctx, const net::arg_list& args) {
  return remrange_generic(ctx, args, by::score);
}
net::reply op_zremrangebyrank(op_context& ctx, const net::arg_list& args) {
  return remrange_generic(ctx, args, by::rank);
}
net::reply op_zremrangebylex(op_context& ctx, const net::arg_list& args) {
  return remrange_generic(ctx, args, by::lex);
}

/// Pops `count` members (at most all) off the low end of `z` at `key` (`max`: the high
/// end) and reports the change; appends member, score to `out` (`nested`: each pair as an
/// array of two). `z` may be gone after.
void pop_members(op_context& ctx, std::string_view key, zset_object& z, bool max, size_t count,
                 bool nested, std::vector<net::reply>& out) {
  size_t n = std::min(count, z.size());
  store::change_builder change("zrem");
  size_t first = max ? z.size() - n : 0, last = max ? z.size() - 1 : n - 1;
  z.for_ranks(first, last, max, [&](std::string_view m, double s) {
    auto member = net::reply::bulk(std::string(m));
    auto score = net::reply::bulk(format_score(s));
    if (nested) {
      out.push_back(net::reply::array({std::move(member), std::move(score)}));
    } else {
      out.push_back(std::move(member));
      out.push_back(std::move(score));
    }
    change.add(m);
    return true;
  });
  apply_and_note(ctx, key, z, change);
}

/// ZPOPMIN / ZPOPMAX key [count] → [member, score, …] of the lowest / highest, removed.
net::reply pop_generic(op_context& ctx, const net::arg_list& args, bool max) {
  if (args.size() > 3)
    return err::syntax();
  int64_t count = 1;
  if (args.size() == 3 && (!net::parse_int64(args[2], count) || count < 0))
    return err::not_positive();
  bool wrong = false;
  auto* z = write_object<zset_object>(ctx, args[1], false, wrong);
  if (wrong)
    return err::wrong_type();
  std::vector<net::reply> out;
  if (z && count > 0)
    pop_members(ctx, args[1], *z, max, static_cast<size_t>(count), false, out);
  return net::reply::array(std::move(out));
}

net::reply op_zpopmin(op_context& ctx, const net::arg_list& args) {
  return pop_generic(ctx, args, false);
}
net::reply op_zpopmax(op_context& ctx, const net::arg_list& args) {
  return pop_generic(ctx, args, true);
}

/// BZPOPMIN / BZPOPMAX key [key …] timeout → [key, member, score] from the first sorted
/// set that exists, or waits for one; null array at its timeout.
net::reply bzpop_generic(op_context& ctx, const net::arg_list& args, bool max) {
  uint64_t ms = 0;
  if (auto r = parse_block_timeout(args.back(), ms); r.is_error())
    return r;
  bool wrong = false;
  auto [k, z] = first_ready<zset_object>(ctx, args, 1, args.size() - 1, wrong);
  if (wrong)
    return err::wrong_type();
  if (!z)
    return block_or_null(ctx, ms);
  std::vector<net::reply> out{net::reply::bulk(args[k])};
  pop_members(ctx, args[k], *z, max, 1, false, out);
  return net::reply::array(std::move(out));
}

net::reply op_bzpopmin(op_context& ctx, const net::arg_list& args) {
  return bzpop_generic(ctx, args, false);
}
net::reply op_bzpopmax(op_context& ctx, const net::arg_list& args) {
  return bzpop_generic(ctx, args, true);
}

/// ZMPOP (count_at 1) and BZMPOP timeout numkeys … (count_at 2, `blocking`).
net::reply mpop_generic(op_context& ctx, const net::arg_list& args, size_t count_at,
                        bool blocking) {
  static const char* const ends[2] = {"min", "max"};
  mpop_request req;
  if (auto r = parse_mpop(args, count_at, ends, req); r.is_error())
    return r;
  uint64_t ms = 0;
  if (blocking)
    if (auto r = parse_block_timeout(args[1], ms); r.is_error())
      return r;
  bool wrong = false;
  auto [k, z] = first_ready<zset_object>(ctx, args, req.first_key, req.end_key, wrong);
  if (wrong)
    return err::wrong_type();
  if (!z)
    return blocking ? block_or_null(ctx, ms) : net::reply::null_array();
  std::vector<net::reply> popped;
  pop_members(ctx, args[k], *z, req.max, static_cast<size_t>(req.count), true, popped);
  return net::reply::array({net::reply::bulk(args[k]), net::reply::array(std::move(popped))});
}

/// ZMPOP numkeys key … MIN|MAX [COUNT count] → [key, [[member, score] …]] popped from the
/// first key that exists; null when none does.
net::reply op_zmpop(op_context& ctx, const net::arg_list& args) {
  return mpop_generic(ctx, args, 1, false);
}

/// BZMPOP timeout numkeys key … MIN|MAX [COUNT count] → as ZMPOP, or waits.
net::reply op_bzmpop(op_context& ctx, const net::arg_list& args) {
  return mpop_generic(ctx, args, 2, true);
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] → members stored.
net::reply op_zrangestore(op_context& ctx, const net::arg_list& args) {
  range_query q;
  q.min = args[3];
  q.max = args[4];
  if (auto r = parse_range_options(args, 5, true, q); r.is_error())
    return r;
  if (q.with_scores)
    return err::syntax();
  if (auto b = check_bounds(q); b.is_error())
    return b;
  bool wrong = false;
  const auto* z = read_object<zset_object>(ctx, args[2], wrong);
  if (wrong)
    return err::wrong_type();
  auto result = std::make_unique<zset_object>();
  auto r = visit_range(z, q, [&](std::string_view m, double s) { result->add(m, s); });
  if (r.is_error())
    return r;
  auto n = static_cast<int64_t>(result->size());
  if (n == 0)
    ctx.data.erase(args[1], ctx.now);
  else
    ctx.data.put_object(args[1], std::move(result), 0);
  return net::reply::integer(n);
}

/// ZRANDMEMBER key [count [WITHSCORES]] → a random member (null without key); with a
/// count, that many distinct members (negative: repeats allowed).
net::reply op_zrandmember(op_context& ctx, const net::arg_list& args) {
  if (args.size() > 4 || (args.size() == 4 && !iequals(args[3], "withscores")))
    return err::syntax();
  int64_t count = 1;
  bool with_count = args.size() >= 3, with_scores = args.size() == 4;
  if (with_count && !net::parse_int64(args[2], count))
    return err::not_integer();
  if (with_count && !random_count_allowed(count))
    return err::out_of_range();
  bool wrong = false;
  const auto* z = read_object<zset_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  auto& rng = random_source();
  auto at = [&](size_t rank, std::vector<net::reply>& out) {
    z->for_ranks(rank, rank, false, [&](std::string_view m, double s) {
      out.push_back(net::reply::bulk(std::string(m)));
      if (with_scores)
        out.push_back(net::reply::bulk(format_score(s)));
      return false;
    });
  };
  std::vector<net::reply> out;
  if (!with_count) {
    if (!z)
      return net::reply::null();
    at(rng() % z->size(), out);
    return std::move(out.front());
  }
  if (!z || count == 0)
    return net::reply::array({});
  if (count < 0) {
    for (int64_t i = 0; i < -count; ++i)
      at(rng() % z->size(), out);
    return net::reply::array(std::move(out));
  }
  std::vector<size_t> ranks;
  if (static_cast<size_t>(count) >= z->size() || static_cast<size_t>(count) * 3 > z->size()) {
    for (size_t i = 0; i < z->size(); ++i)
      ranks.push_back(i);
    std::shuffle(ranks.begin(), ranks.end(), rng);
    ranks.resize(std::min(ranks.size(), static_cast<size_t>(count)));
  } else {
    std::unordered_set<size_t> seen;
    while (seen.size() < static_cast<size_t>(count))
      if (size_t r = rng() % z->size(); seen.insert(r).second)
        ranks.push_back(r);
  }
  for (size_t r : ranks)
    at(r, out);
  return net::reply::array(std::move(out));
}

/// ZSCAN key cursor [MATCH pattern] [COUNT n] → [next cursor, [member, score, …]].
net::reply op_zscan(op_context& ctx, const net::arg_list& args) {
  scan_options o;
  if (auto r = parse_scan_options(args, o); r.is_error())
    return r;
  bool wrong = false;
  const auto* z = read_object<zset_object>(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  std::vector<net::reply> items;
  uint64_t next = 0;
  bool all = o.pattern == "*";
  if (z)
    next = z->scan(o.cursor, o.count, [&](std::string_view m, double s) {
      if (!all && !store::glob_match(o.pattern, m))
        return;
      items.push_back(net::reply::bulk(std::string(m)));
      items.push_back(net::reply::bulk(format_score(s)));
    });
  return net::reply::array({net::reply::bulk(std::to_string(next)),
                            net::reply::array(std::move(items))});
}


// -- ZUNION / ZINTER / ZDIFF, their STORE forms, ZINTERCARD ---------------------------

/// One input of a sorted-set operation: a sorted set, or a set whose members score 1
/// (as Redis reads a set there); missing keys are empty.
struct zsource {
  const zset_object* z = nullptr;
  const store::set_object* s = nullptr;
  double weight = 1;

  size_t size() const { return z ? z->size() : s ? s->size() : 0; }
  template <class F>
  void for_each(F&& f) const {
    if (z && z->size() > 0)
      z->for_ranks(0, z->size() - 1, false, [&](std::string_view m, double score) {
        f(m, score);
        return true;
      });
    else if (s)
      s->for_each([&](std::string_view m) { f(m, 1.0); });
  }
  std::optional<double> find(std::string_view m) const {
    if (z)
      return z->score(m);
    if (s && s->contains(m))
      return 1.0;
    return std::nullopt;
  }
};

enum class zset_op { union_, inter, diff };
enum class aggregate_by { sum, min, max };

/// Redis's zunionInterAggregate: a sum that makes NaN (inf + -inf) is 0.
void aggregate_into(double& target, double v, aggregate_by how) {
  switch (how) {
    case aggregate_by::sum:
      target += v;
      if (std::isnan(target))
        target = 0;
      break;
    case aggregate_by::min:
      target = std::min(target, v);
      break;
    case aggregate_by::max:
      target = std::max(target, v);
      break;
  }
}

/// What a sorted-set operation's request says after its keys.
struct zset_op_request {
  std::vector<zsource> sources;
  aggregate_by how = aggregate_by::sum;
  bool with_scores = false;
  int64_t limit = 0; ///< ZINTERCARD: stop counting here (0: no limit)
};

/// Parses the keys (numkeys at args[count_at]) and options of a sorted-set operation in
/// Redis's order and with its errors: the count, the keys' types, then the options
/// (WEIGHTS and AGGREGATE but for ZDIFF and ZINTERCARD, WITHSCORES without a
/// destination, LIMIT for ZINTERCARD).
net::reply parse_zset_op(op_context& ctx, const net::arg_list& args, size_t count_at, zset_op op,
                         bool store, bool card_only, zset_op_request& req) {
  int64_t n = 0;
  if (!net::parse_int64(args[count_at], n))
    return err::not_integer();
  if (n < 1)
    return err::numkeys_at_least_one(args[0]);
  if (n > static_cast<int64_t>(args.size() - count_at - 1))
    return err::syntax();
  size_t j = count_at + 1;
  for (int64_t i = 0; i < n; ++i, ++j) {
    zsource src;
    if (auto* e = ctx.data.find(args[j], ctx.now)) {
      if (e->type() == zset_object::kind)
        src.z = static_cast<const zset_object*>(e->object());
      else if (e->type() == store::set_object::kind)
        src.s = static_cast<const store::set_object*>(e->object());
      else
        return err::wrong_type();
    }
    req.sources.push_back(src);
  }
  bool weighs = op != zset_op::diff && !card_only;
  while (j < args.size()) {
    size_t remaining = args.size() - j;
    if (weighs && remaining >= req.sources.size() + 1 && iequals(args[j], "weights")) {
      ++j;
      for (auto& src : req.sources)
        if (!parse_score(args[j++], src.weight) || std::isnan(src.weight))
          return err::weight_not_float();
    } else if (weighs && remaining >= 2 && iequals(args[j], "aggregate")) {
      const auto& how = args[j + 1];
      if (iequals(how, "sum"))
        req.how = aggregate_by::sum;
      else if (iequals(how, "min"))
        req.how = aggregate_by::min;
      else if (iequals(how, "max"))
        req.how = aggregate_by::max;
      else
        return err::syntax();
      j += 2;
    } else if (!store && !card_only && iequals(args[j], "withscores")) {
      req.with_scores = true;
      ++j;
    } else if (card_only && remaining >= 2 && iequals(args[j], "limit")) {
      if (!net::parse_int64(args[j + 1], req.limit) || req.limit < 0)
        return err::limit_negative();
      j += 2;
    } else {
      return err::syntax();
    }
  }
  return net::reply::ok();
}

/// The result of a sorted-set operation, or (card_only) only how many members it has, up
/// to req.limit.
std::unique_ptr<zset_object> run_zset_op(zset_op op, zset_op_request& req, bool card_only,
                                         int64_t& count) {
  auto out = std::make_unique<zset_object>();
  auto& src = req.sources;
  count = 0;
  auto weighted = [](const zsource& s, double score) {
    double v = s.weight * score;
    return std::isnan(v) ? 0.0 : v;
  };
  if (op == zset_op::diff) {
    src.front().for_each([&](std::string_view m, double score) {
      for (size_t i = 1; i < src.size(); ++i)
        if (src[i].find(m))
          return;
      out->add(m, score);
    });
    return out;
  }
  // As Redis: the smallest inputs first (intersection walks the smallest).
  std::stable_sort(src.begin(), src.end(),
                   [](const zsource& a, const zsource& b) { return a.size() < b.size(); });
  if (op == zset_op::inter) {
    bool done = false;
    src.front().for_each([&](std::string_view m, double score) {
      if (done)
        return;
      double total = weighted(src.front(), score);
      for (size_t i = 1; i < src.size(); ++i) {
        auto v = src[i].find(m);
        if (!v)
          return;
        aggregate_into(total, *v * src[i].weight, req.how);
      }
      if (card_only)
        done = ++count == req.limit;
      else
        out->add(m, total);
    });
    return out;
  }
  std::unordered_map<std::string, double> acc;
  for (const auto& s : src)
    s.for_each([&](std::string_view m, double score) {
      double v = weighted(s, score);
      auto [at, fresh] = acc.try_emplace(std::string(m), v);
      if (!fresh)
        aggregate_into(at->second, v, req.how);
    });
  for (const auto& [m, score] : acc)
    out->add(m, score);
  return out;
}

/// ZUNION / ZINTER / ZDIFF numkeys key … (options), their STORE forms (destination first),
/// and ZINTERCARD.
net::reply zset_op_generic(op_context& ctx, const net::arg_list& args, zset_op op, bool store,
                           bool card_only = false) {
  zset_op_request req;
  if (auto r = parse_zset_op(ctx, args, store ? 2 : 1, op, store, card_only, req); r.is_error())
    return r;
  int64_t count = 0;
  auto result = run_zset_op(op, req, card_only, count);
  if (card_only)
    return net::reply::integer(count);
  auto n = static_cast<int64_t>(result->size());
  if (store) {
    if (n == 0)
      ctx.data.erase(args[1], ctx.now);
    else
      ctx.data.put_object(args[1], std::move(result), 0);
    return net::reply::integer(n);
  }
  std::vector<net::reply> out;
  if (n > 0)
    result->for_ranks(0, result->size() - 1, false, [&](std::string_view m, double s) {
      out.push_back(net::reply::bulk(std::string(m)));
      if (req.with_scores)
        out.push_back(net::reply::bulk(format_score(s)));
      return true;
    });
  return net::reply::array(std::move(out));
}

net::reply op_zunion(op_context& ctx, const net::arg_list& args) {
  return zset_op_generic(ctx, args, zset_op::union_, false);
}
net::reply op_zinter(op_context& ctx, const net::arg_list& args) {
  return zset_op_generic(ctx, args, zset_op::inter, false);
}
net::reply op_zdiff(op_context& ctx, const net::arg_list& args) {
  return zset_op_generic(ctx, args, zset_op::diff, false);
}
net::reply op_zunionstore(op_context& ctx, const net::arg_list& args) {
  return zset_op_generic(ctx, args, zset_op::union_, true);
}
net::reply op_zinterstore(op_context& ctx, const net::arg_list& args) {
  return zset_op_generic(ctx, args, zset_op::inter, true);
}
net::reply op_zdiffstore(op_context& ctx, const net::arg_list& args) {
  return zset_op_generic(ctx, args, zset_op::diff, true);
}
net::reply op_zintercard(op_context& ctx, const net::arg_list& args) {
  return zset_op_generic(ctx, args, zset_op::inter, false, true);
}

} // namespace

void register_zset_family(command_registry& table) {
  using namespace shorthand;
  // clang-format off
  table.insert(table.end(), {
    // name              arity flags     keys       route handler              connection merge     group  summary
    {"zadd",              -4,  W | F,    1,  1, 1,  K,   op_zadd,              nullptr,  nullptr,   "sorted_set", "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist."},
    {"zincrby",            4,  W | F,    1,  1, 1,  K,   op_zincrby,           nullptr,  nullptr,   "sorted_set", "Increments the score of a member in a sorted set."},
    {"zrem",              -3,  W | F,    1,  1, 1,  K,   op_zrem,              nullptr,  nullptr,   "sorted_set", "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed."},
    {"zscore",             3,  R | F,    1,  1, 1,  K,   op_zscore,            nullptr,  nullptr,   "sorted_set", "Returns the score of a member in a sorted set."},
    {"zmscore",           -3,  R | F,    1,  1, 1,  K,   op_zmscore,           nullptr,  nullptr,   "sorted_set", "Returns the score of one or more members in a sorted set."},
    {"zcard",              2,  R | F,    1,  1, 1,  K,   op_zcard,             nullptr,  nullptr,   "sorted_set", "Returns the number of members in a sorted set."},
    {"zcount",             4,  R | F,    1,  1, 1,  K,   op_zcount,            nullptr,  nullptr,   "sorted_set", "Returns the count of members in a sorted set that have scores within a range."},
    {"zlexcount",          4,  R | F,    1,  1, 1,  K,   op_zlexcount,         nullptr,  nullptr,   "sorted_set", "Returns the number of members in a sorted set within a lexicographical range."},
    {"zrank",              3,  R | F,    1,  1, 1,  K,   op_zrank,             nullptr,  nullptr,   "sorted_set", "Returns the index of a member in a sorted set ordered by ascending scores."},
    {"zrevrank",           3,  R | F,    1,  1, 1,  K,   op_zrevrank,          nullptr,  nullptr,   "sorted_set", "Returns the index of a member in a sorted set ordered by descending scores."},
    {"zrange",            -4,  R,        1,  1, 1,  K,   op_zrange,            nullptr,  nullptr,   "sorted_set", "Returns members in a sorted set within a range of indexes."},
    {"zrangebyscore",     -4,  R,        1,  1, 1,  K,   op_zrangebyscore,     nullptr,  nullptr,   "sorted_set", "Returns members in a sorted set within a range of scores."},
    {"zrevrangebyscore",  -4,  R,        1,  1, 1,  K,   op_zrevrangebyscore,  nullptr,  nullptr,   "sorted_set", "Returns members in a sorted set within a range of scores in reverse order."},
    {"zrangebylex",       -4,  R,        1,  1, 1,  K,   op_zrangebylex,       nullptr,  nullptr,   "sorted_set", "Returns members in a sorted set within a lexicographical range."},
    {"zrevrangebylex",    -4,  R,        1,  1, 1,  K,   op_zrevrangebylex,    nullptr,  nullptr,   "sorted_set", "Returns members in a sorted set within a lexicographical range in reverse order."},
    {"zrevrange",         -4,  R,        1,  1, 1,  K,   op_zrevrange,         nullptr,  nullptr,   "sorted_set", "Returns members in a sorted set within a range of indexes in reverse order."},
    {"zremrangebyscore",   4,  W,        1,  1, 1,  K,   op_zremrangebyscore,  nullptr,  nullptr,   "sorted_set", "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed."},
    {"zremrangebyrank",    4,  W,        1,  1, 1,  K,   op_zremrangebyrank,   nullptr,  nullptr,   "sorted_set", "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed."},
    {"zremrangebylex",     4,  W,        1,  1, 1,  K,   op_zremrangebylex,    nullptr,  nullptr,   "sorted_set", "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed."},
    {"zpopmin",           -2,  W | F,    1,  1, 1,  K,   op_zpopmin,           nullptr,  nullptr,   "sorted_set", "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."},
    {"zpopmax",           -2,  W | F,    1,  1, 1,  K,   op_zpopmax,           nullptr,  nullptr,   "sorted_set", "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."},
    {"zrangestore",       -5,  W | ONE,  1,  2, 1,  KS,  op_zrangestore,       nullptr,  merge_ok,  "sorted_set", "Stores a range of members from sorted set in a key (keys in one partition)."},
    {"zmpop",             -4,  W | ONE,      2,  numkeys_last, 1, KS, op_zmpop,   nullptr,  merge_ok,  "sorted_set", "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them (keys in one partition)."},
    {"bzpopmin",          -3,  W | F | BLOCK | ONE, 1, -2, 1, KS, op_bzpopmin, nullptr, merge_ok, "sorted_set", "Removes and returns the member with the lowest score from one or more sorted sets, or blocks until one is available (keys in one partition)."},
    {"bzpopmax",          -3,  W | F | BLOCK | ONE, 1, -2, 1, KS, op_bzpopmax, nullptr, merge_ok, "sorted_set", "Removes and returns the member with the highest score from one or more sorted sets, or blocks until one is available (keys in one partition)."},
    {"bzmpop",            -5,  W | BLOCK | ONE, 3, numkeys_last, 1, KS, op_bzmpop, nullptr, merge_ok, "sorted_set", "Removes and returns a member by score from one or more sorted sets, or blocks until one is available (keys in one partition)."},
    {"zunion",            -3,  R | ONE,  2,  numkeys_last, 1, KS, op_zunion,  nullptr,  merge_ok,  "sorted_set", "Returns the union of multiple sorted sets (keys in one partition)."},
    {"zinter",            -3,  R | ONE,  2,  numkeys_last, 1, KS, op_zinter,  nullptr,  merge_ok,  "sorted_set", "Returns the intersect of multiple sorted sets (keys in one partition)."},
    {"zdiff",             -3,  R | ONE,  2,  numkeys_last, 1, KS, op_zdiff,   nullptr,  merge_ok,  "sorted_set", "Returns the difference between multiple sorted sets (keys in one partition)."},
    {"zintercard",        -3,  R | ONE,  2,  numkeys_last, 1, KS, op_zintercard, nullptr, merge_ok, "sorted_set", "Returns the number of members of the intersect of multiple sorted sets (keys in one partition)."},
    {"zunionstore",       -4,  W | ONE,  1,  dest_numkeys_last, 1, KS, op_zunionstore, nullptr, merge_ok, "sorted_set", "Stores the union of multiple sorted sets in a key (keys in one partition)."},
    {"zinterstore",       -4,  W | ONE,  1,  dest_numkeys_last, 1, KS, op_zinterstore, nullptr, merge_ok, "sorted_set", "Stores the intersect of multiple sorted sets in a key (keys in one partition)."},
    {"zdiffstore",        -4,  W | ONE,  1,  dest_numkeys_last, 1, KS, op_zdiffstore, nullptr, merge_ok, "sorted_set", "Stores the difference of multiple sorted sets in a key (keys in one partition)."},
    {"zrandmember",       -2,  R,        1,  1, 1,  K,   op_zrandmember,       nullptr,  nullptr,   "sorted_set", "Returns one or more random members from a sorted set."},
    {"zscan",             -3,  R,        1,  1, 1,  K,   op_zscan,             nullptr,  nullptr,   "sorted_set", "Iterates over members and scores of a sorted set."},
  });
  // clang-format on
}

} // namespace otkv::cmd

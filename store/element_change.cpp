#include "store/element_change.hpp"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "store/hash_object.hpp"
#include "store/list_object.hpp"
#include "store/set_object.hpp"
#include "store/zset_object.hpp"

namespace otkv::store {

namespace {

bool parse_i64(std::string_view s, int64_t& out) {
  if (!is_integer_text(s))
    return false;
  out = std::strtoll(std::string(s).c_str(), nullptr, 10);
  return true;
}

/// LREM: removes up to |count| items equal to `item` (from the head if count ≥ 0, else
/// from the tail; 0: all of them).
void list_remove(list_object& l, int64_t count, std::string_view item) {
  std::vector<size_t> hits;
  size_t n = l.size();
  if (n == 0)
    return;
  size_t limit = count == 0 ? n : (count < 0 ? static_cast<size_t>(-(count + 1)) + 1 : static_cast<size_t>(count));
  if (count >= 0) {
    size_t i = 0;
    l.for_range(0, n - 1, [&](std::string_view s) {
      if (s == item)
        hits.push_back(i);
      ++i;
      return hits.size() < limit;
    });
  } else {
    for (size_t i = n; i-- > 0 && hits.size() < limit;)
      if (l.at(i) == item)
        hits.push_back(i);
  }
  if (hits.empty())
    return;
  if (hits.size() * 8 < n) { // a few: erase them one by one, last first
    std::sort(hits.rbegin(), hits.rend());
    for (size_t i : hits)
      l.erase(i);
    return;
  }
  std::vector<bool> drop(n, false);
  for (size_t i : hits)
    drop[i] = true;
  list_object kept;
  size_t i = 0;
  l.for_range(0, n - 1, [&](std::string_view s) {
    if (!drop[i++])
      kept.push(false, s);
    return true;
  });
  l = std::move(kept);
}

} // namespace

value_type change_type(std::string_view change) {
  packed_reader r{change};
  auto name = r.string();
  if (name == "hset" || name == "hdel")
    return value_type::hash;
  if (name == "sadd" || name == "srem")
    return value_type::set;
  if (name == "zadd" || name == "zrem")
    return value_type::zset;
  if (!name.empty() && name[0] == 'l') // lpush lpop lset linsert lrem ltrim
    return value_type::list;
  if (name == "rpush" || name == "rpop")
    return value_type::list;
  return value_type::string;
}

bool apply_change(object& o, std::string_view change) {
  packed_reader r{change};
  auto name = r.string();
  std::vector<std::string_view> args;
  while (r.ok && !r.done())
    args.push_back(r.string());
  if (!r.ok || change_type(change) != o.type())
    return false;
  if (o.type() == value_type::hash) {
    auto& h = static_cast<hash_object&>(o);
    if (name == "hset" && args.size() % 2 == 0) {
      for (size_t i = 0; i < args.size(); i += 2)
        h.set(args[i], args[i + 1]);
      return true;
    }
    if (name == "hdel") {
      for (auto f : args)
        h.erase(f);
      return true;
    }
    return false;
  }
  if (o.type() == value_type::zset) {
    auto& z = static_cast<zset_object&>(o);
    if (name == "zadd" && args.size() % 2 == 0) {
      std::vector<double> scores(args.size() / 2);
      for (size_t i = 0; i < args.size(); i += 2)
        if (!parse_score(args[i], scores[i / 2]))
          return false;
      for (size_t i = 0; i < args.size(); i += 2)
        z.add(args[i + 1], scores[i / 2]);
      return true;
    }
    if (name == "zrem") {
      for (auto m : args)
        z.erase(m);
      return true;
    }
    return false;
  }
  if (o.type() == value_type::set) {
    auto& s = static_cast<set_object&>(o);
    for (auto m : args) {
      if (name == "sadd")
        s.add(m);
      else
        s.erase(m);
    }
    return true;
  }
  auto& l = static_cast<list_object&>(o);
  int64_t a = 0, b = 0;
  if (name == "lpush" || name == "rpush") {
    for (auto item : args)
      l.push(name == "lpush", item);
    return true;
  }
  if ((name == "lpop" || name == "rpop") && args.size() == 1 && parse_i64(args[0], a) && a >= 0) {
    l.drop(name == "lpop", std::min(static_cast<size_t>(a), l.size()));
    return true;
  }
  if (name == "lset" && args.size() == 2 && parse_i64(args[0], a) && a >= 0
      && static_cast<size_t>(a) < l.size()) {
    l.set(static_cast<size_t>(a), args[1]);
    return true;
  }
  if (name == "linsert" && args.size() == 2 && parse_i64(args[0], a) && a >= 0
      && static_cast<size_t>(a) <= l.size()) {
    l.insert(static_cast<size_t>(a), args[1]);
    return true;
  }
  if (name == "lrem" && args.size() == 2 && parse_i64(args[0], a)) {
    list_remove(l, a, args[1]);
    return true;
  }
  if (name == "ltrim" && args.size() == 2 && parse_i64(args[0], a) && parse_i64(args[1], b)
      && a >= 0 && b >= 0) {
    l.drop(true, std::min(static_cast<size_t>(a), l.size()));
    l.drop(false, std::min(static_cast<size_t>(b), l.size()));
    return true;
  }
  return false;
}

} // namespace otkv::store

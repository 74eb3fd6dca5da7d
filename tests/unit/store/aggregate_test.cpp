// The aggregates (issue 17): dense_table at 1M elements, scans that survive resizing,
// the hash / set / list objects in both encodings, their serialised form, and partitions
// holding them: images, snapshots (the old format still loads) and op-log replay.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "store/crc32c.hpp"
#include "store/dense_table.hpp"
#include "store/element_change.hpp"
#include "store/encoding_limits.hpp"
#include "store/hash_object.hpp"
#include "store/journal.hpp"
#include "store/key_hash.hpp"
#include "store/list_object.hpp"
#include "store/set_object.hpp"
#include "store/zset_object.hpp"

using namespace otkv::store;

namespace {

std::set<std::string> members_of(const set_object& s) {
  std::set<std::string> out;
  s.for_each([&](std::string_view m) { out.emplace(m); });
  return out;
}

std::map<std::string, std::string> fields_of(const hash_object& h) {
  std::map<std::string, std::string> out;
  h.for_each([&](std::string_view f, std::string_view v) { out.emplace(f, v); });
  return out;
}

std::vector<std::string> items_of(const list_object& l) {
  std::vector<std::string> out;
  if (l.size() > 0)
    l.for_range(0, l.size() - 1, [&](std::string_view s) {
      out.emplace_back(s);
      return true;
    });
  return out;
}

/// A journal sink that keeps the records, to replay them elsewhere.
struct recorder : mutation_sink {
  std::string bytes;
  uint64_t seq = 0;
  void on_mutation(mutation op, std::string_view key, std::string_view value, int64_t at) override {
    encode_record(bytes, op, 0, ++seq, key, value, at);
  }
};

/// Whether two partitions hold the same keys, types and elements.
bool same(const partition& a, const partition& b) {
  return encode_partition_image(a, 0, 0) == encode_partition_image(b, 0, 0)
         || [&] { // the same elements in another order: compare decoded
              std::map<std::string, std::string> ma, mb;
              auto take = [](const partition& p, std::map<std::string, std::string>& m) {
                p.for_each(0, [&](const entry& e) {
                  std::string v;
                  if (e.type() == value_type::string) {
                    v = "s:" + std::string(e.value());
                  } else if (e.type() == value_type::hash) {
                    for (auto& [f, x] : fields_of(static_cast<const hash_object&>(*e.object())))
                      v += f + "=" + x + ";";
                  } else if (e.type() == value_type::set) {
                    for (auto& x : members_of(static_cast<const set_object&>(*e.object())))
                      v += x + ";";
                  } else {
                    for (auto& x : items_of(static_cast<const list_object&>(*e.object())))
                      v += x + ",";
                  }
                  m[std::string(e.key())] = std::string(type_name(e.type())) + v
                                            + std::to_string(e.expire_at());
                });
              };
              take(a, ma);
              take(b, mb);
              return ma == mb;
            }();
}

} // namespace

TEST_CASE("dense_table holds 1M members, finds and erases them", "[aggregates][slow]") {
  dense_table t;
  constexpr size_t n = 1'000'000;
  for (size_t i = 0; i < n; ++i)
    REQUIRE((t.put("m:" + std::to_string(i), {}, false) || false) == true);
  REQUIRE(t.size() == n);
  CHECK_FALSE(t.put("m:17", {}, false)); // present: not new
  for (size_t i = 0; i < n; i += 7)
    REQUIRE(t.find("m:" + std::to_string(i)) != nullptr);
  CHECK(t.find("m:x") == nullptr);
  // Memory per member: 8-byte slots at ≥ 3/8 load and one small allocation each.
  CHECK(t.memory() / n < 64);
  for (size_t i = 0; i < n; i += 2)
    REQUIRE(t.erase("m:" + std::to_string(i)));
  REQUIRE(t.size() == n / 2);
  for (size_t i = 0; i < n; i += 1001)
    REQUIRE((t.find("m:" + std::to_string(i)) != nullptr) == (i % 2 == 1));
  size_t seen = 0;
  t.for_each([&](const char*) { ++seen; });
  CHECK(seen == n / 2);
}

TEST_CASE("dense_table scans see every member present throughout, across resizes",
          "[aggregates]") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; ++round) {
    dense_table t;
    std::set<std::string> stable;
    for (int i = 0; i < 500; ++i) {
      std::string m = "s" + std::to_string(i);
      t.put(m, {}, false);
      stable.insert(m);
    }
    std::set<std::string> seen;
    uint64_t cursor = 0;
    int extra = 0;
    do {
      cursor = t.scan(cursor, 1 + rng() % 20, [&](const char* e) { seen.emplace(dense_table::first(e)); });
      // Between calls: grow it a lot, or shrink it (extra members come and go).
      if (round % 2 == 0 && extra < 6000) // grows 4x, 4x again … then stays
        for (int k = 0; k < 300; ++k)
          t.put("x" + std::to_string(extra++), {}, false);
      else
        for (int k = 0; k < 300 && extra > 0; ++k)
          t.erase("x" + std::to_string(--extra));
      if (round % 2 == 1 && extra == 0)
        for (int k = 0; k < 2000; ++k)
          t.put("x" + std::to_string(extra++), {}, false);
    } while (cursor != 0);
    for (const auto& m : stable)
      REQUIRE(seen.count(m) == 1);
  }
}

TEST_CASE("dense_table random picks every member", "[aggregates]") {
  dense_table t;
  for (int i = 0; i < 50; ++i)
    t.put(std::to_string(i), {}, false);
  std::set<std::string> picked;
  for (uint64_t r = 0; r < 5000; ++r)
    picked.emplace(dense_table::first(t.random(r * 7919)));
  CHECK(picked.size() == 50);
}

TEST_CASE("hash_object: packed, then a table past 128 fields or a 65-byte value",
          "[aggregates]") {
  hash_object h;
  CHECK(h.set("a", "1"));
  CHECK_FALSE(h.set("a", "2"));
  CHECK(h.get("a") == std::optional<std::string_view>("2"));
  CHECK(h.encoding() == "listpack");
  for (int i = 0; i < 127; ++i)
    h.set("f" + std::to_string(i), "v");
  CHECK(h.encoding() == "listpack");
  CHECK(h.size() == 128);
  h.set("one-more", "v");
  CHECK(h.encoding() == "hashtable");
  CHECK(h.size() == 129);
  CHECK(h.get("a") == std::optional<std::string_view>("2"));
  CHECK(h.erase("a"));
  CHECK_FALSE(h.erase("a"));
  CHECK_FALSE(h.get("a"));

  hash_object small;
  small.set("k", std::string(65, 'x'));
  CHECK(small.encoding() == "hashtable");

  auto copy = h.clone();
  CHECK(fields_of(static_cast<hash_object&>(*copy)) == fields_of(h));
  auto back = decode_object(encode_object(h));
  REQUIRE(back);
  CHECK(back->type() == value_type::hash);
  CHECK(fields_of(static_cast<hash_object&>(*back)) == fields_of(h));
}

TEST_CASE("set_object: intset, listpack, hashtable", "[aggregates]") {
  set_object s;
  CHECK(s.add("1"));
  CHECK(s.add("-20"));
  CHECK_FALSE(s.add("1"));
  CHECK(s.encoding() == "intset");
  for (int i = 0; i < 500; ++i)
    s.add(std::to_string(i * 3));
  CHECK(s.encoding() == "intset");
  s.add("x");
  CHECK(s.encoding() == "hashtable");
  set_object t;
  t.add("a");
  CHECK(t.encoding() == "listpack");
  CHECK(t.contains("a"));
  CHECK(t.erase("a"));
  CHECK(t.size() == 0);
  CHECK(is_integer_text("-9223372036854775808"));
  CHECK_FALSE(is_integer_text("9223372036854775808"));
  CHECK_FALSE(is_integer_text("01"));
  CHECK_FALSE(is_integer_text("+1"));
  auto back = decode_object(encode_object(s));
  REQUIRE(back);
  CHECK(members_of(static_cast<set_object&>(*back)) == members_of(s));
}

TEST_CASE("list_object agrees with a std::deque under random operations", "[aggregates]") {
  std::mt19937_64 rng(11);
  list_object l;
  std::deque<std::string> model;
  for (int step = 0; step < 20000; ++step) {
    std::string item = std::to_string(rng() % 1000) + std::string(rng() % 3 == 0 ? 200 : 3, 'p');
    switch (rng() % 8) {
      case 0:
      case 1:
        l.push(true, item);
        model.push_front(item);
        break;
      case 2:
      case 3:
        l.push(false, item);
        model.push_back(item);
        break;
      case 4:
        if (!model.empty()) {
          bool front = rng() % 2 == 0;
          REQUIRE(l.pop(front) == (front ? model.front() : model.back()));
          front ? model.pop_front() : model.pop_back();
        }
        break;
      case 5:
        if (!model.empty()) {
          size_t i = rng() % model.size();
          l.set(i, item);
          model[i] = item;
        }
        break;
      case 6: {
        size_t i = rng() % (model.size() + 1);
        l.insert(i, item);
        model.insert(model.begin() + static_cast<long>(i), item);
        break;
      }
      case 7:
        if (!model.empty()) {
          size_t i = rng() % model.size();
          l.erase(i);
          model.erase(model.begin() + static_cast<long>(i));
        }
        break;
    }
    REQUIRE(l.size() == model.size());
    if (step % 997 == 0) {
      REQUIRE(items_of(l) == std::vector<std::string>(model.begin(), model.end()));
      if (!model.empty()) {
        size_t i = rng() % model.size();
        REQUIRE(l.at(i) == model[i]);
      }
    }
  }
  l.drop(true, 5);
  model.erase(model.begin(), model.begin() + 5);
  l.drop(false, 7);
  model.erase(model.end() - 7, model.end());
  CHECK(items_of(l) == std::vector<std::string>(model.begin(), model.end()));
  auto back = decode_object(encode_object(l));
  REQUIRE(back);
  CHECK(items_of(static_cast<list_object&>(*back)) == items_of(l));
}

TEST_CASE("list_object at 1M items: pushes, pops and indexes", "[aggregates][slow]") {
  list_object l;
  for (int i = 0; i < 1'000'000; ++i)
    l.push(false, std::to_string(i));
  CHECK(l.size() == 1'000'000);
  CHECK(l.at(0) == "0");
  CHECK(l.at(999'999) == "999999");
  CHECK(l.at(500'000) == "500000");
  CHECK(l.pop(true) == "0");
  CHECK(l.pop(false) == "999999");
  CHECK(l.memory() / l.size() < 16); // packed nodes: a few bytes an item
}

TEST_CASE("malformed encodings are refused", "[aggregates]") {
  hash_object h;
  h.set("a", "1");
  auto bytes = encode_object(h);
  CHECK(decode_object(bytes.substr(0, bytes.size() - 1)) == nullptr);
  CHECK(decode_object(bytes + "x") == nullptr);
  CHECK(decode_object(std::string(1, '\x09') + bytes.substr(1)) == nullptr);
  CHECK(decode_object("") == nullptr);
}

TEST_CASE("a change is encoded only where its records are kept", "[aggregates]") {
  change_builder dropped("zadd", false);
  dropped.add("1").add("m").add(int64_t{7});
  CHECK_FALSE(dropped.kept());
  CHECK(dropped.bytes().empty());
  change_builder kept("zadd", true);
  kept.add("1").add("m");
  CHECK(kept.bytes() == change_builder("zadd").add("1").add("m").bytes());

  partition p;
  CHECK_FALSE(p.records_kept()); // no sink
  journal_buffer journal;
  p.set_sink(&journal);
  CHECK(p.records_kept());
  journal.stop_keeping(); // no op log
  CHECK_FALSE(p.records_kept());
}

TEST_CASE("changes replay: the op log rebuilds every type exactly", "[aggregates]") {
  partition live;
  recorder log;
  live.set_sink(&log);
  auto change = [&](const std::string& key, const change_builder& c) {
    auto* e = live.find_for_change(key, key_hash(key), 0, true, change_type(c.bytes()));
    REQUIRE(e != nullptr);
    REQUIRE(apply_change(*e->object(), c.bytes()));
    live.note_change(key, c.bytes());
  };
  change("h", change_builder("hset").add("a").add("1").add("b").add("2"));
  change("h", change_builder("hdel").add("a"));
  change("s", change_builder("sadd").add("x").add("y").add("z"));
  change("s", change_builder("srem").add("y"));
  change("l", change_builder("rpush").add("1").add("2").add("3").add("2").add("4"));
  change("l", change_builder("lpush").add("0"));
  change("l", change_builder("lrem").add(-1).add("2"));
  change("l", change_builder("lset").add(int64_t{0}).add("zero"));
  change("l", change_builder("linsert").add(int64_t{1}).add("in"));
  change("l", change_builder("ltrim").add(int64_t{1}).add(int64_t{1}));
  change("l", change_builder("lpop").add(int64_t{1}));
  live.put("str", "v", 0);
  auto copy = live.find("h", 0)->object()->clone();
  live.put_object("h2", std::move(copy), 123456789);
  live.erase("s", 0);
  change("s", change_builder("sadd").add("again"));

  partition replayed;
  auto res = scan_log(log_header(1) + log.bytes, [&](log_record& r) { apply_record(replayed, r); });
  REQUIRE(res.end == scan_end::clean);
  CHECK(same(live, replayed));
  auto* l = live.find("l", 0);
  REQUIRE(l);
  CHECK(items_of(static_cast<list_object&>(*l->object()))
        == std::vector<std::string>{"1", "2", "3"});
  CHECK(apply_change(*l->object(), change_builder("hset").add("a").bytes()) == false);
  CHECK(apply_element(replayed, "str", change_builder("sadd").add("m").bytes()) == false);
}

TEST_CASE("images and snapshots carry aggregates; a version 1 snapshot still loads",
          "[aggregates]") {
  partition p;
  p.put("a", "plain", 0);
  auto h = std::make_unique<hash_object>();
  for (int i = 0; i < 300; ++i)
    h->set("f" + std::to_string(i), std::to_string(i));
  p.put_object("h", std::move(h), 0);
  auto l = std::make_unique<list_object>();
  l->push(false, "x");
  p.put_object("l", std::move(l), 99'000);

  // An incremental image, changed while it is taken: the image keeps the old version.
  p.begin_image(5, 0);
  auto* e = p.find_for_change("h", key_hash("h"), 0);
  REQUIRE(e);
  static_cast<hash_object*>(e->object())->set("late", "1");
  auto image = p.take_image();
  partition loaded;
  REQUIRE(load_partition_image(loaded, image));
  auto* lh = loaded.find("h", 0);
  REQUIRE(lh);
  CHECK(lh->type() == value_type::hash);
  CHECK(lh->object()->size() == 300);
  CHECK(loaded.find("l", 0)->expire_at() == 99'000);

  std::vector<partition> parts;
  std::vector<uint64_t> seqs;
  auto snap = encode_snapshot({encode_partition_image(p, 9, 0)});
  CHECK(snap.substr(0, 8) == "OTKVSNP2");
  REQUIRE(decode_snapshot(snap, parts, seqs, 0).empty());
  REQUIRE(parts.size() == 1);
  CHECK(same(parts[0], p));
  CHECK(decode_snapshot(snap, parts, seqs, 100'000).empty());
  CHECK(parts[0].find("l", 100'000) == nullptr); // expired while down

  // The first format: strings only, magic OTKVSNP1; its bytes are still read.
  partition old;
  old.put("k", "v", 0);
  std::string v1 = encode_snapshot({encode_partition_image(old, 3, 0)});
  v1.replace(0, 8, "OTKVSNP1");
  v1.resize(v1.size() - 4); // re-seal: the checksum covers the magic
  uint32_t c = crc32c(v1.data(), v1.size());
  for (int i = 0; i < 4; ++i)
    v1.push_back(static_cast<char>((c >> (8 * i)) & 0xff));
  REQUIRE(decode_snapshot(v1, parts, seqs, 0).empty());
  CHECK(parts[0].find("k", 0)->value() == "v");
}

TEST_CASE("encoding limits (CONFIG SET hash-max-listpack-entries …) apply to later conversions",
          "[aggregates]") {
  auto& l = limits();
  l.hash_max_entries = 2;
  l.set_max_intset_entries = 3;
  l.list_max_node = 2;
  hash_object h;
  h.set("a", "1");
  h.set("b", "2");
  CHECK(h.encoding() == "listpack");
  h.set("c", "3");
  CHECK(h.encoding() == "hashtable");
  set_object s;
  for (auto m : {"1", "2", "3"})
    s.add(m);
  CHECK(s.encoding() == "intset");
  s.add("4");
  CHECK(s.encoding() == "hashtable");
  list_object list;
  for (int i = 0; i < 7; ++i)
    list.push(false, std::to_string(i));
  CHECK(list.memory() >= 4 * sizeof(void*)); // 4 nodes of at most 2 items
  CHECK(list.at(6) == "6");
  l.hash_max_entries = 128;
  l.set_max_intset_entries = 512;
  l.list_max_node = -2;
}

namespace {

using zmodel = std::set<std::pair<double, std::string>>;

void check_zset(const zset_object& z, const zmodel& model) {
  REQUIRE(z.size() == model.size());
  std::vector<std::pair<double, std::string>> got;
  if (z.size() > 0)
    z.for_ranks(0, z.size() - 1, false, [&](std::string_view m, double s) {
      got.emplace_back(s, std::string(m));
      return true;
    });
  REQUIRE(got == std::vector<std::pair<double, std::string>>(model.begin(), model.end()));
}

} // namespace

TEST_CASE("zset_object agrees with an ordered model, packed and as a skip list",
          "[aggregates][zset]") {
  std::mt19937_64 rng(5);
  for (int n : {50, 3000}) {
    zset_object z;
    zmodel model;
    std::map<std::string, double> scores;
    for (int step = 0; step < n * 4; ++step) {
      std::string m = "m" + std::to_string(rng() % static_cast<uint64_t>(n));
      double s = static_cast<double>(rng() % 50) / 2;
      if (rng() % 3 == 0) {
        bool had = scores.count(m) > 0;
        CHECK(z.erase(m) == had);
        if (had) {
          model.erase({scores[m], m});
          scores.erase(m);
        }
      } else {
        bool fresh = scores.count(m) == 0;
        CHECK(z.add(m, s) == fresh);
        if (!fresh)
          model.erase({scores[m], m});
        scores[m] = s;
        model.insert({s, m});
      }
    }
    check_zset(z, model);
    CHECK(z.encoding() == (n == 50 ? "listpack" : "skiplist"));
    size_t r = 0;
    for (const auto& [s, m] : model) {
      REQUIRE(z.rank(m) == std::optional<size_t>(r));
      REQUIRE(z.score(m) == std::optional<double>(s));
      ++r;
    }
    CHECK_FALSE(z.rank("nope"));
    size_t below = 0;
    for (const auto& item : model)
      below += item.first < 10 ? 1 : 0;
    CHECK(z.count_below(10, false) == below);
    size_t at_or_below = 0;
    for (const auto& item : model)
      at_or_below += item.first <= 10 ? 1 : 0;
    CHECK(z.count_below(10, true) == at_or_below);
    std::vector<std::string> reversed;
    if (z.size() >= 3)
      z.for_ranks(z.size() - 3, z.size() - 1, true, [&](std::string_view m, double) {
        reversed.emplace_back(m);
        return true;
      });
    if (z.size() >= 3)
      CHECK(reversed.front() == std::prev(model.end())->second);
    auto back = decode_object(encode_object(z));
    REQUIRE(back);
    check_zset(static_cast<zset_object&>(*back), model);
    auto copy = z.clone();
    check_zset(static_cast<zset_object&>(*copy), model);
  }
}

TEST_CASE("zset_object at 1M members: O(log n) rank and rank lookups", "[aggregates][zset][slow]") {
  zset_object z;
  constexpr int n = 1'000'000;
  for (int i = 0; i < n; ++i)
    z.add("member:" + std::to_string(i), i);
  CHECK(z.size() == static_cast<size_t>(n));
  CHECK(z.rank("member:0") == std::optional<size_t>(0));
  CHECK(z.rank("member:765432") == std::optional<size_t>(765432));
  std::string m;
  z.for_ranks(500000, 500000, false, [&](std::string_view x, double) {
    m = std::string(x);
    return true;
  });
  CHECK(m == "member:500000");
  CHECK(z.count_below(250000, false) == 250000);
  CHECK(z.memory() / z.size() < 100);
  for (int i = 0; i < n; i += 2)
    REQUIRE(z.erase("member:" + std::to_string(i)));
  CHECK(z.rank("member:765431") == std::optional<size_t>(382715));
}

TEST_CASE("dense_table rewrites a value in place or moves it, keeping the field and the "
          "memory count right", "[aggregates]") {
  dense_table t;
  REQUIRE(t.put("field", "v", true));
  // Same size, shorter, longer, much longer, then much shorter: each read back exactly.
  for (const std::string& v : std::vector<std::string>{"w", "", "abc", std::string(300, 'x'), "z",
                                                   std::string(5, 'y')}) {
    REQUIRE_FALSE(t.put("field", v, true));
    const char* e = t.find("field");
    REQUIRE(e != nullptr);
    CHECK(dense_table::first(e) == "field");
    CHECK(dense_table::second(e) == v);
    CHECK(t.size() == 1);
  }
  // A block left mostly empty was replaced: memory is what a fresh table of it takes.
  dense_table fresh;
  fresh.put("field", std::string(5, 'y'), true);
  CHECK(t.memory() == fresh.memory());
  // A member (no value) already there is left as it is.
  dense_table s;
  REQUIRE(s.put("m", {}, false));
  const char* before = s.find("m");
  REQUIRE_FALSE(s.put("m", {}, false));
  CHECK(s.find("m") == before);
  CHECK(s.size() == 1);
}

TEST_CASE("scores: records read back exactly; parse_score takes what strtod takes",
          "[aggregates][zset]") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> any(-1e300, 1e300);
  std::vector<double> samples = {0.0, -0.0, 0.1, 1.5, -3, 1e-310, 5e-324, 1.7976931348623157e308,
                                 std::numeric_limits<double>::infinity(),
                                 -std::numeric_limits<double>::infinity()};
  for (int i = 0; i < 1000; ++i)
    samples.push_back(any(rng) / std::pow(10.0, static_cast<double>(rng() % 600)));
  for (double d : samples) {
    double back = 0;
    REQUIRE(parse_score(record_score(d), back));
    CHECK(std::memcmp(&back, &d, sizeof d) == 0); // bit for bit, -0 included
  }
  double v = 0;
  CHECK((parse_score("+1.5", v) && v == 1.5));
  CHECK((parse_score("0x10", v) && v == 16));
  CHECK((parse_score("+inf", v) && std::isinf(v) && v > 0));
  CHECK((parse_score("-inf", v) && std::isinf(v) && v < 0));
  CHECK((parse_score("3", v) && v == 3));
  CHECK_FALSE(parse_score("nan", v));
  CHECK_FALSE(parse_score("", v));
  CHECK_FALSE(parse_score(" 1", v));
  CHECK_FALSE(parse_score("1 ", v));
  CHECK_FALSE(parse_score("1x", v));
  // Past a double's range: refused as Redis's ZADD refuses it, or saturated for a bound.
  CHECK_FALSE(parse_score("1e500", v));
  CHECK_FALSE(parse_score("-1e500", v));
  CHECK_FALSE(parse_score("1e-500", v));
  CHECK((parse_score("1e-310", v) && v > 0 && v < 1e-300)); // subnormal, not zero: taken
  CHECK((parse_score("1e500", v, true) && std::isinf(v) && v > 0));
  CHECK((parse_score("-1e500", v, true) && std::isinf(v) && v < 0));
  CHECK((parse_score("1e-500", v, true) && v == 0));
  CHECK(format_score(0.1) == "0.10000000000000001"); // replies stay as Redis 7.0 writes them
}

TEST_CASE("a skip list member given a new score moves, or stays where it still orders, "
          "ranks and reverse walks intact", "[aggregates][zset]") {
  std::mt19937_64 rng(11);
  zset_object z;
  zmodel model;
  std::map<std::string, double> scores;
  for (int i = 0; i < 300; ++i) {
    std::string m = "m" + std::to_string(i);
    z.add(m, i);
    scores[m] = i;
    model.insert({static_cast<double>(i), m});
  }
  REQUIRE(z.encoding() == "skiplist");
  for (int step = 1; step <= 6000; ++step) {
    std::string m = "m" + std::to_string(rng() % 300);
    double old = scores[m];
    // Small nudges (often still between the neighbours: changed in place) and far moves.
    double s = rng() % 2 == 0 ? old + static_cast<double>(rng() % 3) * 0.25 - 0.25
                              : static_cast<double>(rng() % 400);
    CHECK_FALSE(z.add(m, s));
    model.erase({old, m});
    model.insert({s, m});
    scores[m] = s;
    if (step % 500 != 0)
      continue;
    check_zset(z, model);
    size_t r = 0;
    for (const auto& item : model)
      REQUIRE(z.rank(item.second) == std::optional<size_t>(r++));
    std::vector<std::string> reversed; // the backward links
    z.for_ranks(0, z.size() - 1, true, [&](std::string_view member, double) {
      reversed.emplace_back(member);
      return true;
    });
    std::vector<std::string> expected;
    for (auto it = model.rbegin(); it != model.rend(); ++it)
      expected.push_back(it->second);
    REQUIRE(reversed == expected);
  }
  for (int i = 0; i < 300; ++i) // emptied one by one: spans and levels stay consistent
    REQUIRE(z.erase("m" + std::to_string(i)));
  CHECK(z.size() == 0);
}

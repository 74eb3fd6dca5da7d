// APPEND/SETRANGE logged as the change (issue 11 item 3) and incremental snapshot images
// (issue 11 item 9).
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "store/journal.hpp"

using namespace otkv::store;

namespace {

/// key → (value, deadline): what a partition holds, live at `now`.
using contents = std::map<std::string, std::pair<std::string, millis>>;

contents live_of(const partition& p, millis now) {
  contents out;
  p.for_each(now, [&](const entry& e) {
    out[std::string(e.key())] = {std::string(e.value()), e.expire_at()};
  });
  return out;
}

/// Replays `log` (records without a header) onto `p`, skipping seq ≤ `after`.
size_t replay(partition& p, const std::string& records, uint64_t after = 0) {
  size_t n = 0;
  auto res = scan_log(log_header(1) + records, [&](log_record& r) {
    if (r.seq > after) {
      apply_record(p, r);
      ++n;
    }
  });
  REQUIRE(res.end == scan_end::clean);
  return n;
}

std::vector<log_record> records_of(const std::string& records) {
  std::vector<log_record> out;
  scan_log(log_header(1) + records, [&](log_record& r) { out.push_back(r); });
  return out;
}

/// Decodes one partition image (as the snapshot file holds it).
contents decode_image(const std::string& image, millis now, uint64_t* seq = nullptr) {
  std::vector<partition> parts;
  std::vector<uint64_t> seqs;
  auto err = decode_snapshot(encode_snapshot({image}), parts, seqs, now);
  REQUIRE(err.empty());
  if (seq)
    *seq = seqs[0];
  return live_of(parts[0], now);
}

std::string key_of(size_t i) {
  return "key:" + std::to_string(i);
}

} // namespace

// -- item 3: APPEND and SETRANGE -----------------------------------------------------

TEST_CASE("append and set_range change the value in place and keep the deadline",
          "[partition][append]") {
  partition p;
  CHECK(p.append("a", "xy", 0).value() == "xy");
  CHECK(p.find("a", 0)->expire_at() == 0);
  p.set_expire(*p.find("a", 0), 5000);
  CHECK(p.append("a", "z", 0).value() == "xyz");
  CHECK(p.find("a", 0)->expire_at() == 5000);
  CHECK(p.set_range("a", 1, "Q", 0).value() == "xQz");
  CHECK(p.set_range("a", 5, "!!", 0).value() == std::string("xQz\0\0!!", 7));
  CHECK(p.find("a", 0)->expire_at() == 5000);
  CHECK(p.set_range("new", 3, "n", 0).value() == std::string("\0\0\0n", 4));
  CHECK(p.find("new", 0)->expire_at() == 0);
  // An expired key is replaced, not extended.
  CHECK(p.append("a", "fresh", 6000).value() == "fresh");
  CHECK(p.find("a", 6000)->expire_at() == 0);
  CHECK(p.size() == 2);
  // Growing a large value many times keeps every byte.
  std::string model;
  for (int i = 0; i < 2000; ++i) {
    std::string piece(1 + i % 700, static_cast<char>('a' + i % 26));
    model += piece;
    REQUIRE(p.append("big", piece, 0).value().size() == model.size());
  }
  CHECK(p.find("big", 0)->value() == model);
}

TEST_CASE("append and setrange records are the size of the change, not of the value",
          "[journal][append]") {
  partition p;
  journal_buffer j(0, 0);
  p.set_sink(&j);
  p.put("big", std::string(10 << 20, 'v'), 0);
  j.take();
  for (int i = 0; i < 20; ++i)
    p.set_range("big", static_cast<size_t>(i) * 500000, "x", 0);
  auto records = j.take();
  CHECK(records.size() < 20 * 64);
  for (int i = 0; i < 1000; ++i)
    p.append("log", std::string(1024, static_cast<char>('a' + i % 26)), 0);
  records = j.take();
  CHECK(records.size() < 1000 * (1024 + 64));
  auto recs = records_of(records);
  REQUIRE(recs.size() == 1000);
  CHECK(recs[0].op == mutation::put); // the first APPEND made the key
  CHECK(recs[1].op == mutation::append);
  CHECK(recs[1].value.size() == 1024);
}

TEST_CASE("a random mix of writes replays exactly from the op log, also on a snapshot",
          "[journal][append]") {
  std::mt19937_64 rng(GENERATE(1, 2, 3, 4));
  partition p;
  journal_buffer j(0, 0);
  p.set_sink(&j);
  std::string log;
  millis now = 1000;
  std::string image;
  uint64_t image_seq = 0;
  millis image_now = 0;
  for (int step = 0; step < 4000; ++step) {
    auto key = key_of(rng() % 60);
    std::string piece(rng() % 40, static_cast<char>('a' + rng() % 26));
    switch (rng() % 10) {
      case 0: p.put(key, piece, rng() % 3 == 0 ? now + static_cast<millis>(rng() % 500) : 0); break;
      case 1: p.erase(key, now); break;
      case 2:
        if (auto* e = p.find(key, now))
          p.set_expire(*e, rng() % 2 ? 0 : now + static_cast<millis>(rng() % 500));
        break;
      case 3: case 4: case 5: p.append(key, piece, now); break;
      case 6: case 7: p.set_range(key, rng() % 50, piece.empty() ? "s" : piece, now); break;
      case 8: p.sweep(now, 5); break;
      case 9:
        if (rng() % 100 == 0)
          p.clear();
        break;
    }
    now += static_cast<millis>(rng() % 7);
    log += j.take();
    if (step == 2000) { // a snapshot half-way
      image_seq = j.last_seq();
      image_now = now;
      image = encode_partition_image(p, image_seq, now);
    }
  }
  // Replay from nothing.
  partition from_log;
  replay(from_log, log);
  CHECK(live_of(from_log, now) == live_of(p, now));
  // Load the snapshot (keys expired by the load time dropped), replay what follows it.
  for (millis load_at : {image_now, now}) {
    std::vector<partition> parts;
    std::vector<uint64_t> seqs;
    REQUIRE(decode_snapshot(encode_snapshot({image}), parts, seqs, load_at).empty());
    replay(parts[0], log, image_seq);
    CHECK(live_of(parts[0], now) == live_of(p, now));
  }
}

// -- item 9: incremental images ------------------------------------------------------

TEST_CASE("an image taken in one step equals encode_partition_image", "[image]") {
  partition p;
  for (size_t i = 0; i < 1000; ++i)
    p.put(key_of(i), std::string(i % 50, 'v'), i % 3 == 0 ? 5000 : 0);
  p.begin_image(42, 100);
  REQUIRE(p.imaging());
  CHECK(p.image_step(1000000));
  auto img = p.take_image();
  CHECK_FALSE(p.imaging());
  CHECK(img.size() == encode_partition_image(p, 42, 100).size());
  uint64_t seq = 0;
  CHECK(decode_image(img, 100, &seq) == live_of(p, 100));
  CHECK(seq == 42);
  // A second image right after sees the same (the marks flipped back consistently).
  p.begin_image(43, 100);
  while (!p.image_step(7)) {
  }
  CHECK(decode_image(p.take_image(), 100) == live_of(p, 100));
  // An empty partition.
  partition e;
  e.begin_image(1, 0);
  CHECK(e.image_step(10));
  e.put("late", "x", 0);
  CHECK(decode_image(e.take_image(), 0).empty());
}

TEST_CASE("an image in slices is the contents at begin, whatever changes in between",
          "[image]") {
  auto seed = GENERATE(1, 2, 3, 4, 5, 6);
  std::mt19937_64 rng(static_cast<uint64_t>(seed));
  partition p;
  millis now = 1000;
  size_t keyspace = 3000;
  // 1024 keys in 1024 buckets: the first new key during the image doubles the table.
  for (size_t i = 0; i < 1024; ++i)
    p.put(key_of(i), std::string(rng() % 30, 'i'),
          rng() % 4 == 0 ? now + static_cast<millis>(rng() % 2000) : 0);
  bool saw_rehash = false;
  for (int round = 0; round < 3; ++round) {
    auto expected = live_of(p, now);
    millis began = now;
    p.begin_image(100 + round, now);
    if (round == 1) { // abandon this one half-way: the next begin starts over
      for (int i = 0; i < 5; ++i)
        p.image_step(50);
      p.put("abandoned", "x", 0);
      expected = live_of(p, now);
      p.begin_image(200, now);
    }
    size_t slices = 0;
    while (!p.image_step(1 + rng() % 64)) {
      ++slices;
      saw_rehash = saw_rehash || p.rehashing();
      for (int k = static_cast<int>(rng() % 12); k > 0; --k) {
        auto key = key_of(rng() % keyspace);
        std::string piece(rng() % 30, static_cast<char>('a' + rng() % 26));
        switch (rng() % 11) {
          case 0: case 1: p.put(key, piece, 0); break;           // new or other size
          case 2: if (auto* e = p.find(key, now)) p.put(key, std::string(e->value().size(), 'o'), 0); break;
          case 3: p.erase(key, now); break;
          case 4:
            if (auto* e = p.find(key, now))
              p.set_expire(*e, rng() % 2 ? 0 : now + static_cast<millis>(rng() % 300));
            break;
          case 5: p.append(key, piece, now); break;
          case 6: p.set_range(key, rng() % 40, "R", now); break;
          case 7: p.sweep(now, 20); break;
          case 8: p.find(key, now); break;                           // lazy expiry
          case 9: p.put(key + ":new", piece, 0); break;               // created after begin
          case 10:
            if (rng() % 300 == 0)
              p.clear();
            break;
        }
      }
      now += static_cast<millis>(rng() % 5);
    }
    INFO("seed " << seed << " round " << round << " slices " << slices);
    CHECK(decode_image(p.take_image(), began) == expected);
  }
  CHECK(saw_rehash);
}

TEST_CASE("clear during an image copies what was not copied yet", "[image]") {
  partition p;
  for (size_t i = 0; i < 500; ++i)
    p.put(key_of(i), "v" + std::to_string(i), 0);
  auto expected = live_of(p, 0);
  p.begin_image(1, 0);
  p.image_step(100);
  p.clear();
  p.put(key_of(1), "after", 0);
  while (!p.image_step(10)) {
  }
  CHECK(decode_image(p.take_image(), 0) == expected);
  CHECK(p.find(key_of(1), 0)->value() == "after");
}

TEST_CASE("an abandoned image leaves the marks consistent for the next one", "[image]") {
  partition p;
  for (size_t i = 0; i < 3000; ++i)
    p.put(key_of(i), "v", 0);
  p.begin_image(1, 0);
  p.image_step(500);
  p.erase(key_of(7), 0);
  p.abandon_image(); // its taker is gone
  CHECK_FALSE(p.imaging());
  p.put(key_of(8), "changed", 0);
  p.append(key_of(9), "+", 0);
  auto expected = live_of(p, 0);
  p.begin_image(2, 0);
  while (!p.image_step(100))
    p.put(key_of(10), "later", 0);
  CHECK(decode_image(p.take_image(), 0) == expected);
}

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <memory>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "store/journal.hpp"
#include "store/recovery.hpp"

using namespace otkv::store;

namespace {

/// A log with a header and three records for partition 0.
std::string sample_log() {
  std::string log = log_header(2);
  encode_record(log, mutation::put, 0, 1, "k1", "v1", 0);
  encode_record(log, mutation::put, 1, 1, "k2", std::string(300, 'x'), 1234);
  encode_record(log, mutation::erase, 0, 2, "k1");
  return log;
}

std::vector<log_record> records_of(const std::string& bytes, scan_result& res) {
  std::vector<log_record> out;
  res = scan_log(bytes, [&](log_record& r) { out.push_back(r); });
  return out;
}

} // namespace

TEST_CASE("records round-trip through encode and scan", "[journal]") {
  scan_result res;
  uint32_t parts = 0;
  std::vector<log_record> out;
  res = scan_log(sample_log(), [&](log_record& r) { out.push_back(r); }, &parts);
  CHECK(res.end == scan_end::clean);
  CHECK(parts == 2);
  REQUIRE(out.size() == 3);
  CHECK(out[0].op == mutation::put);
  CHECK(out[0].key == "k1");
  CHECK(out[0].value == "v1");
  CHECK(out[1].partition == 1);
  CHECK(out[1].value.size() == 300);
  CHECK(out[1].expire_at == 1234);
  CHECK(out[2].op == mutation::erase);
  CHECK(out[2].seq == 2);
}

TEST_CASE("a log cut at every byte offset is a torn tail, never corruption", "[journal]") {
  auto log = sample_log();
  auto whole = scan_log(log, [](log_record&) {});
  for (size_t cut = 1; cut < log.size(); ++cut) {
    INFO("cut at " << cut);
    scan_result res;
    auto out = records_of(log.substr(0, cut), res);
    REQUIRE(res.end != scan_end::corrupt);
    // Every record wholly before the cut is kept, and nothing else.
    REQUIRE(res.valid_bytes <= cut);
    CHECK(out.size() == res.records);
    if (res.end == scan_end::clean)
      CHECK(res.valid_bytes == cut);
  }
  CHECK(whole.records == 3);
}

TEST_CASE("damage in the middle is corruption; damage in the last record is torn", "[journal]") {
  auto log = sample_log();
  size_t first_record = log_header(2).size();
  for (size_t at = first_record; at < log.size(); ++at) {
    auto bad = log;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    scan_result res;
    records_of(bad, res);
    INFO("flipped byte " << at);
    REQUIRE(res.end != scan_end::clean);
  }
  // Flip a payload byte of the first record: more records follow, so it is corrupt.
  auto bad = log;
  bad[first_record + 12] ^= 1;
  scan_result res;
  records_of(bad, res);
  CHECK(res.end == scan_end::corrupt);
  CHECK(res.valid_bytes == first_record);
  // The same in the last record: a torn write.
  bad = log;
  bad[log.size() - 3] ^= 1;
  records_of(bad, res);
  CHECK(res.end == scan_end::torn);
  CHECK(res.records == 2);
}

TEST_CASE("a record group is replayed whole, or not at all when the log ends inside it",
          "[journal]") {
  // One record, then a group of three over two partitions (a transaction), then one more.
  std::string log = log_header(2);
  encode_record(log, mutation::put, 0, 1, "before", "1");
  size_t group_start = log.size();
  encode_group(log, 3);
  encode_record(log, mutation::put, 0, 2, "a", "-5");
  encode_record(log, mutation::put, 1, 1, "b", "+5");
  encode_record(log, mutation::erase, 1, 2, "c");
  size_t group_end = log.size();
  encode_record(log, mutation::put, 1, 3, "after", "2");
  scan_result res;
  auto all = records_of(log, res);
  CHECK(res.end == scan_end::clean);
  REQUIRE(all.size() == 5); // the marker is framing: not passed on
  CHECK(all[1].key == "a");
  CHECK(all[3].op == mutation::erase);
  CHECK(res.records == 5);
  // Cut at every byte: the group's records come all or none, and a cut inside the group
  // leaves the valid part before the group (so recovery cuts the log there).
  for (size_t cut = group_start; cut <= group_end; ++cut) {
    INFO("cut at " << cut);
    auto out = records_of(log.substr(0, cut), res);
    if (cut == group_start || cut == group_end) {
      CHECK(res.end == scan_end::clean);
      CHECK(out.size() == (cut == group_end ? 4u : 1u));
      continue;
    }
    CHECK(res.end == scan_end::torn);
    CHECK(out.size() == 1);
    CHECK(res.valid_bytes == group_start);
  }
  // Damage inside the group with more after it: corrupt, nothing of the group passed on.
  auto bad = log;
  bad[group_start + 60] ^= 1;
  auto out = records_of(bad, res);
  CHECK(res.end == scan_end::corrupt);
  CHECK(res.valid_bytes == group_start);
  CHECK(out.size() == 1);
  // A marker inside a group is damage, not a nested group.
  std::string nested = log_header(2);
  encode_group(nested, 2);
  encode_group(nested, 1);
  encode_record(nested, mutation::put, 0, 1, "x", "y");
  encode_record(nested, mutation::put, 0, 2, "x", "z");
  out = records_of(nested, res);
  CHECK(res.end == scan_end::corrupt);
  CHECK(out.empty());
  // An empty group is nothing.
  std::string empty = log_header(2);
  encode_group(empty, 0);
  out = records_of(empty, res);
  CHECK(res.end == scan_end::clean);
  CHECK(out.empty());
}

TEST_CASE("a journal_buffer records a partition's changes for replay", "[journal]") {
  partition live;
  journal_buffer journal(0, 0);
  live.set_sink(&journal);
  live.put("a", "1", 0);
  live.put("b", "2", 5000);
  live.put("a", "11", 0);
  auto* b = live.find("b", 0);
  live.set_expire(*b, 9000);
  live.put("c", "3", 0);
  live.erase("c", 0);
  CHECK(journal.last_seq() == 6);
  std::string log = log_header(1) + journal.take();
  partition replayed;
  scan_log(log, [&](log_record& r) { apply_record(replayed, r); });
  CHECK(replayed.size() == 2);
  CHECK(replayed.find("a", 0)->value() == "11");
  CHECK(replayed.find("b", 0)->expire_at() == 9000);
  CHECK(replayed.find("c", 0) == nullptr);
  live.clear();
  log = log_header(1) + journal.take();
  scan_log(log, [&](log_record& r) { apply_record(replayed, r); });
  CHECK(replayed.size() == 0);
}

TEST_CASE("snapshots round-trip and drop keys that expired meanwhile", "[snapshot]") {
  partition p0, p1;
  p0.put("a", "1", 0);
  p0.put("short", "x", 1000);
  p1.put("b", std::string(5000, 'b'), 10000);
  auto bytes = encode_snapshot({encode_partition_image(p0, 7, 0), encode_partition_image(p1, 9, 0)});
  std::vector<partition> parts;
  std::vector<uint64_t> seqs;
  REQUIRE(decode_snapshot(bytes, parts, seqs, 2000).empty());
  REQUIRE(parts.size() == 2);
  CHECK(seqs == std::vector<uint64_t>{7, 9});
  CHECK(parts[0].size() == 1); // "short" expired at 1000 < 2000
  CHECK(parts[1].find("b", 0)->value().size() == 5000);
  CHECK(parts[1].find("b", 0)->expire_at() == 10000);
  auto bad = bytes;
  bad[20] ^= 1;
  CHECK(decode_snapshot(bad, parts, seqs, 0) == "checksum mismatch");
  CHECK(decode_snapshot(bytes.substr(0, 30), parts, seqs, 0) != "");
}

TEST_CASE("recovery drops a group the log ends inside, and cuts the log before it",
          "[recovery]") {
  char tmpl[] = "/tmp/otkv-recovery-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string log = log_header(2);
  encode_record(log, mutation::put, 0, 1, "a", "10", 0);
  encode_record(log, mutation::put, 1, 1, "b", "10", 0);
  std::string whole = log;
  encode_group(whole, 2); // a transfer of 5 from a to b
  encode_record(whole, mutation::put, 0, 2, "a", "5", 0);
  encode_record(whole, mutation::put, 1, 2, "b", "15", 0);
  // The crash came after the group's first record: only the marker and it were written.
  std::string cut = whole.substr(0, whole.size() - 20);
  std::ofstream(dir + "/" + log_file_name(1), std::ios::binary) << cut;
  auto res = recover(dir, 0, 0);
  REQUIRE(res.error.empty());
  CHECK(res.parts[0].find("a", 0)->value() == "10"); // neither half of the transfer
  CHECK(res.parts[1].find("b", 0)->value() == "10");
  CHECK(res.seqs[0] == 1);
  REQUIRE(res.warnings.size() == 1);
  std::string after;
  read_file(dir + "/" + log_file_name(1), after);
  CHECK(after == log); // cut before the group: what is appended next replays alone
  // Written whole, it is replayed whole.
  std::ofstream(dir + "/" + log_file_name(1), std::ios::binary) << whole;
  res = recover(dir, 0, 0);
  REQUIRE(res.error.empty());
  CHECK(res.parts[0].find("a", 0)->value() == "5");
  CHECK(res.parts[1].find("b", 0)->value() == "15");
  CHECK(res.warnings.empty());
  std::remove((dir + "/" + log_file_name(1)).c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("recovery replays the log after the snapshot and cuts a torn tail", "[recovery]") {
  char tmpl[] = "/tmp/otkv-recovery-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  // Snapshot covers record 1 of partition 0; the log holds records 1..3.
  partition p0;
  p0.put("a", "1", 0);
  auto snap = encode_snapshot({encode_partition_image(p0, 1, 0)});
  std::ofstream(dir + "/" + snapshot_file, std::ios::binary) << snap;
  std::string log = log_header(1);
  encode_record(log, mutation::put, 0, 1, "a", "1", 0);
  encode_record(log, mutation::put, 0, 2, "b", "2", 0);
  encode_record(log, mutation::put, 0, 3, "a", "3", 0);
  std::string torn = log + std::string("\x20\x00\x00\x00garbage", 11);
  std::ofstream(dir + "/" + log_file_name(1), std::ios::binary) << torn;
  auto res = recover(dir, 0, 0);
  REQUIRE(res.error.empty());
  CHECK(res.partitions == 1);
  CHECK(res.had_snapshot);
  CHECK(res.log_records == 2);
  CHECK(res.parts[0].find("a", 0)->value() == "3");
  CHECK(res.parts[0].find("b", 0)->value() == "2");
  CHECK(res.seqs[0] == 3);
  REQUIRE(res.warnings.size() == 1);
  std::string after;
  read_file(dir + "/" + log_file_name(1), after);
  CHECK(after == log); // the torn tail was cut off
  // A different explicit partition count is refused.
  CHECK(recover(dir, 4, 0).error.find("written with 1 partitions") != std::string::npos);
  // Damage in the middle of an older generation: refused, naming the repair command.
  std::string older = log;
  older[log_header(1).size() + 10] ^= 1;
  std::ofstream(dir + "/" + log_file_name(0), std::ios::binary) << older;
  auto bad = recover(dir, 0, 0);
  CHECK(bad.error.find("is damaged at byte") != std::string::npos);
  CHECK(bad.error.find("--repair-log") != std::string::npos);
  CHECK(repair_log(dir + "/" + log_file_name(0)).find("kept 0 records") != std::string::npos);
  CHECK(recover(dir, 0, 0).error.empty());
  for (auto g : log_generations(dir))
    std::remove((dir + "/" + log_file_name(g)).c_str());
  std::remove((dir + "/" + snapshot_file).c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("a journal's changes touch the keys WATCHed in its watch table", "[watch]") {
  partition p;
  journal_buffer journal(0, 0);
  watch_table watches;
  journal.set_watches(&watches);
  p.set_sink(&journal);
  auto mine = std::make_shared<std::atomic<bool>>(false);
  auto other = std::make_shared<std::atomic<bool>>(false);
  watches.watch("a", mine);
  watches.watch("b", other);
  p.put("c", "1", 0); // another key: nobody touched
  CHECK_FALSE(mine->load());
  CHECK_FALSE(other->load());
  p.put("a", "1", 0);
  CHECK(mine->load());
  CHECK_FALSE(other->load());
  CHECK(watches.size() == 1); // a is watched no more
  p.clear();                  // FLUSHALL: every watcher
  CHECK(other->load());
  CHECK(watches.empty());
  // Flags nobody holds any more are forgotten.
  watches.watch("x", std::make_shared<std::atomic<bool>>(false));
  watches.watch("y", mine);
  watches.purge();
  CHECK(watches.size() == 1);
  mine.reset();
  watches.purge();
  CHECK(watches.empty());
}

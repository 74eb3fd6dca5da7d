#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include "store/journal.hpp"
#include "store/recovery.hpp"

using namespace otkv::store;

namespace {

/// A two-partition log with one record per partition.
std::string two_partition_log() {
  std::string log = log_header(2);
  encode_record(log, mutation::put, 0, 1, "a", "1", 0);
  encode_record(log, mutation::put, 1, 1, "b", "2", 0);
  return log;
}

/// Overwrites the u32 partition count of a header (bytes 8..11).
void set_count(std::string& log, uint32_t n) {
  for (int i = 0; i < 4; ++i)
    log[8 + i] = static_cast<char>((n >> (8 * i)) & 0xff);
}

std::string temp_dir() {
  char tmpl[] = "/tmp/otkv-header-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  return tmpl;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

TEST_CASE("a changed partition count in the header is refused", "[journal][header]") {
  for (uint32_t bad : {3u, 0u, 0xFFFFFFFFu, 100000u}) {
    INFO("count " << bad);
    auto log = two_partition_log();
    set_count(log, bad);
    uint32_t parts = 7;
    size_t records = 0;
    auto res = scan_log(log, [&](log_record&) { ++records; }, &parts);
    CHECK(res.end == scan_end::corrupt);
    CHECK(res.header_error == "header checksum mismatch");
    CHECK(parts == 0);
    CHECK(records == 0);
  }
}

TEST_CASE("first-format logs are read, with the count checked against limits",
          "[journal][header]") {
  auto v2 = two_partition_log();
  std::string v1 = std::string(log_magic_v1) + v2.substr(8, 4) + v2.substr(16);
  uint32_t parts = 0;
  size_t records = 0;
  auto res = scan_log(v1, [&](log_record&) { ++records; }, &parts);
  CHECK(res.end == scan_end::clean);
  CHECK(parts == 2);
  CHECK(records == 2);
  for (uint32_t bad : {0u, 0xFFFFFFFFu, max_partitions + 1}) {
    auto damaged = v1;
    set_count(damaged, bad);
    res = scan_log(damaged, [](log_record&) {}, &parts);
    CHECK(res.end == scan_end::corrupt);
    CHECK(res.header_error.find("out of range") != std::string::npos);
  }
}

TEST_CASE("a log cut inside its header is torn", "[journal][header]") {
  auto header = log_header(4);
  for (size_t cut = 1; cut < header.size(); ++cut) {
    INFO("cut at " << cut);
    auto res = scan_log(header.substr(0, cut), [](log_record&) {});
    CHECK(res.end == scan_end::torn);
    CHECK(res.valid_bytes == 0);
  }
}

TEST_CASE("recovery refuses a damaged header and names the repair", "[recovery][header]") {
  auto dir = temp_dir();
  auto path = dir + "/" + log_file_name(1);
  auto log = two_partition_log();
  set_count(log, 3);
  std::ofstream(path, std::ios::binary) << log;
  auto res = recover(dir, 0, 0);
  CHECK(res.error.find("damaged header") != std::string::npos);
  CHECK(res.error.find("--repair-log " + path + " --partitions N") != std::string::npos);
  CHECK(read_all(path) == log); // nothing was cut

  // Without a count the repair refuses; with one it rewrites the header, keeping records.
  CHECK(repair_log(path).rfind("error:", 0) == 0);
  auto report = repair_log(path, 2);
  CHECK(report.find("header rewritten for 2 partitions") != std::string::npos);
  CHECK(read_all(path) == two_partition_log());
  res = recover(dir, 0, 0);
  REQUIRE(res.error.empty());
  CHECK(res.partitions == 2);
  CHECK(res.log_records == 2);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("a data directory set aside: the next start finds nothing, the files are kept",
          "[recovery]") {
  auto dir = temp_dir();
  auto write = [](const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  };
  write(dir + "/" + snapshot_file, "old snapshot");
  write(dir + "/" + log_file_name(1), "old log 1");
  write(dir + "/" + log_file_name(2), "old log 2");
  write(dir + "/unrelated.txt", "stays");
  REQUIRE(set_aside_data(dir, "left-chain") == "");
  CHECK(log_generations(dir).empty());
  std::string text;
  CHECK_FALSE(read_file(dir + "/" + snapshot_file, text));
  REQUIRE(read_file(dir + "/left-chain/" + log_file_name(2), text));
  CHECK(text == "old log 2");
  CHECK(read_file(dir + "/unrelated.txt", text));
  auto rec = recover(dir, 2, 0);
  CHECK(rec.error.empty());
  CHECK_FALSE(rec.had_snapshot); // empty: as a fresh directory
  CHECK(rec.log_files == 0);
  // Set aside again: what the first time left is replaced, not mixed in.
  write(dir + "/" + log_file_name(5), "newer log");
  REQUIRE(set_aside_data(dir, "left-chain") == "");
  CHECK(read_file(dir + "/left-chain/" + log_file_name(5), text));
  CHECK_FALSE(read_file(dir + "/left-chain/" + log_file_name(2), text));
  // A file in its way that is not a directory: an error, nothing moved.
  auto other = temp_dir();
  write(other + "/blocked", "a file");
  write(other + "/" + log_file_name(1), "log");
  CHECK(set_aside_data(other, "blocked").find("cannot") != std::string::npos);
  CHECK(log_generations(other).size() == 1);
}

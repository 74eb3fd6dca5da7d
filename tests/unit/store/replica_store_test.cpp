// What a replication chain needs from the store (docs/replication.md): the expiry modes of
// a chain's head (expiry recorded) and replicas (expired keys hidden, not removed), the
// record stream without a file header, records taken over from another node, and the
// image record of a full copy.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "store/journal.hpp"
#include "store/partition.hpp"

using namespace otkv::store;

namespace {

std::vector<log_record> decode(const std::string& bytes, scan_result* res = nullptr) {
  std::vector<log_record> out;
  auto r = scan_records(bytes, [&](log_record& rec) { out.push_back(rec); });
  if (res)
    *res = r;
  return out;
}

} // namespace

TEST_CASE("reclaim mode: an expired key is removed on access, unrecorded", "[replica]") {
  partition p;
  journal_buffer j;
  p.set_sink(&j);
  p.put("k", "v", 100);
  auto before = j.last_seq();
  CHECK(p.find("k", 200) == nullptr);
  CHECK(p.size() == 0);
  CHECK(j.last_seq() == before);
}

TEST_CASE("record mode (a chain's head): expiry is an erase record", "[replica]") {
  partition p;
  journal_buffer j(3);
  p.set_sink(&j);
  p.set_expiry_mode(expiry_mode::record);
  p.put("lazy", "v", 100);
  p.put("swept", "v", 100);
  p.put("lives", "v", 0);
  j.take();
  CHECK(p.find("lazy", 200) == nullptr); // on access
  CHECK(p.sweep(200, 10) == 1);          // by the sweep
  auto records = decode(j.take());
  REQUIRE(records.size() == 2);
  CHECK(records[0].op == mutation::erase);
  CHECK(records[0].key == "lazy");
  CHECK(records[1].key == "swept");
  CHECK(records[1].partition == 3);
  CHECK(p.size() == 1);
}

TEST_CASE("hide mode (a replica): an expired key reads as absent but stays until its erase "
          "record", "[replica]") {
  partition p;
  p.set_expiry_mode(expiry_mode::hide);
  p.put("k", "v", 100);
  CHECK(p.find("k", 200) == nullptr);
  CHECK(p.sweep(200, 10) == 0);
  CHECK(p.size() == 1);
  // The head's clock was behind: it changed the key while it still lived. The replica,
  // applying the record (time 0: no expiry), still has the key to change.
  log_record persist{mutation::expire, 0, 1, "k", "", 0};
  apply_record(p, persist);
  CHECK(p.find("k", 200) != nullptr);
  log_record erase{mutation::erase, 0, 2, "k", "", 0};
  apply_record(p, erase);
  CHECK(p.size() == 0);
}

TEST_CASE("a record stream has no header and ends as a log does", "[replica]") {
  std::string bytes;
  encode_record(bytes, mutation::put, 0, 1, "a", "1", 0);
  encode_record(bytes, mutation::append, 0, 2, "a", "2", 0);
  scan_result res;
  auto records = decode(bytes, &res);
  CHECK(res.end == scan_end::clean);
  REQUIRE(records.size() == 2);
  CHECK(records[1].seq == 2);
  CHECK(res.valid_bytes == bytes.size());
  auto torn = bytes.substr(0, bytes.size() - 3);
  records = decode(torn, &res);
  CHECK(res.end == scan_end::torn);
  CHECK(records.size() == 1);
  auto damaged = bytes;
  damaged[10] ^= 1; // inside the first record, with one after it
  decode(damaged, &res);
  CHECK(res.end == scan_end::corrupt);
}

TEST_CASE("records made elsewhere keep their numbers in this journal", "[replica]") {
  journal_buffer j(0, 4);
  std::string bytes;
  encode_record(bytes, mutation::put, 0, 5, "a", "1", 0);
  encode_record(bytes, mutation::put, 0, 6, "b", "2", 0);
  j.add_encoded(bytes, 6);
  CHECK(j.last_seq() == 6);
  CHECK(j.take() == bytes);
  j.on_mutation(mutation::erase, "a", {}, 0); // its own next record follows on
  CHECK(decode(j.take()).at(0).seq == 7);
}

TEST_CASE("an image record replaces the whole partition", "[replica]") {
  partition source;
  source.put("a", "1", 0);
  source.put("b", std::string(1000, 'x'), 5000);
  std::string record;
  encode_record(record, mutation::image, 0, 42, {}, encode_partition_image(source, 42, 0));
  auto records = decode(record);
  REQUIRE(records.size() == 1);
  CHECK(records[0].op == mutation::image);
  CHECK(records[0].seq == 42);
  partition target;
  target.put("stale", "x", 0);
  apply_record(target, records[0]);
  CHECK(target.find("stale", 0) == nullptr);
  REQUIRE(target.find("a", 0) != nullptr);
  CHECK(target.find("a", 0)->value() == "1");
  REQUIRE(target.find("b", 0) != nullptr);
  CHECK(target.find("b", 0)->expire_at() == 5000);
  CHECK(target.size() == 2);
  CHECK_FALSE(load_partition_image(target, "short"));
}

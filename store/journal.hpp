#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <functional>
#include <vector>

#include "store/partition.hpp"
#include "store/watch_table.hpp"

namespace otkv::store {

/// Collects a partition's changes as encoded op-log records, numbering them.
class journal_buffer : public mutation_sink {
public:
  explicit journal_buffer(uint32_t partition = 0, uint64_t last_seq = 0)
    : partition_(partition), seq_(last_seq) {}
  void on_mutation(mutation op, std::string_view key, std::string_view value,
                   int64_t at) override;
  bool keeps_records() const noexcept override { return keep_; }
  /// The records collected since the last take().
  std::string take() { return std::move(bytes_); }
  bool empty() const noexcept { return bytes_.empty(); }
  /// Number of the last record made.
  uint64_t last_seq() const noexcept { return seq_; }
  /// Adds records made elsewhere (a replica applying its chain predecessor's records,
  /// encoded already), numbered up to `last_seq`.
  void add_encoded(std::string_view records, uint64_t last_seq);
  /// Without an op log (--appendonly no): records are numbered (snapshots name the last
  /// one) but not kept, since nobody takes them.
  void stop_keeping() noexcept {
    keep_ = false;
    bytes_.clear();
    bytes_.shrink_to_fit();
  }
  /// Every change also touches the keys WATCHed in `watches` (null: none).
  void set_watches(watch_table* watches) noexcept { watches_ = watches; }

private:
  watch_table* watches_ = nullptr;
  uint32_t partition_;
  uint64_t seq_;
  bool keep_ = true;
  std::string bytes_;
};

/// One decoded op-log record.
struct log_record {
  mutation op = mutation::put;
  uint32_t partition = 0;
  uint64_t seq = 0;        ///< per-partition record number, from 1
  std::string key;
  std::string value;
  millis expire_at = 0;
};

/// Appends the framed encoding of a record: u32 payload length, u32 CRC-32C of the
/// payload, payload (op, partition, seq, key, value, deadline; little-endian). For
/// append, `value` is the suffix; for setrange, `value` is the bytes written and
/// `expire_at` the offset (−1 − offset when the SETRANGE created the key).
void encode_record(std::string& out, mutation op, uint32_t partition, uint64_t seq,
                   std::string_view key = {}, std::string_view value = {}, millis expire_at = 0);

/// How scanning a log ended.
enum class scan_end {
  clean,   ///< every byte belonged to a valid record
  torn,    ///< the tail is an incomplete or damaged last record: safe to cut off
  corrupt, ///< a damaged record is followed by more data: refuse to guess
};

/// The result of scanning a log's bytes.
struct scan_result {
  scan_end end = scan_end::clean;
  size_t valid_bytes = 0; ///< bytes of the header and valid records from the start
  size_t records = 0;
  std::string header_error; ///< why the header cannot be trusted ("" if it can)
};

/// The 8 bytes every op-log file starts with; a u32 partition count and a u32 CRC-32C
/// of the 12 bytes before it follow.
inline constexpr std::string_view log_magic = "OTKVLOG2";
/// The magic of the first format (no header checksum), still read.
inline constexpr std::string_view log_magic_v1 = "OTKVLOG1";
/// The most partitions a data directory may have (as --partitions allows).
inline constexpr uint32_t max_partitions = 4096;

/// The header of a new op-log file for `partitions` partitions.
std::string log_header(uint32_t partitions);

/// Scans a whole log file's bytes, calling `fn(record)` for each valid record in order.
/// `partitions` receives the count from the header (0 if the header is incomplete or
/// damaged). A damaged header (bad magic, checksum or count) ends the scan as corrupt
/// with `header_error` set; a file cut inside its header is torn.
scan_result scan_log(std::string_view bytes, const std::function<void(log_record&)>& fn,
                     uint32_t* partitions = nullptr);

/// Scans framed records without a file header (a chain's record stream), calling
/// `fn(record)` for each valid one in order. Ends as scan_log does (`header_error` unused).
/// A group (encode_group) is passed on only once all its records are there: one cut short
/// ends the scan as torn before the group, one damaged inside as corrupt.
scan_result scan_records(std::string_view bytes, const std::function<void(log_record&)>& fn);

/// Appends the marker that makes the next `records` records one group (mutation::group):
/// recovery replays them all, or none if the log ends inside them.
void encode_group(std::string& out, uint64_t records);

/// The offset a setrange record's i64 field carries (either sign).
constexpr int64_t setrange_offset(int64_t field) noexcept { return field < 0 ? -1 - field : field; }

/// Whether a setrange record's offset and length stay within max_value_size.
bool setrange_fits(const log_record& r);

/// Replays an element record's change (`change`: packed strings, its name first, as the
/// command families write them) on the aggregate at `key`, made if missing. False if the
/// change is malformed or the key holds another type (nothing changed then).
bool apply_element(partition& p, std::string_view key, std::string_view change);

/// Applies one record to a partition (recovery). Replaying a log on top of the snapshot
/// it was compacted against gives back the exact contents, appends included.
void apply_record(partition& p, const log_record& r);

/// The 8-byte header of a snapshot file (version 2: entries may hold aggregates).
inline constexpr std::string_view snapshot_magic = "OTKVSNP2";
/// The header of the first snapshot format (strings only), still read.
inline constexpr std::string_view snapshot_magic_v1 = "OTKVSNP1";

/// Serialises one partition's live keys: u64 seq, u64 count, then per key an image
/// entry (put_image_entry: key, value or aggregate, deadline).
std::string encode_partition_image(const partition& p, uint64_t seq, millis now);

/// Replaces the contents of `p` with an encode_partition_image image (keys that expired
/// since stay, with their deadlines: as any other). False if the image is malformed (the
/// keys read before the damage stay).
bool load_partition_image(partition& p, std::string_view image);

/// Builds a snapshot file's bytes from the partition images (in partition order):
/// magic, u32 partition count, images, u32 CRC-32C of everything before it.
std::string encode_snapshot(const std::vector<std::string>& images);

/// Decodes a snapshot into `parts` (resized to its partition count) and their
/// sequence numbers. Returns an error message, or "" on success.
std::string decode_snapshot(std::string_view bytes, std::vector<partition>& parts,
                            std::vector<uint64_t>& seqs, millis now);

} // namespace otkv::store

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/partition.hpp"

namespace otkv::store {

/// File names in the data directory.
inline constexpr const char* snapshot_file = "snapshot.otkv";
/// The op log of generation `gen`: appendonly-<gen, 8 digits>.log.
std::string log_file_name(uint64_t gen);

/// Op-log generations present in `dir`, oldest first.
std::vector<uint64_t> log_generations(const std::string& dir);

/// What start-up found in the data directory.
struct recovery_result {
  std::string error;                ///< non-empty: refuse to start, with this message
  std::vector<std::string> warnings;
  uint32_t partitions = 0;          ///< the partition count in use
  std::vector<partition> parts;
  std::vector<uint64_t> seqs;       ///< last record number per partition
  bool had_snapshot = false;
  size_t snapshot_keys = 0;
  size_t log_files = 0;
  size_t log_records = 0;           ///< records applied (not covered by the snapshot)
  uint64_t last_generation = 0;     ///< newest op-log generation (0: none)
  double seconds = 0;
};

/// Loads the snapshot and replays the op log after it. `partitions` is the configured
/// count (0: none given, use what the files say). A torn tail of the newest log is cut
/// off (truncating the file) with a warning; damage anywhere else is an error naming
/// the file, the offset and the repair command.
recovery_result recover(const std::string& dir, uint32_t partitions, millis now);

/// Cuts `path` after its last valid record. A file whose header is damaged gets a new
/// header for `partitions` partitions (0: unknown, then it is left alone), keeping its
/// records. Returns a report line, or an error line starting with "error:".
std::string repair_log(const std::string& path, uint32_t partitions = 0);

/// Makes `dir` (and missing parents, as mkdir -p) and checks a file can be created in
/// it. Returns "" when it is a usable data directory, else why not.
std::string prepare_data_dir(const std::string& dir);

/// Moves the snapshot and op-log files of `dir` into its subdirectory `aside` (made if
/// missing; what it held before is replaced): the next start finds no data. Returns ""
/// or why not.
std::string set_aside_data(const std::string& dir, const std::string& aside);

/// Reads a whole file; false if it cannot be read.
bool read_file(const std::string& path, std::string& out);

} // namespace otkv::store

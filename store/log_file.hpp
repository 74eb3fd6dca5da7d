#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace otkv::store {

/// The op-log file of the current generation (`dir`/appendonly-<generation>.log), shared by
/// the partition workers, which append each batch's records before its replies leave (so a
/// process crash never loses an acknowledged write, as Redis writes its AOF before replying),
/// and the logger, which fsyncs, rotates and retries. A mutex orders the appends: it guards
/// the file, never the keyspace. A failed write is cut back to the last complete record and
/// the records are kept, in order, until retry() writes them; meanwhile `health` holds the
/// errno (front ends refuse write commands while it is not 0).
class log_file {
public:
  /// Opens (creating with a header) generation `generation` (0: 1) of `dir`.
  log_file(std::string dir, uint64_t generation, uint32_t partitions,
           std::shared_ptr<std::atomic<int>> health);
  log_file(const log_file&) = delete;
  log_file& operator=(const log_file&) = delete;
  /// Writes what is kept, fsyncs and closes.
  ~log_file();

  /// Appends whole records at the end, after any kept from a failure. Returns whether
  /// they reached the kernel; if not, they are kept for retry() and must not be
  /// acknowledged. Any thread.
  bool append(std::string_view records);

  /// fdatasync if anything was written since the last one; false if it failed (the
  /// next sync tries again). The logger's thread only (it alone closes the file).
  bool sync();

  /// Writes the records kept from a failure, then syncs. The logger's thread only.
  void retry();

  /// Syncs and closes the current generation and starts the next one; returns the new
  /// generation and whether the old one had records. The logger's thread only.
  std::pair<uint64_t, bool> rotate();

  /// Whether the last write or fsync failed (records may be kept for a retry).
  bool failed() const noexcept { return health_->load(std::memory_order_relaxed) != 0; }

  /// The errno of the failure, 0 if none.
  int error() const noexcept { return health_->load(std::memory_order_relaxed); }

  const std::string& dir() const noexcept { return dir_; }

private:
  bool open_generation();           // with mu_ held
  bool write_records(std::string_view bytes); // with mu_ held
  void fail(int err, const char* what);       // with mu_ held
  void healed();                              // with mu_ held

  std::mutex mu_;
  std::string dir_;
  uint32_t partitions_;
  uint64_t generation_;
  int fd_ = -1;
  bool dirty_ = false;         // written since the last fsync
  uint64_t file_size_ = 0;     // bytes of complete records in the file
  uint64_t records_bytes_ = 0; // record bytes in the current generation
  std::string unwritten_;      // records kept after a failure, oldest first
  std::shared_ptr<std::atomic<int>> health_;
};

/// Writes all `n` bytes (retrying short writes and EINTR); false on an error (errno set).
bool write_all(int fd, const char* data, size_t n);

/// fsyncs a directory so a rename or a new file in it is durable.
void fsync_dir(const std::string& dir);

} // namespace otkv::store

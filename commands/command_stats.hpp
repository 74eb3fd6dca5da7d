#pragma once

// Per-command statistics (INFO commandstats, INFO latencystats) and the slow log
// (SLOWLOG). Plain C++: the connection broker owns one of each and the command layer
// reads them, so they run in unit tests too.

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "net/request_parser.hpp"
#include "store/partition.hpp"

namespace otkv::cmd {

struct command;

/// Latency distribution in nanoseconds: log-linear buckets (16 per power of two, so a
/// reported value is at most 1/16 above the true one), 1 ns to ~4.5 hours.
class latency_histogram {
public:
  /// Adds one sample.
  void record(uint64_t ns) noexcept;
  /// The smallest bucket bound at or below which `percent` of the samples lie (0 if empty).
  uint64_t percentile(double percent) const noexcept;
  /// Number of samples.
  uint64_t count() const noexcept { return count_; }
  /// Adds the samples of `other`.
  void add(const latency_histogram& other) noexcept;

private:
  static constexpr int sub_bits = 4;
  static constexpr size_t buckets = (44 - sub_bits + 1) << sub_bits;
  static size_t bucket_of(uint64_t ns) noexcept;
  static uint64_t upper_bound(size_t bucket) noexcept;
  std::array<uint64_t, buckets> counts_{};
  uint64_t count_ = 0;
};

/// What INFO commandstats and latencystats report for one command.
struct command_counters {
  uint64_t calls = 0;          ///< executed (errors included)
  uint64_t ns = 0;             ///< execution time, summed
  uint64_t rejected_calls = 0; ///< refused before running (arity, NOAUTH, CROSSSLOT)
  uint64_t failed_calls = 0;   ///< ran and answered with an error
  std::unique_ptr<latency_histogram> latency; ///< made on the first call
};

/// One SLOWLOG entry.
struct slowlog_entry {
  uint64_t id = 0;
  int64_t unix_time = 0;   ///< seconds
  uint64_t duration_us = 0;
  std::vector<std::string> args; ///< at most 32, each at most 128 bytes (as Redis)
  std::string client_addr;
  std::string client_name;
};

/// Statistics of every command of the table, indexed by table position, and the slow log.
struct command_stats {
  std::vector<command_counters> counters; ///< grown by of() to the table position used
  /// Whether latency percentiles are tracked (CONFIG latency-tracking).
  bool latency_tracking = true;

  /// Newest first; at most `slowlog_max_len` entries.
  std::deque<slowlog_entry> slowlog;
  uint64_t next_slowlog_id = 0;
  /// Where slow-log ids come from when set (shared by a server's shards, so an id is
  /// unique server-wide); else next_slowlog_id.
  std::shared_ptr<std::atomic<uint64_t>> shared_slowlog_ids;
  /// Commands taking at least this many microseconds are logged; negative: none.
  int64_t slowlog_threshold_us = 10000;
  uint64_t slowlog_max_len = 128;

  /// The counters of `c`.
  command_counters& of(const command& c);
  /// Counts one run of `c` that took `ns` and failed or not. Returns whether the run
  /// belongs in the slow log.
  bool record(const command& c, uint64_t ns, bool failed);
  /// Adds a slow-log entry for a run of `c` with `args` (kept abridged, secrets redacted).
  void log_slow(const command& c, uint64_t ns, const net::arg_list& args, store::millis now_ms,
                const std::string& client_addr, const std::string& client_name);
  /// Counts one refused call of `c`.
  void reject(const command& c) { ++of(c).rejected_calls; }
  /// Forgets every counter (CONFIG RESETSTAT); the slow log stays.
  void reset();
  /// Adds `other`'s counters, and its slow-log entries (newest first, at most
  /// slowlog_max_len kept).
  void add(const command_stats& other);
};

/// Nanoseconds on a monotonic clock, for timing commands.
uint64_t monotonic_ns() noexcept;

} // namespace otkv::cmd

#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace otkv::store {

/// Milliseconds since the Unix epoch; every time-dependent call takes it explicitly
/// so tests can move a virtual clock.
using millis = int64_t;

/// One stored value and its absolute expiry deadline (0 = no expiry).
struct entry {
  std::string value;
  millis expire_at = 0;
};

/// One partition of the keyspace: the key → value map with lazy and active expiry.
/// Not thread-safe by design: exactly one actor owns a partition at a time.
class partition {
public:
  /// The live entry for `key`, or nullptr. An expired entry is removed on access.
  entry* find(const std::string& key, millis now);

  /// Stores `value` under `key` with the given deadline (0 = none); returns the entry.
  entry& put(std::string key, std::string value, millis expire_at);

  /// Sets or clears (`at == 0`) the deadline of the live entry `e` stored under `key`.
  void set_expire(const std::string& key, entry& e, millis at);

  /// Removes `key`; returns whether a live key was removed.
  bool erase(const std::string& key, millis now);

  /// Removes every key.
  void clear();

  /// Number of stored keys, including expired ones not yet reclaimed.
  size_t size() const noexcept { return map_.size(); }

  /// Number of stored keys that carry a deadline.
  size_t expiring() const noexcept { return expiring_; }

  /// Calls `fn(key, entry)` for every live key.
  void for_each(millis now, const std::function<void(const std::string&, const entry&)>& fn) const;

  /// Active expiry: removes up to `max_work` keys whose deadline passed, earliest
  /// first. Returns the number removed.
  size_t sweep(millis now, size_t max_work);

  /// Total keys removed because their deadline passed (lazily or by the sweep).
  uint64_t expired_keys() const noexcept { return expired_total_; }

private:
  using deadline = std::pair<millis, std::string>;

  void push_deadline(const std::string& key, millis at);
  void compact_deadlines();

  std::unordered_map<std::string, entry> map_;
  std::vector<deadline> deadlines_; // min-heap; may hold stale pairs
  size_t expiring_ = 0;
  uint64_t expired_total_ = 0;
};

} // namespace otkv::store

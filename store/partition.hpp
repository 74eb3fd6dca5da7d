#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otkv::store {

/// Milliseconds since the Unix epoch; every time-dependent call takes it explicitly
/// so tests can move a virtual clock.
using millis = int64_t;

/// The kinds of change a partition reports to its mutation_sink (and the op log
/// records). Removal by expiry is not reported: deadlines are absolute, so replaying the
/// puts and deadlines later removes the same keys.
enum class mutation : uint8_t { put = 1, erase = 2, expire = 3, clear = 4 };

/// Receives every change made through put, set_expire, erase and clear.
class mutation_sink {
public:
  virtual ~mutation_sink() = default;
  /// `value` is set for put; `at` for put and expire.
  virtual void on_mutation(mutation op, std::string_view key, std::string_view value,
                           int64_t at) = 0;
};

/// One stored key: a single allocation holding the header, the key and the value.
class entry {
public:
  /// The key's bytes.
  std::string_view key() const noexcept { return {bytes(), key_len_}; }
  /// The value's bytes.
  std::string_view value() const noexcept { return {bytes() + key_len_, value_len_}; }
  /// Absolute deadline in Unix milliseconds; 0 = none.
  millis expire_at() const noexcept { return expire_at_; }

private:
  friend class partition;
  const char* bytes() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  char* bytes() noexcept { return reinterpret_cast<char*>(this + 1); }

  entry* next_ = nullptr;
  uint64_t hash_ = 0;
  millis expire_at_ = 0;
  uint32_t key_len_ = 0;
  uint32_t value_len_ = 0;
};

/// One partition of the keyspace: a chained hash table whose nodes hold key and value
/// inline (one allocation per key), with lazy and active expiry. The table doubles
/// incrementally, as Redis's does: a few old buckets move with each write (and with each
/// sweep), so no single request pays for rehashing every key.
/// Not thread-safe by design: exactly one actor owns a partition at a time.
class partition {
public:
  partition() = default;
  partition(const partition&) = delete;
  partition& operator=(const partition&) = delete;
  partition(partition&& other) noexcept;
  partition& operator=(partition&& other) noexcept;
  ~partition();

  /// The live entry for `key`, or nullptr. An expired entry is removed on access.
  entry* find(std::string_view key, millis now);

  /// Stores `value` under `key` with the given deadline (0 = none); returns the entry.
  /// Entries returned earlier for the same key are invalid afterwards.
  entry& put(std::string_view key, std::string_view value, millis expire_at);

  /// Sets or clears (`at == 0`) the deadline of the live entry `e`.
  void set_expire(entry& e, millis at);

  /// Removes `key`; returns whether a live key was removed.
  bool erase(std::string_view key, millis now);

  /// Removes every key.
  void clear();

  /// Number of stored keys, including expired ones not yet reclaimed.
  size_t size() const noexcept { return size_; }

  /// Number of stored keys that carry a deadline.
  size_t expiring() const noexcept { return expiring_; }

  /// Calls `fn(entry)` for every live key.
  void for_each(millis now, const std::function<void(const entry&)>& fn) const;

  /// Visits whole buckets from `position` (0 = start) until at least `count` live keys
  /// were passed to `fn`; returns the position to continue from, 0 when done. Keys
  /// present during the whole scan are visited at least once, even if the table grows
  /// in between (a position is a prefix of the bucket index, which growth extends).
  uint64_t scan(uint64_t position, size_t count, millis now,
                const std::function<void(const entry&)>& fn) const;

  /// Active expiry: removes up to `max_work` keys whose deadline passed, earliest
  /// first, and moves up to `max_work` buckets of a table being doubled. Returns the
  /// number of keys removed.
  size_t sweep(millis now, size_t max_work);

  /// Reports every later change to `sink` (nullptr: none). The sink must outlive its use.
  void set_sink(mutation_sink* sink) noexcept { sink_ = sink; }

  /// Length of the longest bucket chain (a diagnostic for tests).
  size_t longest_chain() const noexcept;

  /// Whether the table is being doubled (old buckets still to move; for tests).
  bool rehashing() const noexcept { return old_.slots != nullptr; }

  /// Total keys removed because their deadline passed (lazily or by the sweep).
  uint64_t expired_keys() const noexcept { return expired_total_; }

private:
  using deadline = std::pair<millis, std::string>;

  /// A bucket array of 2^bits chains (zeroed by calloc: no memset of a large table).
  struct table {
    entry** slots = nullptr;
    size_t size = 0;
    unsigned bits = 0;
  };

  /// The link that points at the entry for `key` (or the chain's null end).
  entry** slot_of(std::string_view key, uint64_t hash);
  /// The chain `hash` belongs to now: in the old table if its bucket has not moved yet.
  entry** chain_of(uint64_t hash);
  void grow();
  /// Moves up to `n` old buckets into the current table.
  void rehash_step(size_t n);
  void unlink_free(entry** link);
  void free_all();
  void push_deadline(const entry& e);
  void set_deadline(entry& e, millis at);
  void compact_deadlines();

  table buckets_;      // the current table
  table old_;          // the table being moved into buckets_ (slots null: none)
  size_t moved_ = 0;   // old buckets moved so far
  size_t size_ = 0;
  std::vector<deadline> deadlines_; // min-heap; may hold stale pairs
  size_t expiring_ = 0;
  uint64_t expired_total_ = 0;
  mutation_sink* sink_ = nullptr;
};

} // namespace otkv::store

#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/object.hpp"

namespace otkv::store {

/// Milliseconds since the Unix epoch; every time-dependent call takes it explicitly
/// so tests can move a virtual clock.
using millis = int64_t;

/// The kinds of change a partition reports to its mutation_sink (and the op log
/// records). Removal by expiry is not reported: deadlines are absolute, so replaying the
/// puts and deadlines later removes the same keys. `append` (key, suffix) and `setrange`
/// (key, bytes, offset in the i64 field) change an existing value: they carry the change,
/// not the result.
enum class mutation : uint8_t { put = 1, erase = 2, expire = 3, clear = 4, append = 5,
                                setrange = 6,
                                /// The whole partition replaced by an image (value: the
                                /// encode_partition_image bytes): a chain replica's full sync.
                                image = 7,
                                /// Op-log framing, not a change: the next N records (the
                                /// deadline field) are one group, replayed whole or not at
                                /// all (a transaction across partitions). Never applied.
                                group = 8,
                                /// A whole aggregate stored (value: encode_object's
                                /// bytes; at: the deadline): COPY, RENAME, …STORE.
                                object = 9,
                                /// An aggregate changed in place (value: packed strings,
                                /// the change's name first: apply_element replays it).
                                element = 10 };

/// The largest key or value a partition stores (as Redis's proto-max-bulk-len).
inline constexpr size_t max_value_size = size_t{512} * 1024 * 1024;

/// Receives every change made through put, set_expire, erase and clear.
class mutation_sink {
public:
  virtual ~mutation_sink() = default;
  /// `value` is set for put (the value), append (the suffix) and setrange (the bytes);
  /// `at` for put and expire (the deadline) and setrange (the offset).
  virtual void on_mutation(mutation op, std::string_view key, std::string_view value,
                           int64_t at) = 0;
  /// Whether the records are kept (false: `value` is not read, only the key is).
  virtual bool keeps_records() const noexcept { return true; }
};

/// One stored key: a single allocation holding the header, the key and the value.
class entry {
public:
  /// The key's bytes.
  std::string_view key() const noexcept { return {bytes(), key_len()}; }
  /// What the key holds.
  value_type type() const noexcept { return static_cast<value_type>(value_len_ >> type_shift); }
  /// The string value's bytes (type() == string).
  std::string_view value() const noexcept { return {bytes() + key_len(), value_len()}; }
  /// The aggregate (type() != string).
  store::object* object() const noexcept {
    store::object* o = nullptr;
    std::memcpy(&o, bytes() + key_len(), sizeof o);
    return o;
  }
  /// Absolute deadline in Unix milliseconds; 0 = none.
  millis expire_at() const noexcept { return expire_at_; }

private:
  friend class partition;
  const char* bytes() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  char* bytes() noexcept { return reinterpret_cast<char*>(this + 1); }
  uint32_t key_len() const noexcept { return key_bits_ & ~copied_bit; }
  uint32_t value_len() const noexcept { return value_len_ & ((1u << type_shift) - 1); }
  /// The type is kept in the top 3 bits of value_len_ (values are ≤ 512 MiB = 2^29).
  static constexpr unsigned type_shift = 29;
  bool copied() const noexcept { return (key_bits_ & copied_bit) != 0; }
  void set_copied(bool on) noexcept { key_bits_ = on ? key_bits_ | copied_bit : key_len(); }

  /// The top bit of key_bits_ is the snapshot's "copied" mark (keys are ≤ 512 MiB, so
  /// the length never needs it): an entry is still to be copied into the image being
  /// taken iff its mark differs from the partition's current one.
  static constexpr uint32_t copied_bit = 0x80000000u;

  entry* next_ = nullptr;
  uint64_t hash_ = 0;
  millis expire_at_ = 0;
  uint32_t key_bits_ = 0; // key length | copied_bit
  uint32_t value_len_ = 0; // length | type << type_shift; an aggregate's is its address
};

/// One partition of the keyspace: a chained hash table whose nodes hold key and value
/// inline (one allocation per key), with lazy and active expiry. The table doubles
/// incrementally, as Redis's does: a few old buckets move with each write (and with each
/// sweep), so no single request pays for rehashing every key.
/// Not thread-safe by design: exactly one actor owns a partition at a time.
/// What a partition does with a key whose deadline passed.
enum class expiry_mode : uint8_t {
  reclaim, ///< remove it on access and in sweep(), unrecorded (a single node: replay
           ///< expires it by its deadline too)
  record,  ///< the same, and tell the sink (an erase record): a chain's head, whose
           ///< replicas must remove it at the same point in the record stream
  hide,    ///< treat it as absent but keep it until an erase record removes it, and let
           ///< sweep() remove nothing: a chain's replica (its clock may run ahead)
};

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
  /// As find(key, now), with `hash` = key_hash(key) computed by the caller already.
  entry* find(std::string_view key, uint64_t hash, millis now);

  /// Stores `value` under `key` with the given deadline (0 = none); returns the entry.
  /// Entries returned earlier for the same key are invalid afterwards.
  entry& put(std::string_view key, std::string_view value, millis expire_at);
  /// As put(key, value, expire_at), with `hash` = key_hash(key) computed by the caller.
  entry& put(std::string_view key, uint64_t hash, std::string_view value, millis expire_at);

  /// APPEND: adds `suffix` to the live value of `key` (creating it without a deadline
  /// if there is none); returns the entry. The value grows in its own allocation
  /// (realloc, with headroom as Redis's sds: a large value is remapped, not copied);
  /// the sink gets an `append` record (a `put` when the key is new).
  /// Entries returned earlier for the same key are invalid afterwards.
  entry& append(std::string_view key, std::string_view suffix, millis now);

  /// SETRANGE: writes `bytes` at `offset` into the live value of `key`, padding with
  /// zero bytes, creating the key without a deadline if there is none; returns the
  /// entry. Changes the value in place (growing it as append does); the sink gets a
  /// `setrange` record with the offset as `at` — as −1 − offset when the key is new (a
  /// replay then starts from nothing, not from an entry that had expired here), or a
  /// `put` for a new key at offset 0. `offset + bytes.size()` must be ≤ max_value_size.
  entry& set_range(std::string_view key, size_t offset, std::string_view bytes, millis now);

  /// Stores the aggregate `value` under `key`, replacing what is there, with the given
  /// deadline (0 = none); the sink gets an `object` record. Returns the entry.
  entry& put_object(std::string_view key, std::unique_ptr<store::object> value,
                    millis expire_at);

  /// The live entry for `key` (hash = key_hash(key)) about to have its aggregate changed
  /// in place: an image being taken gets its version first. nullptr if there is none.
  /// Without `create` a missing key stays missing; with it, one holding an empty
  /// aggregate of type `create_as` is made (unrecorded: the change's element record
  /// makes it on replay).
  entry* find_for_change(std::string_view key, uint64_t hash, millis now,
                         bool create = false, value_type create_as = value_type::hash);

  /// Reports the in-place change of `key`'s aggregate to the sink as an element record
  /// (`change`: packed strings, its name first; see apply_element).
  void note_change(std::string_view key, std::string_view change) {
    if (sink_)
      sink_->on_mutation(mutation::element, key, change, 0);
  }

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

  /// Incremental point-in-time image (snapshots without stalling the partition).
  /// begin_image starts one: from then on every entry present is "pending" (one bit per
  /// entry, flipped by the begin); image_step encodes up to `max_entries` pending
  /// entries, walking the table as scan does; any change to a pending entry (put,
  /// erase, set_expire, append, set_range, clear, removal by expiry) first encodes its
  /// old version. Entries created after begin_image are not pending. So take_image,
  /// once image_step returned true, holds exactly the live keys (by `now`) of the
  /// moment begin_image was called, in the encode_partition_image format (u64 seq,
  /// u64 count, then u32 key length, key, u32 value length, value, i64 deadline).
  /// A begin_image while another image is unfinished abandons that one.
  void begin_image(uint64_t seq, millis now);
  /// Encodes up to `max_entries` pending entries; returns whether the image is complete.
  bool image_step(size_t max_entries);
  /// Drops an unfinished image (its taker is gone): marks the rest without encoding it.
  void abandon_image();
  /// Whether an image is under way (begun and not taken).
  bool imaging() const noexcept { return image_.active; }
  /// The finished image's bytes (call once image_step returned true); ends the image.
  std::string take_image();

  /// Reports every later change to `sink` (nullptr: none). The sink must outlive its use.
  void set_sink(mutation_sink* sink) noexcept { sink_ = sink; }
  /// Whether a change's record is kept by the sink; when not, a command that applies its
  /// change directly need not encode it (note_change still names the key).
  bool records_kept() const noexcept { return sink_ != nullptr && sink_->keeps_records(); }
  /// The sink changes are reported to (nullptr: none).
  mutation_sink* sink() const noexcept { return sink_; }

  /// How keys past their deadline are treated from now on (default: reclaim).
  void set_expiry_mode(expiry_mode mode) noexcept { expiry_ = mode; }
  expiry_mode expiry() const noexcept { return expiry_; }

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
  /// Destroys an entry that is no longer linked (its aggregate too).
  static void release(entry* e) noexcept;
  void free_all();
  void push_deadline(const entry& e);
  void set_deadline(entry& e, millis at);
  void compact_deadlines();
  /// Grows (or keeps) the allocation of the entry at `*link` to hold a value of `len`
  /// bytes (the old bytes kept); returns it. Relinks if realloc moved it.
  entry* resize_value(entry** link, size_t len);
  /// The link to the live entry for `key` (an expired one is removed), or nullptr.
  entry** live_link(std::string_view key, uint64_t hash, millis now);
  /// The entry that a new key gets (allocated, linked at `*link`, counted).
  entry* create(entry** link, std::string_view key, uint64_t hash, size_t value_len);
  /// If an image is under way and `e` is pending, encodes it into the image and marks it.
  void copy_pending(entry& e) {
    if (image_.active && e.copied() != image_.mark)
      copy_entry(e);
  }
  void copy_entry(entry& e);
  /// Marks every pending entry (copying it into the image if `encode`).
  void copy_all_pending(bool encode);

  /// The image being taken (see begin_image).
  struct image_state {
    bool active = false;
    bool mark = false;         // the "copied" value of entries not pending
    bool cursor_done = false;  // the walk reached the end of the table
    uint64_t cursor = 0;       // scan position of the walk
    millis now = 0;            // keys expired by then are left out
    uint64_t count = 0;
    std::string bytes;
  };

  table buckets_;      // the current table
  table old_;          // the table being moved into buckets_ (slots null: none)
  size_t moved_ = 0;   // old buckets moved so far
  size_t size_ = 0;
  size_t bytes_ = 0;   // key and value bytes of the stored entries (sizes an image)
  std::vector<deadline> deadlines_; // min-heap; may hold stale pairs
  size_t expiring_ = 0;
  uint64_t expired_total_ = 0;
  mutation_sink* sink_ = nullptr;
  expiry_mode expiry_ = expiry_mode::reclaim;
  /// Removes the expired entry at `link` (counted; an erase record in record mode).
  void expire_entry(entry** link);
  image_state image_;
};

/// Appends `e` as an image entry: u32 key length, key, the value, i64 deadline. A string
/// value is a u32 length and its bytes; an aggregate is the u32 image_object_marker | its
/// type, a u64 length and encode_object's bytes (older images hold strings only).
void put_image_entry(std::string& out, const entry& e);

/// The top bit of an image entry's value length: an aggregate follows (put_image_entry).
inline constexpr uint32_t image_object_marker = 0x80000000u;

} // namespace otkv::store

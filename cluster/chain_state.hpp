#pragma once

// One partition's place in its replication chain (docs/replication.md): which of its
// changes are committed (applied by the chain's tail) and which are still dirty, the
// records sent down the chain and not yet acknowledged, and the replies waiting for a
// commit. Plain C++: the partition worker that holds the partition's token owns it.

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace otkv::cluster {

/// A node's position in a chain.
enum class chain_role : uint8_t {
  head,   ///< takes the writes, sends their records down
  middle, ///< applies records from its predecessor, sends them on
  tail,   ///< applies records, commits them, sends the commit back up
};

/// "head", "middle" or "tail".
const char* to_string(chain_role r);

/// Records sent down the chain: (first, last] record numbers and their bytes.
struct sent_records {
  uint64_t after = 0; ///< the last record number before them
  uint64_t last = 0;
  std::string bytes;
};

/// See the file comment. Record numbers are the partition's op-log sequence numbers,
/// the same on every node of the chain (the head numbers them).
class chain_state {
public:
  explicit chain_state(chain_role role, uint64_t applied = 0);

  chain_role role() const noexcept { return role_; }
  /// The chain was reconfigured (docs/replication.md, "Failover"): this node's place in
  /// it is `role` from now on. (A new tail commits what it has: the caller's commit().)
  void set_role(chain_role role) noexcept { role_ = role; }

  /// The newest record number the tail applied, as far as this node knows.
  uint64_t committed() const noexcept { return committed_; }

  /// Record `seq` changed `key` (every key: `all`, as FLUSHALL) here. On the tail a
  /// change is committed at once; elsewhere the key is dirty until commit(seq).
  void changed(std::string_view key, uint64_t seq, bool all = false);

  /// The record number a read of `key` must wait for: the newest uncommitted change of
  /// it, or 0 when the key is clean (answer at once).
  uint64_t dirty_seq(std::string_view key) const;
  /// The newest uncommitted record number of the partition, 0 when all are committed:
  /// what a read of the whole keyspace (DBSIZE, KEYS, SCAN) waits for.
  uint64_t newest_dirty() const noexcept { return dirty_all_ > newest_ ? dirty_all_ : newest_; }
  /// Whether any change here is uncommitted.
  bool any_dirty() const noexcept { return newest_dirty() > committed_; }

  /// Records up to `seq` are committed: their keys turn clean and the records sent down
  /// up to it are forgotten. Returns false (and changes nothing) if `seq` is not newer.
  bool commit(uint64_t seq);

  /// After a restart the node cannot tell which of the records it has were committed:
  /// every read waits until the commit reaches `seq` (its last record).
  void all_dirty_until(uint64_t seq);

  /// Keeps records (after, last] sent down the chain until they are committed.
  void keep_sent(uint64_t after, uint64_t last, std::string bytes);
  /// The records sent and not yet committed, oldest first (to send again).
  const std::deque<sent_records>& sent() const noexcept { return sent_; }
  /// Bytes of the records sent and not yet committed.
  uint64_t sent_bytes() const noexcept { return sent_bytes_; }
  /// Forgets the oldest Sent records until at most `max_bytes` are kept (the next node,
  /// stuck meanwhile, then needs a full copy). Returns how many were forgotten.
  size_t trim_sent(uint64_t max_bytes);

  /// Whether records (after, last] can be applied on top of `applied`: they start at or
  /// before the next record and bring at least one new one.
  static bool fits(uint64_t applied, uint64_t after, uint64_t last) noexcept {
    return after <= applied && last > applied;
  }

private:
  chain_role role_;
  uint64_t committed_ = 0;
  uint64_t newest_ = 0;    ///< newest record number that made a key dirty
  uint64_t dirty_all_ = 0; ///< every key is dirty until this record commits
  std::unordered_map<std::string, uint64_t> dirty_; ///< key → newest uncommitted change
  std::deque<std::pair<uint64_t, std::string>> order_; ///< (record, key), oldest first
  std::deque<sent_records> sent_;
  uint64_t sent_bytes_ = 0;
};

/// Replies held until the commit reaches the record number they depend on (the writes
/// they made, the dirty versions they read). T is what a holder sends once released.
template <class T>
class held_replies {
public:
  /// Holds `value`, from time `now` (ms), until the commit reaches `seq`.
  void hold(uint64_t seq, int64_t now, T value) {
    held_.push_back({seq, now, std::move(value)});
  }
  /// Calls `fn(value)` for every held value whose record number is committed, in the
  /// order they were held, and forgets them.
  template <class F>
  void release(uint64_t committed, F&& fn) {
    auto keep = held_.begin();
    for (auto i = held_.begin(); i != held_.end(); ++i) {
      if (i->seq <= committed)
        fn(std::move(i->value));
      else if (keep != i)
        *keep++ = std::move(*i);
      else
        ++keep;
    }
    held_.erase(keep, held_.end());
  }
  /// Forgets the values held since before `before` (ms): their requests were answered
  /// with a timeout long ago. Returns how many.
  size_t drop_older(int64_t before) {
    size_t n = 0;
    while (!held_.empty() && held_.front().since < before) {
      held_.pop_front();
      ++n;
    }
    return n;
  }
  size_t size() const noexcept { return held_.size(); }
  bool empty() const noexcept { return held_.empty(); }

private:
  struct entry {
    uint64_t seq;
    int64_t since;
    T value;
  };
  std::deque<entry> held_;
};

} // namespace otkv::cluster

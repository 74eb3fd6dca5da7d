#pragma once

// WATCH's bookkeeping for one partition (docs/transactions.md): which connections watch
// which keys. A change of a watched key (any write, an expiry, FLUSHALL) marks each of
// its watchers dirty, and their EXEC then answers a nil array. Touched only by the holder
// of the partition's token; a watcher's flag is an atomic its connection reads.

#include <algorithm>
#include <atomic>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace otkv::store {

/// A connection's WATCH state: dirty once a key it watches changed.
using watch_flag = std::shared_ptr<std::atomic<bool>>;

/// See the file comment.
class watch_table {
public:
  /// Whether no key is watched (the common case: one test per change).
  bool empty() const noexcept { return keys_.empty(); }
  /// How many keys are watched.
  size_t size() const noexcept { return keys_.size(); }

  /// `flag`'s connection watches `key`. Forgets the key's watchers that went away.
  void watch(std::string_view key, const watch_flag& flag) {
    auto& flags = keys_[std::string(key)];
    drop_gone(flags);
    flags.push_back(flag);
  }
  /// `key` changed: its watchers are dirty, and it is watched no more.
  void touch(std::string_view key) {
    auto it = keys_.find(std::string(key));
    if (it == keys_.end())
      return;
    for (auto& f : it->second)
      f->store(true, std::memory_order_release);
    keys_.erase(it);
  }
  /// Every key changed (FLUSHALL, a full copy): every watcher is dirty.
  void touch_all() {
    for (auto& [key, flags] : keys_)
      for (auto& f : flags)
        f->store(true, std::memory_order_release);
    keys_.clear();
  }
  /// Forgets the watchers whose connection dropped its flag (UNWATCH, EXEC, a close).
  void purge() {
    for (auto it = keys_.begin(); it != keys_.end();) {
      drop_gone(it->second);
      it = it->second.empty() ? keys_.erase(it) : std::next(it);
    }
  }

private:
  static void drop_gone(std::vector<watch_flag>& flags) {
    flags.erase(std::remove_if(flags.begin(), flags.end(),
                               [](const watch_flag& f) { return f.use_count() == 1; }),
                flags.end());
  }

  std::unordered_map<std::string, std::vector<watch_flag>> keys_;
};

} // namespace otkv::store

#pragma once

// The requests that wait on a partition (BLPOP, BZPOPMIN, …: docs/data-types.md, "Blocking
// commands"). A blocking command that finds nothing to take is parked here by the worker
// that ran it, under each of its keys in arrival order; a later write to one of those keys
// runs it again (the oldest first), and its timeout answers it with a null array. It lives
// in the partition's slot, so a fresh worker that replaces a dead one keeps serving it.
// Only the holder of the partition's token touches it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/batches.hpp"
#include "commands/dispatch.hpp"
#include "store/partition.hpp"

namespace otkv {

/// Where a partition worker sends the replies of a batch: the front end that sent it
/// (the logger forwards them with appendfsync always).
using batch_sink = caf::typed_actor<
  /// The results of one work_batch.
  caf::reacts_to<done_batch>>;

/// The parked requests of one partition. See the file comment.
class blocked_requests {
public:
  /// One parked request.
  struct request {
    work_item item;          ///< as it came in its batch
    batch_sink reply_to;     ///< its front end
    store::millis deadline;  ///< monotonic ms at which it times out (0: never)
  };

  /// Parks `item`, answered later through `reply_to`; it waits on its command's first
  /// `keys` keys (0: all); `deadline` as request::deadline.
  void park(work_item item, batch_sink reply_to, store::millis deadline, uint32_t keys = 0) {
    uint64_t id = next_id_++;
    std::vector<std::string_view> seen;
    uint32_t n = 0;
    cmd::for_each_key(*item.cmd, item.args, [&](int k) {
      if (keys != 0 && n++ >= keys)
        return;
      std::string_view key = item.args[static_cast<size_t>(k)];
      for (auto s : seen)
        if (s == key)
          return; // a key named twice waits once
      seen.push_back(key);
      by_key_[std::string(key)].push_back(id);
    });
    requests_.emplace(id, request{std::move(item), std::move(reply_to), deadline});
    if (deadline != 0)
      deadlines_.emplace(deadline, id);
  }

  /// The earliest deadline of a waiting request (0: none has one).
  store::millis next_deadline() const {
    return deadlines_.empty() ? 0 : deadlines_.begin()->first;
  }

  /// What running a waiting request again gave (serve's `run`).
  enum class outcome {
    served,  ///< answered: it leaves
    waits,   ///< the key holds another type: it keeps waiting, the next one may be served
    empty,   ///< the key holds nothing: it and every one behind it keep waiting
  };

  /// How many requests wait.
  size_t size() const { return requests_.size(); }
  bool empty() const { return requests_.empty(); }

  /// Whether a request waits on `key`.
  bool waits_on(const std::string& key) const { return by_key_.count(key) > 0; }

  /// Every key a request waits on, in the order to offer them after a change made
  /// elsewhere (EXEC, EVAL): the oldest request's keys first, in its order, then the next
  /// request's others, … (deterministic, and the oldest waiter is served first).
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    std::unordered_set<std::string_view> seen;
    for (const auto& [id, r] : requests_)
      cmd::for_each_key(*r.item.cmd, r.item.args, [&](int k) {
        const auto& key = r.item.args[static_cast<size_t>(k)];
        if (by_key_.count(key) > 0 && seen.insert(key).second)
          out.push_back(key);
      });
    return out;
  }

  /// Offers `key` to the requests waiting on it, oldest first: `run(request)` runs one
  /// again (outcome). An answered request leaves every key it waited on.
  template <class Run>
  void serve(const std::string& key, Run&& run) {
    for (size_t i = 0;;) {
      auto at = by_key_.find(key);
      if (at == by_key_.end())
        return;
      auto& ids = at->second;
      while (i < ids.size() && requests_.count(ids[i]) == 0)
        ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(i)); // gone through another key
      if (ids.empty()) {
        by_key_.erase(at);
        return;
      }
      if (i >= ids.size())
        return;
      uint64_t id = ids[i];
      switch (run(requests_.at(id))) {
        case outcome::served:
          remove(id); // `ids[i]` is the next one now
          break;
        case outcome::waits:
          ++i;
          break;
        case outcome::empty:
          return;
      }
    }
  }

  /// Answers the requests whose deadline is at or before `now` (monotonic) with
  /// `answer(request)`, and forgets them.
  template <class Answer>
  void expire(store::millis now, Answer&& answer) {
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      uint64_t id = deadlines_.begin()->second;
      answer(requests_.at(id));
      remove(id);
    }
  }

  /// Forgets request `seq` of connection `conn` of the front end `front` (the connection
  /// closed, or the front end answered the request already).
  void cancel(const batch_sink& front, uint64_t conn, uint64_t seq) {
    for (const auto& [id, r] : requests_)
      if (r.item.conn == conn && r.item.seq == seq && r.reply_to == front)
        return remove(id);
  }

private:
  /// Forgets request `id` and its place under each key.
  void remove(uint64_t id) {
    auto at = requests_.find(id);
    if (at == requests_.end())
      return;
    const auto& item = at->second.item;
    cmd::for_each_key(*item.cmd, item.args, [&](int k) {
      auto q = by_key_.find(item.args[static_cast<size_t>(k)]);
      if (q == by_key_.end())
        return;
      auto& ids = q->second;
      for (auto i = ids.begin(); i != ids.end(); ++i)
        if (*i == id) {
          ids.erase(i);
          break;
        }
      if (ids.empty())
        by_key_.erase(q);
    });
    if (at->second.deadline != 0)
      deadlines_.erase({at->second.deadline, id});
    requests_.erase(at);
  }

  uint64_t next_id_ = 0;
  std::map<uint64_t, request> requests_; ///< by arrival
  std::unordered_map<std::string, std::deque<uint64_t>> by_key_;
  std::set<std::pair<store::millis, uint64_t>> deadlines_; ///< (deadline, id), soonest first
};

} // namespace otkv

#pragma once

// A partition's part in its replication chain (docs/replication.md), kept in its
// partition_slot so that it outlives the workers that serve it: the chain state, the
// mutation sink that marks changed keys dirty, and the replies waiting for a commit.

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>

#include "actors/interfaces.hpp"
#include "cluster/chain_state.hpp"
#include "cluster/cluster_view.hpp"
#include "store/journal.hpp"

namespace otkv {

/// What a node's partition workers need to take part in their chain: the node's role
/// and its link, which carries records down and commits up (actors/cluster_node.hpp).
class chain_hub {
public:
  explicit chain_hub(std::shared_ptr<const cluster::view> view) : view_(std::move(view)) {}
  /// The node's place in its chain now (it changes when the chain is reconfigured).
  cluster::chain_role role() const noexcept { return view_->role(); }
  /// The node's view of its cluster: the chain layout in force.
  const cluster::view& view() const noexcept { return *view_; }
  /// Where partition `p` publishes its progress (INFO replication).
  cluster::chain_progress& progress(uint32_t p) const { return view_->progress(p); }
  /// The node's link (set once it is spawned; invalid before).
  chain_link link() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return link_;
  }
  void set_link(const caf::actor& link) {
    std::lock_guard<std::mutex> guard{mutex_};
    link_ = caf::actor_cast<chain_link>(link);
  }

private:
  std::shared_ptr<const cluster::view> view_;
  mutable std::mutex mutex_;
  chain_link link_;
};

/// Passes each change to the partition's journal (which numbers it), then marks the key
/// dirty under that number.
class chain_sink : public store::mutation_sink {
public:
  chain_sink(store::journal_buffer& journal, cluster::chain_state& state)
    : journal_(journal), state_(state) {}
  void on_mutation(store::mutation op, std::string_view key, std::string_view value,
                   int64_t at) override {
    journal_.on_mutation(op, key, value, at);
    state_.changed(key, journal_.last_seq(),
                   op == store::mutation::clear || op == store::mutation::image);
  }

private:
  store::journal_buffer& journal_;
  cluster::chain_state& state_;
};

/// See the file comment.
struct chain_replica {
  chain_replica(cluster::chain_role role, store::journal_buffer& journal)
    : state(role, journal.last_seq()), sink(journal, state), shipped(journal.last_seq()) {}
  chain_replica(const chain_replica&) = delete;
  chain_replica& operator=(const chain_replica&) = delete;

  cluster::chain_state state;
  chain_sink sink;
  /// Replies waiting for the commit of the records they depend on, and where they go.
  cluster::held_replies<std::pair<done_batch, batch_sink>> held;
  uint64_t shipped;             ///< the head: the last record sent down the chain
  int64_t last_progress_ms = 0; ///< when the commit last moved (or records were resent)
  int64_t last_pulse_ms = 0;    ///< when this node last told its predecessor its state
  uint64_t next_applied = 0;    ///< the successor's last record, as it last said
  /// Whether this node knows it has every committed record (docs/replication.md, "In
  /// sync"): until then it answers nothing but -TRYAGAIN.
  bool synced = false;
  bool pulling = false;         ///< the head asked its successor for a full copy
  int64_t pull_started_ms = 0;
  bool syncing = false;         ///< an image is on its way to the successor
  int64_t sync_started_ms = 0;  ///< when it was sent
  /// The chain layout this partition follows (cluster::view::epoch) and its neighbours
  /// in it (-1: none): when the view's epoch moves on, chain_follow_view catches up
  /// (the first call always does).
  uint64_t epoch = ~uint64_t{0};
  int predecessor = -1;
  int successor = -1;
};

} // namespace otkv

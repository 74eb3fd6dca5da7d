#pragma once

// A running node's view of its cluster: the configuration, which node it is, which node
// serves each slot and which nodes it can reach now. Shared (read-only but for the
// reachability flags) by the node's shards and read by the CLUSTER commands. Plain C++.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/chain_state.hpp"
#include "cluster/cluster_config.hpp"
#include "cluster/slots.hpp"

namespace otkv::cluster {

/// The steady clock in ms: the clock of view::serving() and of the lease it checks.
inline int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// One partition's replication progress, as its worker last published it (INFO).
struct chain_progress {
  std::atomic<uint64_t> applied{0};    ///< its last record here
  std::atomic<uint64_t> committed{0};  ///< the last record the tail applied, as known here
  std::atomic<uint64_t> sent_bytes{0}; ///< bytes sent down the chain and not yet committed
  std::atomic<uint64_t> next_applied{0}; ///< the next node's last record, as it last said
  std::atomic<bool> synced{true}; ///< whether it serves (it has every committed record)
};

/// See the file comment.
class view {
public:
  /// The view of node `self` of `cfg`; `redirect`: answer -MOVED instead of forwarding.
  view(cluster_config cfg, uint32_t self, bool redirect);

  /// The configuration as read (the nodes; their slots as at start: see ranges()).
  const cluster_config& config() const { return cfg_; }
  /// This node's index in config().nodes.
  uint32_t self() const { return self_; }
  /// This node.
  const node_config& myself() const { return cfg_.nodes[self_]; }
  /// Whether a request for another node's slot is answered -MOVED (else forwarded).
  bool redirect() const { return redirect_; }
  /// How many nodes.
  uint32_t nodes() const { return static_cast<uint32_t>(cfg_.nodes.size()); }

  /// The node (index in config().nodes) serving `slot` now.
  uint32_t owner(uint16_t slot) const { return node_of_ordinal_[ordinal(slot)]; }
  /// The routing ordinal of the node serving `slot`: 0 for this node, 1 … for the others
  /// in config order (a front end's partitions of node ordinal o come after o × its own).
  uint16_t ordinal(uint16_t slot) const {
    return ordinal_of_slot_[slot].load(std::memory_order_acquire);
  }
  /// Every slot's ordinal (as ordinal()), for cmd::key_router.
  const std::atomic<uint16_t>* slot_ordinals() const { return ordinal_of_slot_.get(); }
  /// The node index of routing ordinal `o`.
  uint32_t node_of_ordinal(uint32_t o) const { return node_of_ordinal_[o]; }
  /// The routing ordinal of node `n`.
  uint32_t ordinal_of_node(uint32_t n) const { return ordinal_of_node_[n]; }

  // -- chains (docs/replication.md) ------------------------------------------------
  // A chain's nodes (its roster) are those the cluster file links; which of them serve
  // now, and in which order, changes when a coordinator (etcd) removes a failed node or
  // adds a returning one at the tail (set_chains). Readers on any thread see the new
  // layout within a moment; each getter is consistent on its own.

  /// Whether slots are served by chains of more than one node.
  bool replicated() const { return cfg_.replicas > 1; }
  /// How many chains.
  uint32_t chain_count() const { return static_cast<uint32_t>(roster_.size()); }
  /// The chains as they serve now: node indexes, head first.
  std::vector<std::vector<uint32_t>> chains() const;
  /// Chain `c` as it serves now, head first.
  std::vector<uint32_t> chain(uint32_t c) const;
  /// The chains as the cluster file links them (every node that may serve in each).
  const std::vector<std::vector<uint32_t>>& roster() const { return roster_; }
  /// The chain node `n` belongs to (index in chains()).
  uint32_t chain_of(uint32_t n) const { return chain_of_node_[n]; }
  /// The head of node `n`'s chain now.
  uint32_t head_of(uint32_t n) const;
  /// Whether node `n` serves in its chain now (false once it was removed).
  bool active(uint32_t n) const { return active_[n].load(std::memory_order_acquire); }
  /// This node's place in its chain.
  chain_role role() const { return role_.load(std::memory_order_acquire); }
  /// The nodes before and after this one in its chain (-1: none).
  int predecessor() const { return predecessor_.load(std::memory_order_acquire); }
  int successor() const { return successor_.load(std::memory_order_acquire); }
  /// The chain layout's epoch: 0 as the cluster file has it, then one more per change.
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  /// Chain layout `chains` (per chain of roster(), its serving nodes in order, at least
  /// one) of epoch `epoch` is in force. Returns "" or why it does not fit the roster.
  std::string set_chains(const std::vector<std::vector<uint32_t>>& chains, uint64_t epoch);
  /// Whether every serving node of chain `c` is reachable (its writes can commit).
  bool chain_up(uint32_t c) const {
    for (auto n : roster_[c])
      if (active(n) && !up(n))
        return false;
    return true;
  }
  /// Whether every chain is complete.
  bool all_chains_up() const {
    for (uint32_t c = 0; c < chain_count(); ++c)
      if (!chain_up(c))
        return false;
    return true;
  }
  /// Whether node `n` is in the chain serving `slot`.
  bool member(uint16_t slot, uint32_t n) const { return chain_of(owner(slot)) == chain_of(n); }
  /// Reads' routing ordinal per slot: this node (0) for its own chain's slots, which it
  /// reads itself, else the head's (as slot_ordinals()).
  const std::atomic<uint16_t>* read_ordinals() const { return read_ordinal_of_slot_.get(); }
  /// The node ordinals a request for every key goes to, one per chain: writes to the
  /// heads; reads to this node for its own chain, to the heads for the others.
  const std::vector<std::atomic<uint32_t>>& fan_ordinals(bool write) const {
    return write ? write_fan_ : read_fan_;
  }

  // -- coordination (--cluster-etcd) -------------------------------------------------
  /// Whether a coordinator holds the chain layout: then this node serves only while its
  /// lease is surely valid and it is in its chain.
  bool coordinated() const { return coordinated_.load(std::memory_order_acquire); }
  /// Turns coordination on (before serving).
  void set_coordinated() { coordinated_.store(true, std::memory_order_release); }
  /// This node's lease is surely valid until `steady_ms` (its steady clock, ms).
  void set_lease_until(int64_t steady_ms) {
    lease_until_ms_.store(steady_ms, std::memory_order_release);
  }
  /// Whether this node may serve at steady time `now_ms`: without a coordinator always;
  /// with one while its lease is valid and it is in its chain.
  bool serving(int64_t now_ms) const {
    return !coordinated()
           || (active(self_) && now_ms < lease_until_ms_.load(std::memory_order_acquire));
  }

  /// Partition `p`'s replication progress (published by its worker).
  chain_progress& progress(uint32_t p) const { return progress_[p]; }
  /// INFO's # Replication section.
  std::string replication_info() const;
  /// A digest of the nodes (ids and addresses, in order) and the partition count: two
  /// nodes read the same cluster file (slots aside, which move) when theirs are equal.
  uint64_t nodes_digest() const;
  /// The node whose id is `id`, or -1.
  int node_of_id(const std::string& id) const;
  /// The slot ranges node `n` serves now, ascending.
  std::vector<slot_range> ranges(uint32_t n) const;
  /// The configuration with the slots as served now (what a node writes back to its
  /// cluster file after slots moved).
  cluster_config current() const;
  /// Slots first … last are node `n`'s from now on (a move finished).
  void assign(uint16_t first, uint16_t last, uint32_t n);

  /// Whether slot `slot` is being moved: requests for it answer -TRYAGAIN.
  bool frozen(uint16_t slot) const {
    return frozen_count_.load(std::memory_order_acquire) > 0
           && frozen_[slot].load(std::memory_order_acquire);
  }
  /// Whether any slot is being moved.
  bool any_frozen() const { return frozen_count_.load(std::memory_order_acquire) > 0; }
  /// Marks slots first … last as being moved (true) or not.
  void freeze(uint16_t first, uint16_t last, bool on);

  /// Whether node `n` is reachable now (this node always is).
  bool up(uint32_t n) const { return n == self_ || up_[n].load(std::memory_order_relaxed); }
  /// Records whether node `n` is reachable.
  void set_up(uint32_t n, bool is_up) { up_[n].store(is_up, std::memory_order_relaxed); }
  /// How many nodes are reachable (this one included).
  uint32_t reachable() const;
  /// "ok" when every serving node is reachable (and, with chains, this node serves and
  /// its partitions are in sync), else "fail" (CLUSTER INFO's cluster_state).
  bool ok() const;
  /// Whether every partition of this node is in sync with its chain (always without).
  bool synced() const;

  /// The -MOVED target of `slot`: "host:port" of the node serving it.
  std::string address_of(uint16_t slot) const;

  /// What the last slot move did (INFO cluster): "" before any.
  std::string move_status() const;
  /// Records what the slot move under way does.
  void set_move_status(std::string text);

private:
  /// Recomputes read_ordinals() for slots first … last.
  void update_reads(uint16_t first, uint16_t last);

  cluster_config cfg_;
  uint32_t self_;
  bool redirect_;
  std::unique_ptr<std::atomic<uint16_t>[]> ordinal_of_slot_;
  std::unique_ptr<std::atomic<uint16_t>[]> read_ordinal_of_slot_;
  std::vector<std::vector<uint32_t>> roster_;
  std::vector<std::vector<slot_range>> chain_slots_; ///< per chain, as its file head lists
  std::vector<uint32_t> chain_of_node_;
  mutable std::mutex chains_mutex_; ///< guards chains_ (the rest are atomics)
  std::vector<std::vector<uint32_t>> chains_;
  std::unique_ptr<std::atomic<bool>[]> active_;
  std::atomic<chain_role> role_{chain_role::head};
  std::atomic<int> predecessor_{-1};
  std::atomic<int> successor_{-1};
  std::atomic<uint64_t> epoch_{0};
  std::vector<std::atomic<uint32_t>> write_fan_;
  std::vector<std::atomic<uint32_t>> read_fan_;
  std::atomic<bool> coordinated_{false};
  std::atomic<int64_t> lease_until_ms_{0};
  std::unique_ptr<chain_progress[]> progress_;
  std::vector<uint32_t> node_of_ordinal_;
  std::vector<uint32_t> ordinal_of_node_;
  std::unique_ptr<std::atomic<bool>[]> up_;
  std::unique_ptr<std::atomic<bool>[]> frozen_;
  std::atomic<int> frozen_count_{0};
  mutable std::mutex move_mutex_;
  std::string move_status_;
};

} // namespace otkv::cluster

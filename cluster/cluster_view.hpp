#pragma once

// A running node's view of its cluster: the configuration, which node it is, which node
// serves each slot and which nodes it can reach now. Shared (read-only but for the
// reachability flags) by the node's shards and read by the CLUSTER commands. Plain C++.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/cluster_config.hpp"
#include "cluster/slots.hpp"

namespace otkv::cluster {

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
  /// "ok" when every slot's node is reachable, else "fail" (CLUSTER INFO's cluster_state).
  bool ok() const { return reachable() == nodes(); }

  /// The -MOVED target of `slot`: "host:port" of the node serving it.
  std::string address_of(uint16_t slot) const;

  /// What the last slot move did (INFO cluster): "" before any.
  std::string move_status() const;
  /// Records what the slot move under way does.
  void set_move_status(std::string text);

private:
  cluster_config cfg_;
  uint32_t self_;
  bool redirect_;
  std::unique_ptr<std::atomic<uint16_t>[]> ordinal_of_slot_;
  std::vector<uint32_t> node_of_ordinal_;
  std::vector<uint32_t> ordinal_of_node_;
  std::unique_ptr<std::atomic<bool>[]> up_;
  std::unique_ptr<std::atomic<bool>[]> frozen_;
  std::atomic<int> frozen_count_{0};
  mutable std::mutex move_mutex_;
  std::string move_status_;
};

} // namespace otkv::cluster

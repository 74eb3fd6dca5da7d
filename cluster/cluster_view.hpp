#pragma once

// A running node's view of its cluster: the configuration, which node it is, which node
// serves each slot and which nodes it can reach now. Shared (read-only but for the
// reachability flags) by the node's shards and read by the CLUSTER commands. Plain C++.

#include <atomic>
#include <cstdint>
#include <memory>
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

  /// The configuration as read.
  const cluster_config& config() const { return cfg_; }
  /// This node's index in config().nodes.
  uint32_t self() const { return self_; }
  /// This node.
  const node_config& myself() const { return cfg_.nodes[self_]; }
  /// Whether a request for another node's slot is answered -MOVED (else forwarded).
  bool redirect() const { return redirect_; }
  /// How many nodes.
  uint32_t nodes() const { return static_cast<uint32_t>(cfg_.nodes.size()); }

  /// The node (index in config().nodes) serving `slot`.
  uint32_t owner(uint16_t slot) const { return owner_[slot]; }
  /// Each slot's serving node as a routing ordinal: 0 for this node, 1 … for the others
  /// in config order (a front end's partitions of node ordinal o come after o × its own).
  const std::vector<uint16_t>& slot_ordinals() const { return ordinal_of_slot_; }
  /// The node index of routing ordinal `o`.
  uint32_t node_of_ordinal(uint32_t o) const { return node_of_ordinal_[o]; }
  /// The routing ordinal of node `n`.
  uint32_t ordinal_of_node(uint32_t n) const { return ordinal_of_node_[n]; }

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

private:
  cluster_config cfg_;
  uint32_t self_;
  bool redirect_;
  std::vector<uint32_t> owner_;
  std::vector<uint16_t> ordinal_of_slot_;
  std::vector<uint32_t> node_of_ordinal_;
  std::vector<uint32_t> ordinal_of_node_;
  std::unique_ptr<std::atomic<bool>[]> up_;
};

} // namespace otkv::cluster

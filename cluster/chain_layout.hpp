#pragma once

// The chain layout a coordinator (etcd) keeps for a replicated cluster: which nodes
// serve in each chain, in which order, under which epoch; and the rules by which the
// nodes change it (docs/replication.md, "Failover"): a failed node is removed, a
// returning one is added at its chain's tail. Plain C++, no I/O.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "cluster/cluster_view.hpp"

namespace otkv::cluster {

/// See the file comment. Nodes are named by their ids.
struct chain_layout {
  uint64_t epoch = 0;
  std::vector<std::vector<std::string>> chains; ///< per chain of the roster, head first
  bool operator==(const chain_layout& o) const {
    return epoch == o.epoch && chains == o.chains;
  }
};

/// The layout as the cluster file has it (every node serving, epoch 0).
chain_layout initial_layout(const view& v);

/// The layout's JSON text: {"epoch": E, "chains": [["id", …], …]}.
std::string to_json(const chain_layout& layout);
/// Reads to_json's text. Returns "" or why not.
std::string parse_layout(const std::string& text, chain_layout& out);

/// The layout as node indexes of `v` (for view::set_chains). Returns "" or why it does
/// not fit (a node not in the cluster file).
std::string layout_indexes(const view& v, const chain_layout& layout,
                           std::vector<std::vector<uint32_t>>& out);

/// Whether node `id` serves in `layout`.
bool listed(const chain_layout& layout, const std::string& id);

/// The layout that follows `now`, seen from node `self`, or `now` itself if nothing
/// changes (the epoch says which):
/// - a node in `failed` (its lease expired a while ago) is removed from its chain, as
///   long as another node of the chain that is in sync (`synced`) and not failed
///   remains: a chain never loses its last copy of the committed records;
/// - `self`, when `join` and not listed, is added at the tail of chain `self_chain`.
chain_layout next_layout(const chain_layout& now, const std::set<std::string>& failed,
                         const std::set<std::string>& synced, const std::string& self,
                         uint32_t self_chain, bool join);

} // namespace otkv::cluster

#pragma once

// A cluster's description: one JSON file, the same on every node (--cluster-config). It
// names each node (id, client address, cluster address) and the slot ranges it serves.
// Plain C++: the server reads it at start, `otkv-server --cluster-init` writes it.

#include <cstdint>
#include <string>
#include <vector>

namespace otkv::cluster {

/// Slots first … last (inclusive).
struct slot_range {
  uint16_t first = 0;
  uint16_t last = 0;
};

/// One node of the cluster.
struct node_config {
  std::string id;           ///< 40 hex digits, as Redis Cluster node ids
  std::string host;         ///< where clients reach it
  uint16_t port = 0;        ///< its client port
  std::string cluster_host; ///< where the other nodes reach it (CAF's middleman)
  uint16_t cluster_port = 0;
  std::vector<slot_range> slots; ///< the slots it serves, ascending (a chain's head)
  /// With replication: the id of the node before it in its chain (docs/replication.md);
  /// empty for a chain's head, which lists the chain's slots.
  std::string follows;
};

/// The whole cluster.
struct cluster_config {
  /// Partitions of every node: a request forwarded to another node names one of its
  /// partitions, so all nodes must have the same count.
  uint32_t partitions = 0;
  /// Nodes per chain: every slot is served by a chain of this many nodes (1: no
  /// replication, each node serves its own slots).
  uint32_t replicas = 1;
  std::vector<node_config> nodes;
};

/// Parses and checks a cluster file's text: every node has a unique id, a host and
/// ports; every one of the 16384 slots is served by exactly one node (the head of a
/// chain of `replicas` nodes linked by "follows"). Returns an error message, or "" with
/// `out` filled.
std::string parse_cluster_config(const std::string& json_text, cluster_config& out);

/// The file's text for `cfg` (what parse_cluster_config reads back).
std::string to_json(const cluster_config& cfg);

/// A cluster of the nodes at `addresses` ("host:port", comma-separated), the slots split
/// evenly in order, each node's cluster port its client port + `cluster_port_offset`
/// (Redis's convention: 10000), fresh random ids. With `replicas` > 1 every `replicas`
/// nodes in a row form a chain (the first its head) and the slots are split between the
/// chains. Returns an error message, or "".
std::string even_cluster(const std::string& addresses, uint32_t partitions,
                         uint32_t cluster_port_offset, cluster_config& out,
                         uint32_t replicas = 1);

/// The chains of `cfg`: node indexes, each chain head first, in the order of the heads.
std::vector<std::vector<uint32_t>> chains_of(const cluster_config& cfg);

/// Writes `cfg` to `path` (a new file renamed over the old one: a crash leaves the old
/// file or the new one). Returns "" or why not.
std::string save_cluster_file(const std::string& path, const cluster_config& cfg);

/// A fresh node id: 40 random hex digits.
std::string random_node_id();

/// Which node of `cfg` a server listening on `bind`:`port` is: the one with that client
/// port whose host is `bind` (any host when `bind` is a wildcard address). Returns its
/// index, or -1 with `error` set (none, or several).
int find_self(const cluster_config& cfg, const std::string& bind, uint16_t port,
              std::string& error);

} // namespace otkv::cluster

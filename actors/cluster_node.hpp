#pragma once

// A server as a node of a cluster (docs/cluster.md): its gate, which other nodes send
// batches for its partitions to, and its link, through which its shards send batches
// for the other nodes' partitions. Both run in the home actor system and talk to the
// other nodes over CAF's middleman (publish / connect).

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/cluster_wire.hpp"
#include "actors/inflight_batches.hpp"
#include "actors/interfaces.hpp"
#include "cluster/cluster_view.hpp"

namespace otkv {

/// What the gate and the link of a node need.
struct cluster_node_options {
  std::shared_ptr<cluster::view> view;
  std::string secret;                  ///< --requirepass: the other nodes must present it
  uint32_t request_timeout_ms = 500;   ///< the node's request-timeout policy, for the
  uint32_t request_attempts = 2;       ///< batches it serves for the other nodes
  std::string config_path;             ///< the cluster file: rewritten when slots move
  log_health log_error;                ///< the op log's state: writes wait while it fails
  caf::actor local_gate;               ///< the link's: this node's own gate
};

/// A forwarded batch the gate is serving: who sent it and under which id.
struct forwarded_batch {
  caf::actor origin;   ///< the sending node's link (a proxy)
  uint64_t origin_id = 0;
  uint32_t target = 0;
  uint32_t shard = 0;
};

/// State of a node's gate.
struct cluster_gate_state {
  cluster_node_options opts;
  std::vector<worker_actor> workers;
  supervisor_actor supervisor;
  inflight_batches inflight;  ///< the request-timeout policy for forwarded batches
  std::unordered_map<uint64_t, forwarded_batch> forwarded; ///< by local batch id
  std::vector<caf::node_id> accepted; ///< the nodes that said hello with the secret
  std::vector<uint32_t> accepted_index; ///< their indexes in the cluster file
  static const char* name;
};

/// The gate: accepts another node of the cluster that says hello with the cluster's
/// secret, then runs the batches it forwards on this node's partition workers under this
/// node's request-timeout policy (a fresh worker, a resend, -TIMEOUT at the last attempt)
/// and sends their results back. Refuses (drops, with a warning) anything else.
caf::behavior cluster_gate(caf::stateful_actor<cluster_gate_state>* self,
                           cluster_node_options opts, worker_table table,
                           supervisor_actor supervisor);

/// A slot move under way (CLUSTER MOVESLOTS), driven by the link of the node the slots
/// leave. Its steps: freeze the slots (-TRYAGAIN), wait out the requests admitted before,
/// copy their keys to the new node, hand the slots over (every node's view and cluster
/// file), unfreeze, and delete the keys left here.
struct slot_move {
  uint16_t first = 0;
  uint16_t last = 0;
  uint32_t node = 0;               ///< where the slots go
  caf::response_promise promise;   ///< answered (bool, text) when done
  size_t missing = 0;              ///< batches of the current step not answered yet
  uint64_t keys = 0;               ///< keys copied
  /// The copies for the new node, by its partition: CLUSTER PUTKEYS requests.
  std::vector<std::vector<wire_item>> puts;
  enum class step : uint8_t { wait, dump, put, drop } now = step::wait;
};

/// State of a node's link.
struct cluster_link_state {
  cluster_node_options opts;
  std::unique_ptr<slot_move> move;   ///< the slot move under way, if any
  std::vector<caf::actor> gates;     ///< each node's gate, once connected and accepted
  std::vector<caf::actor> brokers;   ///< this node's shards, by shard index
  bool stopping = false;
  static const char* name;
};

/// The link: connects to every other node's gate (retrying until it is up, and again
/// after it goes down), keeps the view's reachability current, passes the shards' batches
/// for other nodes to their gates (wire_batch) and the results back to the shard that
/// sent them (done_batch). Takes the shards with peers_atom, and CONFIG SET's changes of
/// requirepass and the request-timeout policy (config_change), which it passes to the gate.
caf::behavior cluster_link(caf::stateful_actor<cluster_link_state>* self,
                           cluster_node_options opts);

} // namespace otkv

#pragma once

// The messages between the nodes of a cluster: they cross CAF's middleman (BASP), so
// unlike the in-process messages (actors/messages.hpp) they are serialised, each with an
// `inspect` overload and registered in every actor system (register_cluster_types).

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/batches.hpp"
#include "net/reply.hpp"

namespace otkv {

/// Link → another node's gate: who this node is and the cluster's secret (answered true
/// when the gate accepts the node).
using hello_atom = caf::atom_constant<caf::atom("hello")>;

/// Client → link: move slots first … last to a node (CLUSTER MOVESLOTS); answered
/// (true, what moved) or (false, the error text).
using move_atom = caf::atom_constant<caf::atom("moveslots")>;
/// Link → itself: the next step of the slot move under way.
using move_step_atom = caf::atom_constant<caf::atom("movestep")>;
/// Node → every other node's gate: slots first … last are the named node's now.
using moved_atom = caf::atom_constant<caf::atom("moved")>;

/// Probe → link: whether node n's cluster port took a TCP connection in time.
using probe_atom = caf::atom_constant<caf::atom("probe")>;

/// A node's introduction to another (hello_atom).
struct wire_hello {
  std::string node_id; ///< its id in the cluster file
  std::string secret;  ///< the cluster's shared secret (--requirepass; empty: none)
  uint32_t partitions = 0; ///< its partition count
  uint64_t nodes_digest = 0; ///< cluster::view::nodes_digest(): the same nodes and addresses
};

/// One request of a forwarded batch (a work_item without the command-table pointer).
struct wire_item {
  uint64_t conn = 0;
  uint64_t seq = 0;
  uint32_t part = 0;
  bool encode = false;
  std::vector<std::string> args;
};

/// A batch for one partition of another node, sent by a shard's broker through its
/// node's link.
struct wire_batch {
  uint64_t id = 0;          ///< the origin's batch id (it answers wire_done with it)
  uint32_t partition = 0;   ///< the partition on the receiving node
  uint32_t target = 0;      ///< the partition as the origin numbers them
  uint32_t shard = 0;       ///< the origin's shard whose broker made it
  uint64_t output_limit = UINT64_MAX;
  std::vector<wire_item> items;
};

/// One forwarded request's result.
struct wire_result {
  uint64_t conn = 0;
  uint64_t seq = 0;
  uint32_t part = 0;
  net::reply result;
  uint64_t ns = 0;
  bool over_limit = false;
};

/// The results of a wire_batch, back to the origin's link.
struct wire_done {
  uint64_t id = 0;
  uint32_t target = 0;
  uint32_t shard = 0;
  std::vector<wire_result> items;
};

/// Records of one partition, down its chain: those numbered after … last (the op-log
/// records, the same on every node of the chain: docs/replication.md). An image
/// record among them replaces the partition (a full sync).
struct wire_records {
  uint32_t partition = 0;
  uint64_t after = 0;
  uint64_t last = 0;
  std::string bytes;   ///< none: a notice that the receiver, at `after`, is in sync
  uint64_t committed = 0; ///< the sender's commit (the receiver is in sync once it has it)
  bool up = false;     ///< a full copy for the previous node (a head that lost its data)
};

/// A node's state of one partition, up its chain: the newest record the tail applied
/// (as far as it knows) and its own newest record. Sent after records arrive and as a
/// pulse; its predecessor commits, and sends again what the node lacks.
struct wire_commit {
  uint32_t partition = 0;
  uint64_t committed = 0;
  uint64_t applied = 0;
  bool synced = false; ///< whether the sender serves (it knows it has every committed record)
};

/// A head that lost records its successor has (its data directory was lost) → the
/// successor: send me a full copy of the partition.
struct wire_pull {
  uint32_t partition = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_records& x) {
  return f(caf::meta::type_name("wire_records"), x.partition, x.after, x.last, x.bytes,
           x.committed, x.up);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_commit& x) {
  return f(caf::meta::type_name("wire_commit"), x.partition, x.committed, x.applied, x.synced);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_pull& x) {
  return f(caf::meta::type_name("wire_pull"), x.partition);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_hello& x) {
  return f(caf::meta::type_name("wire_hello"), x.node_id, x.secret, x.partitions,
           x.nodes_digest);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_item& x) {
  return f(caf::meta::type_name("wire_item"), x.conn, x.seq, x.part, x.encode, x.args);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_batch& x) {
  return f(caf::meta::type_name("wire_batch"), x.id, x.partition, x.target, x.shard,
           x.output_limit, x.items);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_result& x) {
  return f(caf::meta::type_name("wire_result"), x.conn, x.seq, x.part, x.result, x.ns,
           x.over_limit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_done& x) {
  return f(caf::meta::type_name("wire_done"), x.id, x.target, x.shard, x.items);
}

/// Registers the cluster's message types in `cfg` (every actor system of a node).
void register_cluster_types(caf::actor_system_config& cfg);

/// The wire form of `batch`, made by shard `shard` for partition `partition` of another
/// node.
wire_batch to_wire(const work_batch& batch, uint32_t partition, uint32_t shard);

} // namespace otkv

namespace otkv::net {

/// A reply crosses the wire as its kind, number, text and items.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reply& x) {
  return f(caf::meta::type_name("otkv_reply"), x.type, x.number, x.text, x.items);
}

} // namespace otkv::net

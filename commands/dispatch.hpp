#pragma once

// The request path shared by the connection broker and the in-process test harness:
// resolve a request to its command, split it into per-partition parts, and merge
// the parts' results.

#include <cstdint>
#include <vector>

#include "cluster/cluster_view.hpp"
#include "commands/command.hpp"

namespace otkv::cmd {

/// Where a key lives, as a front end numbers the places: its node's partitions
/// 0 … partitions-1, then (in a cluster that forwards) the partitions of the other nodes,
/// node ordinal o's partition p at o × partitions + p (cluster::view::slot_ordinals).
struct key_router {
  key_router() = default;
  /// One node with `partitions` partitions.
  key_router(uint32_t partitions) : partitions(partitions) {} // NOLINT: implicit on purpose

  uint32_t partitions = 1; ///< partitions of every node
  uint32_t nodes = 1;      ///< nodes whose partitions requests go to
  /// Forwarding cluster: the node ordinal serving each of the 16384 slots; null: every
  /// key stays on this node.
  const std::atomic<uint16_t>* slot_ordinal = nullptr;
  /// With chains (docs/replication.md): the ordinal reads of each slot go to (this node
  /// for its own chain's slots); null: as slot_ordinal.
  const std::atomic<uint16_t>* read_ordinal = nullptr;
  /// With chains: the node ordinals a request for every key (route::all) goes to, one
  /// per chain, for writes and for reads; null: every node.
  const std::vector<std::atomic<uint32_t>>* write_fan = nullptr;
  const std::vector<std::atomic<uint32_t>>* read_fan = nullptr;

  /// How many places there are.
  uint32_t targets() const { return partitions * nodes; }
  /// Whether `target` is a partition of this node.
  bool local(uint32_t target) const { return target < partitions; }
  /// The place of a key whose routing key (store::routing_key) is `routing`, hashed
  /// (store::key_hash) to `hash`, for a write (else a read).
  uint32_t target_of(std::string_view routing, uint64_t hash, bool write = true) const {
    auto p = static_cast<uint32_t>(hash % partitions);
    if (slot_ordinal == nullptr)
      return p;
    auto slot = cluster::crc16(routing) & (cluster::slot_count - 1);
    const auto* table = write || read_ordinal == nullptr ? slot_ordinal : read_ordinal;
    return table[slot].load(std::memory_order_acquire) * partitions + p;
  }
  /// The place of `key`.
  uint32_t target_of(std::string_view key, bool write = true) const {
    auto routing = store::routing_key(key);
    return target_of(routing, store::key_hash(routing), write);
  }
  /// The node ordinals route::all requests go to (null: every node).
  const std::vector<std::atomic<uint32_t>>* fan(bool write) const {
    return write ? write_fan : read_fan;
  }
  /// The place after `place` that a read of every key visits next (SCAN), 0 if none.
  uint32_t next_place(uint32_t place) const {
    for (uint32_t next = place + 1; next < targets(); ++next) {
      if (read_fan == nullptr)
        return next;
      for (const auto& o : *read_fan)
        if (o.load(std::memory_order_acquire) == next / partitions)
          return next;
    }
    return 0;
  }
};

/// One piece of a request, for one partition.
struct part {
  uint32_t partition;
  net::arg_list args;
};

/// Looks up `args[0]` and checks the arity (and key/value pairing for commands with
/// a key step above 1). Returns the command, or nullptr with `error` set.
const command* resolve(const net::arg_list& args, net::reply& error);

/// Checks that `client` may run `c` (authenticated, or `c` is allowed before AUTH).
/// Returns true, or false with `error` set to Redis's -NOAUTH reply.
bool check_auth(const command& c, const client_context& client, net::reply& error);

/// For write commands: false, with Redis's -MISCONF error in `error`, while the op log
/// cannot be written (an acknowledged write must reach the log).
bool check_writable(const command& c, const server_info& server, net::reply& error);

/// For commands flagged one_partition: false, with Redis Cluster's -CROSSSLOT error in
/// `error`, if the request's keys live in different partitions (in a cluster: in
/// different slots).
bool check_partitions(const command& c, const net::arg_list& args, const key_router& router,
                      net::reply& error);

/// In a cluster (`cluster` not null): false, with -TRYAGAIN when a key's slot is being
/// moved; and when the node redirects, with -CROSSSLOT when the request's keys are in
/// different slots, or -MOVED slot host:port when their slot is another node's, as a
/// Redis Cluster node answers (but for a read of a `readonly` connection on a node of the
/// slot's chain, as a Redis replica after READONLY). With replication, false with
/// -CLUSTERDOWN for a write whose chain has a node down. Always true otherwise.
bool check_cluster(const command& c, const net::arg_list& args, const cluster::view* cluster,
                   net::reply& error, bool readonly = false);

/// Splits a request for `c` (not route::connection) into parts, one per place
/// (key_router) its keys live in; route::all: one per place. For route::keys the
/// key ordinals of each part go to `f.slots`; for route::all `f.args` keeps the request.
/// A route::keys request whose keys share one partition yields one unchanged part.
/// `write`: route as a write (to a chain's head) even if `c` only reads.
std::vector<part> split(const command& c, net::arg_list&& args, const key_router& router,
                        fanout& f, bool write = false);

/// Whether the results of `parts` must go through `c.on_merge`.
inline bool needs_merge(const command& c, size_t parts) {
  return c.where == route::all || c.where == route::node || c.where == route::cursor
         || (c.where == route::keys && (parts > 1 || (c.flags & flag::merged) != 0));
}

/// Runs `c` on one partition; turns an escaped exception into an error reply.
net::reply run_on_partition(const command& c, op_context& ctx, const net::arg_list& args);

/// The request a split route::keys request was made of, put back together from its
/// `parts` (for merges and the slow log, which show the whole request).
net::arg_list rejoin(const command& c, const std::vector<part>& parts, const fanout& f);

/// Partition `p`'s data while its caller holds it reserved (EXEC, EVAL), else nullptr.
using reserved_data = std::function<store::partition*(uint32_t p)>;

/// Runs `c`, split into `parts` (split() filled `f`), on partitions its caller holds
/// reserved, at `now`; merges the parts' results as a front end would (`client`: the
/// merge's context). Every part's partition must be reserved.
net::reply run_reserved(const command& c, std::vector<part>& parts, fanout& f,
                        client_context& client, const reserved_data& reserved,
                        store::millis now);

// -- merge functions used by the table ---------------------------------------------

/// Sum of the integer results (DEL, EXISTS, DBSIZE …).
net::reply merge_sum(client_context&, fanout& f);
/// `+OK` when every part said OK, else the first error (MSET, FLUSHALL …).
net::reply merge_ok(client_context&, fanout& f);
/// Array results put back in key order (MGET).
net::reply merge_by_key(client_context&, fanout& f);
/// Array results concatenated (KEYS).
net::reply merge_concat(client_context&, fanout& f);

} // namespace otkv::cmd

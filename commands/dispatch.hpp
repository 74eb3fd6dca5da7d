#pragma once

// The request path shared by the connection broker and the in-process test harness:
// resolve a request to its command, split it into per-partition parts, and merge
// the parts' results.

#include <cstdint>
#include <vector>

#include "commands/command.hpp"

namespace otkv::cmd {

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
/// `error`, if the request's keys live in different partitions.
bool check_partitions(const command& c, const net::arg_list& args, uint32_t partitions,
                      net::reply& error);

/// Splits a request for `c` (not route::connection) into parts. For route::keys the
/// key ordinals of each part go to `f.slots`; for route::all `f.args` keeps the request.
/// A route::keys request whose keys share one partition yields one unchanged part.
std::vector<part> split(const command& c, net::arg_list&& args, uint32_t partitions, fanout& f);

/// Whether the results of `parts` must go through `c.on_merge`.
inline bool needs_merge(const command& c, size_t parts) {
  return c.where == route::all || (c.where == route::keys && parts > 1);
}

/// Runs `c` on one partition; turns an escaped exception into an error reply.
net::reply run_on_partition(const command& c, op_context& ctx, const net::arg_list& args);

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

#pragma once

// How the command families fill the command table: each family file registers its own
// commands, one line each; command_table.cpp calls the families in a fixed order.
// Adding a command = one line in its family's register function + its handler there +
// tests + a row in docs/commands.md.

#include <cstdint>
#include <vector>

#include "commands/command.hpp"

namespace otkv::cmd {

/// The command table being built; a family's register function appends its rows.
using command_registry = std::vector<command>;

/// Short names for the flags and routes in the families' one-line rows.
namespace shorthand {
constexpr uint32_t W = flag::write;
constexpr uint32_t R = flag::readonly;
constexpr uint32_t F = flag::fast;
constexpr uint32_t A = flag::admin;
constexpr uint32_t N = flag::noauth | flag::loading | flag::stale; ///< allowed before AUTH
constexpr uint32_t L = flag::loading | flag::stale;
constexpr uint32_t ONE = flag::one_partition; ///< keys must share a partition (CROSSSLOT)
constexpr uint32_t SW = flag::server_wide;    ///< reports every shard's counters (gathered)
constexpr uint32_t SUB = flag::subcommands;   ///< "name|sub" rows exist for some subcommands
constexpr uint32_t MOVE = flag::moves_slots;  ///< a slot move's step (the gate's only)
constexpr uint32_t MERGED = flag::merged;     ///< parts always merged (SINTER, SUNION, SDIFF)
constexpr uint32_t BLOCK = flag::blocking;    ///< may wait for data (BLPOP, BZPOPMIN, …)

constexpr route C = route::connection;
constexpr route K = route::key;
constexpr route KS = route::keys;
constexpr route ALL = route::all;
constexpr route NODE = route::node;
constexpr route CUR = route::cursor;
} // namespace shorthand

/// Appends the string commands (GET, SET, INCR, …; string_family.cpp).
void register_string_family(command_registry& table);

/// Appends the keyspace commands (DEL, EXPIRE, SCAN, …, DBSIZE, FLUSHALL; keyspace_family.cpp).
void register_keyspace_family(command_registry& table);

/// Appends the hash commands (HSET, HGET, HSCAN, …; hash_family.cpp).
void register_hash_family(command_registry& table);

/// Appends the list commands (LPUSH, LRANGE, LMOVE, …; list_family.cpp).
void register_list_family(command_registry& table);

/// Appends the set commands (SADD, SINTER, SSCAN, …; set_family.cpp).
void register_set_family(command_registry& table);

/// Appends the sorted-set commands (ZADD, ZRANGE, ZPOPMIN, …; zset_family.cpp).
void register_zset_family(command_registry& table);

/// Appends the bitmap commands (SETBIT, BITCOUNT, BITFIELD, …; bit_family.cpp).
void register_bit_family(command_registry& table);

/// Appends the server and connection commands (INFO, PING, CLIENT, CONFIG, …; server_family.cpp).
void register_server_family(command_registry& table);

/// Appends the cluster commands (CLUSTER …, READONLY, READWRITE, ASKING; cluster_family.cpp).
void register_cluster_family(command_registry& table);

/// Appends MULTI, EXEC, DISCARD, WATCH, UNWATCH (transaction_family.cpp).
void register_transaction_family(command_registry& table);

/// Appends EVAL, EVALSHA, their _RO forms and SCRIPT (script_family.cpp).
void register_script_family(command_registry& table);

/// Whether `c` runs at once inside MULTI instead of being queued (EXEC, DISCARD, MULTI,
/// WATCH, QUIT).
bool runs_inside_multi(const command& c);

/// INFO's "# Cluster" section lines for `info` (cluster_family.cpp).
std::string cluster_info_section(const server_info& info);

} // namespace otkv::cmd

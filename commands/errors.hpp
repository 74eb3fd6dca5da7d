#pragma once

// Every error reply of the command layer, word for word: Redis's text where Redis has
// the error (clients and tests match it), OTKV's own where it has none.

#include <cctype>
#include <cstring>
#include <string>
#include <string_view>

#include "net/reply.hpp"
#include "net/request_parser.hpp"

namespace otkv::cmd::err {

// -- requests ------------------------------------------------------------------------

/// `-ERR DUMP payload version or checksum are wrong` (an aggregate that does not decode)
inline net::reply bad_payload() {
  return net::reply::error("ERR DUMP payload version or checksum are wrong");
}

/// `-ERR hash value is not an integer` (HINCRBY on a field that does not hold one)
inline net::reply hash_not_integer() {
  return net::reply::error("ERR hash value is not an integer");
}

/// `-ERR hash value is not a float` (HINCRBYFLOAT on a field that does not hold one)
inline net::reply hash_not_float() { return net::reply::error("ERR hash value is not a float"); }

/// `-ERR value is out of range` (a count too large to serve, as Redis's)
inline net::reply out_of_range() { return net::reply::error("ERR value is out of range"); }

/// `-ERR value is out of range, must be positive` (a count that must be > 0)
inline net::reply not_positive() {
  return net::reply::error("ERR value is out of range, must be positive");
}

/// `-ERR index out of range` (LSET past the list's end)
inline net::reply index_out_of_range() { return net::reply::error("ERR index out of range"); }

/// LPOS RANK 0's error (Redis's text)
inline net::reply lpos_rank_zero() {
  return net::reply::error("ERR RANK can't be zero: use 1 to start from the first match, 2 "
                           "from the second ... or use negative to start from the end of the "
                           "list");
}

/// LPOS RANK of the smallest integer (Redis's text)
inline net::reply lpos_rank_range() {
  return net::reply::error("ERR value is out of range, value must between -9223372036854775807 "
                           "and 9223372036854775807");
}

/// LPOS COUNT or MAXLEN below zero: `-ERR COUNT can't be negative`
inline net::reply lpos_negative(std::string_view option) {
  return net::reply::error("ERR " + std::string(option) + " can't be negative");
}

/// `-ERR numkeys should be greater than 0` (SINTERCARD)
inline net::reply numkeys_not_positive() {
  return net::reply::error("ERR numkeys should be greater than 0");
}

/// `-ERR at least 1 input key is needed for 'zunion' command` (ZUNION, ZINTERSTORE, …;
/// `name` as the client spelled it, lower-cased as Redis names it)
inline net::reply numkeys_at_least_one(std::string_view name) {
  std::string lower(name);
  for (auto& ch : lower)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return net::reply::error("ERR at least 1 input key is needed for '" + lower + "' command");
}

/// `-ERR weight value is not a float` (ZUNION, ZINTER WEIGHTS)
inline net::reply weight_not_float() { return net::reply::error("ERR weight value is not a float"); }

/// `-ERR timeout is not a float or out of range` (BLPOP, BZPOPMIN, …)
inline net::reply timeout_not_float() {
  return net::reply::error("ERR timeout is not a float or out of range");
}

/// `-ERR timeout is negative` (BLPOP, BZPOPMIN, …)
inline net::reply timeout_negative() { return net::reply::error("ERR timeout is negative"); }

/// `-ERR timeout is out of range` (BLPOP, BZPOPMIN, …: past any reachable deadline)
inline net::reply timeout_out_of_range() {
  return net::reply::error("ERR timeout is out of range");
}

/// `-ERR count should be greater than 0` (ZMPOP, LMPOP)
inline net::reply count_not_positive() {
  return net::reply::error("ERR count should be greater than 0");
}

/// `-ERR LIMIT can't be negative` (SINTERCARD)
inline net::reply limit_negative() { return net::reply::error("ERR LIMIT can't be negative"); }

/// `-ERR bit offset is not an integer or out of range` (SETBIT, GETBIT, BITFIELD)
inline net::reply bit_offset() {
  return net::reply::error("ERR bit offset is not an integer or out of range");
}

/// `-ERR bit is not an integer or out of range` (SETBIT's value)
inline net::reply bit_value() {
  return net::reply::error("ERR bit is not an integer or out of range");
}

/// `-ERR The bit argument must be 1 or 0.` (BITPOS)
inline net::reply bit_argument() { return net::reply::error("ERR The bit argument must be 1 or 0."); }

/// `-ERR BITOP NOT must be called with a single source key.`
inline net::reply bitop_not_sources() {
  return net::reply::error("ERR BITOP NOT must be called with a single source key.");
}

/// BITFIELD's type error (Redis's text)
inline net::reply bitfield_type() {
  return net::reply::error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 "
                           "is not supported but i64 is.");
}

/// `-ERR BITFIELD_RO only supports the GET subcommand`
inline net::reply bitfield_ro() {
  return net::reply::error("ERR BITFIELD_RO only supports the GET subcommand");
}

/// `-ERR Invalid OVERFLOW type specified` (BITFIELD)
inline net::reply bitfield_overflow() {
  return net::reply::error("ERR Invalid OVERFLOW type specified");
}

/// `-ERR The specified keys must contain string values` (LCS)
inline net::reply lcs_not_strings() {
  return net::reply::error("ERR The specified keys must contain string values");
}

/// `-ERR If you want both the length and indexes, please just use IDX.` (LCS)
inline net::reply lcs_len_and_idx() {
  return net::reply::error("ERR If you want both the length and indexes, please just use IDX.");
}

/// LCS of strings whose table would pass proto-max-bulk-len (Redis's text)
inline net::reply lcs_too_large() {
  return net::reply::error("ERR Insufficient memory, transient memory for LCS exceeds "
                           "proto-max-bulk-len");
}

/// `-ERR min or max is not a float` (a sorted set's score range)
inline net::reply score_range() { return net::reply::error("ERR min or max is not a float"); }

/// `-ERR min or max not valid string range item` (a sorted set's lexicographic range)
inline net::reply lex_range() {
  return net::reply::error("ERR min or max not valid string range item");
}

/// ZADD with both XX and NX
inline net::reply zadd_xx_nx() {
  return net::reply::error("ERR XX and NX options at the same time are not compatible");
}

/// ZADD with GT and LT, or either with NX
inline net::reply zadd_gt_lt_nx() {
  return net::reply::error("ERR GT, LT, and/or NX options at the same time are not compatible");
}

/// ZADD INCR with several pairs
inline net::reply zadd_incr_pairs() {
  return net::reply::error("ERR INCR option supports a single increment-element pair");
}

/// `-ERR resulting score is not a number (NaN)`
inline net::reply score_nan() {
  return net::reply::error("ERR resulting score is not a number (NaN)");
}

/// ZRANGE's LIMIT without BYSCORE / BYLEX
inline net::reply zrange_limit() {
  return net::reply::error("ERR syntax error, LIMIT is only supported in combination with either "
                           "BYSCORE or BYLEX");
}

/// ZRANGE BYLEX WITHSCORES
inline net::reply zrange_lex_scores() {
  return net::reply::error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
}

/// `-WRONGTYPE Operation against a key holding the wrong kind of value`
inline net::reply wrong_type() {
  return net::reply::error("WRONGTYPE Operation against a key holding the wrong kind of value");
}

/// `-ERR unknown command 'name', with args beginning with: 'a' 'b' ` (Redis 7 text).
inline net::reply unknown_command(const net::arg_list& args) {
  std::string msg = "ERR unknown command '" + args[0].substr(0, 128)
                    + "', with args beginning with: ";
  for (size_t i = 1; i < args.size() && msg.size() < 256; ++i)
    msg += "'" + args[i].substr(0, 128) + "' ";
  return net::reply::error(std::move(msg));
}

/// `-ERR wrong number of arguments for 'name' command`
inline net::reply arity(std::string_view name) {
  return net::reply::error("ERR wrong number of arguments for '" + std::string(name)
                           + "' command");
}

/// `-ERR unknown subcommand 'sub'. Try NAME HELP.`
inline net::reply unknown_subcommand(std::string_view sub, std::string_view name) {
  std::string upper(name);
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return net::reply::error("ERR unknown subcommand '" + std::string(sub) + "'. Try " + upper
                           + " HELP.");
}

/// `-ERR syntax error`
inline net::reply syntax() { return net::reply::error("ERR syntax error"); }

/// `-NOAUTH Authentication required.`
inline net::reply noauth() { return net::reply::error("NOAUTH Authentication required."); }

/// `-CROSSSLOT Keys in request don't hash to the same slot` (Redis Cluster's text).
inline net::reply crossslot() {
  return net::reply::error("CROSSSLOT Keys in request don't hash to the same slot");
}

/// `-OOM command not allowed when used memory > 'maxmemory'.`
inline net::reply oom() {
  return net::reply::error("OOM command not allowed when used memory > 'maxmemory'.");
}

/// `-MISCONF Errors writing to the AOF file: <strerror(errnum)>`: writes are refused
/// while the op log cannot be written.
inline net::reply misconf(int errnum) {
  return net::reply::error(std::string("MISCONF Errors writing to the AOF file: ")
                           + std::strerror(errnum));
}

/// `-ERR client output limit exceeded` (OTKV's: a batch's replies for one client
/// passed its output limit).
inline net::reply output_limit() { return net::reply::error("ERR client output limit exceeded"); }

// -- values --------------------------------------------------------------------------

/// `-ERR value is not an integer or out of range`
inline net::reply not_integer() {
  return net::reply::error("ERR value is not an integer or out of range");
}

/// `-ERR value is not a valid float`
inline net::reply not_float() { return net::reply::error("ERR value is not a valid float"); }

/// `-ERR increment or decrement would overflow`
inline net::reply overflow() {
  return net::reply::error("ERR increment or decrement would overflow");
}

/// `-ERR value is NaN or Infinity` (HINCRBYFLOAT's increment, as Redis 7.0.15)
inline net::reply value_nan_or_infinity() {
  return net::reply::error("ERR value is NaN or Infinity");
}

/// `-ERR increment would produce NaN or Infinity`
inline net::reply nan_or_infinity() {
  return net::reply::error("ERR increment would produce NaN or Infinity");
}

/// `-ERR string exceeds maximum allowed size (proto-max-bulk-len)`
inline net::reply string_too_long() {
  return net::reply::error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
}

/// `-ERR offset is out of range`
inline net::reply offset_out_of_range() { return net::reply::error("ERR offset is out of range"); }

// -- keys and expiry -----------------------------------------------------------------

/// `-ERR invalid expire time in 'name' command`
inline net::reply expire_time(std::string_view name) {
  return net::reply::error("ERR invalid expire time in '" + std::string(name) + "' command");
}

/// `-ERR Unsupported option <option>`
inline net::reply unsupported_option(std::string_view option) {
  return net::reply::error("ERR Unsupported option " + std::string(option));
}

/// `-ERR NX and XX, GT or LT options at the same time are not compatible`
inline net::reply nx_and_xx_gt_lt() {
  return net::reply::error("ERR NX and XX, GT or LT options at the same time are not compatible");
}

/// `-ERR GT and LT options at the same time are not compatible`
inline net::reply gt_and_lt() {
  return net::reply::error("ERR GT and LT options at the same time are not compatible");
}

/// `-ERR no such key`
inline net::reply no_such_key() { return net::reply::error("ERR no such key"); }

/// `-ERR source and destination objects are the same`
inline net::reply same_object() {
  return net::reply::error("ERR source and destination objects are the same");
}

/// `-ERR DB index is out of range`
inline net::reply db_index() { return net::reply::error("ERR DB index is out of range"); }

/// `-ERR invalid cursor`
inline net::reply invalid_cursor() { return net::reply::error("ERR invalid cursor"); }

// -- connection and server -----------------------------------------------------------

/// `-ERR Client names cannot contain spaces, newlines or special characters.`
inline net::reply client_name() {
  return net::reply::error(
    "ERR Client names cannot contain spaces, newlines or special characters.");
}

/// `-ERR <option> cannot contain spaces, newlines or special characters.` (CLIENT SETINFO)
inline net::reply client_info_value(std::string_view option) {
  return net::reply::error("ERR " + std::string(option)
                           + " cannot contain spaces, newlines or special characters.");
}

/// `-ERR Unrecognized option '<option>'` (CLIENT SETINFO)
inline net::reply unrecognized_option(std::string_view option) {
  return net::reply::error("ERR Unrecognized option '" + std::string(option) + "'");
}

/// `-ERR Protocol version is not an integer or out of range`
inline net::reply protocol_version() {
  return net::reply::error("ERR Protocol version is not an integer or out of range");
}

/// `-NOPROTO sorry, this protocol version is not supported.`
inline net::reply noproto() {
  return net::reply::error("NOPROTO sorry, this protocol version is not supported.");
}

/// `-ERR Syntax error in HELLO option '<option>'`
inline net::reply hello_option(std::string_view option) {
  return net::reply::error("ERR Syntax error in HELLO option '" + std::string(option) + "'");
}

/// `-NOAUTH HELLO must be called with the client already authenticated, otherwise the
/// HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and
/// select the RESP protocol version at the same time`
inline net::reply hello_noauth() {
  return net::reply::error("NOAUTH HELLO must be called with the client already "
                           "authenticated, otherwise the HELLO <proto> AUTH <user> <pass> "
                           "option can be used to authenticate the client and select the "
                           "RESP protocol version at the same time");
}

/// `-ERR AUTH <password> called without any password configured for the default user.
/// Are you sure your configuration is correct?`
inline net::reply auth_not_configured() {
  return net::reply::error("ERR AUTH <password> called without any password configured for "
                           "the default user. Are you sure your configuration is correct?");
}

/// `-WRONGPASS invalid username-password pair or user is disabled.`
inline net::reply wrongpass() {
  return net::reply::error("WRONGPASS invalid username-password pair or user is disabled.");
}

/// `-ERR DEBUG command not allowed. Start the server with --enable-debug-command yes to
/// use it (tests only).` (OTKV's wording)
inline net::reply debug_disabled() {
  return net::reply::error("ERR DEBUG command not allowed. Start the server with "
                           "--enable-debug-command yes to use it (tests only).");
}

/// `-ERR no such partition` (DEBUG …-PARTITION; OTKV's)
inline net::reply no_such_partition() { return net::reply::error("ERR no such partition"); }

/// `-ERR count should be greater than or equal to -1` (SLOWLOG GET)
inline net::reply slowlog_count() {
  return net::reply::error("ERR count should be greater than or equal to -1");
}

// -- front ends (actors/): what a front end answers itself ----------------------------

/// `-ERR Protocol error: <what>` (Redis's text; the connection is closed after it)
inline net::reply protocol(std::string_view what) {
  return net::reply::error("ERR Protocol error: " + std::string(what));
}

/// `-ERR max number of clients reached`, as the raw RESP line a refused connection gets
inline constexpr char max_clients_line[] = "-ERR max number of clients reached\r\n";

/// `-TIMEOUT request to partition <p> timed out after <n> attempt(s)` (OTKV's: the
/// request-timeout policy gave up)
inline net::reply timeout(uint32_t partition, uint32_t attempts) {
  return net::reply::error("TIMEOUT request to partition " + std::to_string(partition)
                           + " timed out after " + std::to_string(attempts)
                           + (attempts == 1 ? " attempt" : " attempts"));
}

/// `-MOVED <slot> <host:port>`: the slot is another node's (a cluster that redirects)
inline net::reply moved(uint16_t slot, const std::string& address) {
  return net::reply::error("MOVED " + std::to_string(slot) + " " + address);
}

/// `-CLUSTERDOWN The cluster is down`: the node serving the request's slot cannot be
/// reached
inline net::reply clusterdown() { return net::reply::error("CLUSTERDOWN The cluster is down"); }

/// A node of a coordinated cluster (--cluster-etcd) whose lease may have lapsed, or
/// that was removed from its chain: it must not answer from a copy others moved past.
inline net::reply not_serving() {
  return net::reply::error("CLUSTERDOWN this node is not serving: its etcd lease lapsed or "
                           "it is not in its replication chain now");
}

/// `-TIMEOUT no reply from cluster node <id> within <ms> ms` (a forwarded request)
inline net::reply node_timeout(const std::string& node, uint64_t ms) {
  return net::reply::error("TIMEOUT no reply from cluster node " + node + " within "
                           + std::to_string(ms) + " ms");
}

/// `-TRYAGAIN …`: the key's slot is moving to another node; ask again shortly
inline net::reply tryagain() {
  return net::reply::error("TRYAGAIN the slot is moving to another node; try again");
}
/// A node of a replication chain that does not know yet that it has every committed
/// record (it just started, or is getting a full copy): it answers nothing meanwhile.
inline net::reply chain_syncing() {
  return net::reply::error("TRYAGAIN this node is catching up with its replication chain");
}

/// `-ERR This instance has cluster support disabled` (CLUSTER on a single server)
inline net::reply cluster_disabled() {
  return net::reply::error("ERR This instance has cluster support disabled");
}

/// `-ERR Unknown node <id>`
inline net::reply unknown_node(std::string_view id) {
  return net::reply::error("ERR Unknown node " + std::string(id));
}

/// `-ERR Invalid or out of range slot`
inline net::reply invalid_slot() { return net::reply::error("ERR Invalid or out of range slot"); }

/// `-ERR Invalid number of keys`
inline net::reply invalid_key_count() { return net::reply::error("ERR Invalid number of keys"); }

/// `-ERR snapshot failed; see the server log` (SAVE)
inline net::reply snapshot_failed() {
  return net::reply::error("ERR snapshot failed; see the server log");
}

/// `-ERR snapshot failed: <why>` (SAVE: the snapshot actor did not answer)
inline net::reply snapshot_failed(std::string_view why) {
  return net::reply::error("ERR snapshot failed: " + std::string(why));
}

/// `-ERR snapshots are off: the store has no data directory` (embedded SAVE/BGSAVE)
inline net::reply snapshots_off() {
  return net::reply::error("ERR snapshots are off: the store has no data directory");
}

/// `-ERR empty command` (embedded execute with no words)
inline net::reply empty_command() { return net::reply::error("ERR empty command"); }

/// `-ERR CONFIG SET '<name>' does not apply to an embedded store (only request-timeout-ms
/// and request-attempts do)`
inline net::reply config_not_embedded(std::string_view name) {
  return net::reply::error("ERR CONFIG SET '" + std::string(name)
                           + "' does not apply to an embedded store (only request-timeout-ms "
                             "and request-attempts do)");
}

/// `-ERR QUIT does not apply to an embedded store: it has no connection to close`
inline net::reply quit_not_embedded() {
  return net::reply::error("ERR QUIT does not apply to an embedded store: it has no "
                           "connection to close");
}

/// `-ERR SHUTDOWN does not apply to an embedded store: stop it with an exit message to its
/// actor (see docs/embedding.md)`
inline net::reply shutdown_not_embedded() {
  return net::reply::error("ERR SHUTDOWN does not apply to an embedded store: stop it with an "
                           "exit message to its actor (see docs/embedding.md)");
}

// -- transactions (docs/transactions.md) ------------------------------------------------

/// `-ERR MULTI calls can not be nested`
inline net::reply multi_nested() { return net::reply::error("ERR MULTI calls can not be nested"); }
/// `-ERR EXEC without MULTI`
inline net::reply exec_without_multi() { return net::reply::error("ERR EXEC without MULTI"); }
/// `-ERR DISCARD without MULTI`
inline net::reply discard_without_multi() {
  return net::reply::error("ERR DISCARD without MULTI");
}
/// `-EXECABORT …`: a command was refused while the transaction was queued
inline net::reply execabort() {
  return net::reply::error("EXECABORT Transaction discarded because of previous errors.");
}
/// MULTI on a front end that cannot reserve partitions (the embedded store)
inline net::reply multi_not_embedded() {
  return net::reply::error("ERR MULTI does not apply to an embedded store: its front end "
                           "cannot reserve partitions (docs/transactions.md)");
}
/// A command reporting every I/O thread's counters, queued in MULTI
inline net::reply multi_gathered(std::string_view name) {
  return net::reply::error("ERR " + std::string(name) + " inside MULTI is not supported with "
                           "several I/O threads (it reports one thread's counters)");
}
/// A command over every node, queued in MULTI in a cluster
inline net::reply multi_all_nodes(std::string_view name) {
  return net::reply::error("ERR " + std::string(name) + " inside MULTI is not supported in a "
                           "cluster (it spans nodes)");
}
/// EXEC whose keys' slots moved to another node after they were queued
inline net::reply exec_moved() {
  return net::reply::error("ERR a transaction's keys moved to another node meanwhile; "
                           "nothing ran");
}
/// EXEC that could not reserve its partitions within `ms`
inline net::reply exec_busy(uint64_t ms) {
  return net::reply::error("TIMEOUT EXEC could not reserve its partitions within "
                           + std::to_string(ms) + " ms (a worker is busy); nothing ran");
}
/// `-ERR WATCH inside MULTI is not allowed`
inline net::reply watch_inside_multi() {
  return net::reply::error("ERR WATCH inside MULTI is not allowed");
}
/// WATCH that could not reserve its keys' partitions within `ms`
inline net::reply watch_busy(uint64_t ms) {
  return net::reply::error("TIMEOUT WATCH could not reserve its partitions within "
                           + std::to_string(ms) + " ms (a worker is busy)");
}
/// WATCH on a front end that cannot reserve partitions (the embedded store)
inline net::reply watch_not_embedded() {
  return net::reply::error("ERR WATCH does not apply to an embedded store: its front end "
                           "cannot reserve partitions (docs/transactions.md)");
}

/// A command past the bound of a transaction's queue (`bytes` of arguments)
inline net::reply multi_queue_full(uint64_t bytes) {
  return net::reply::error("ERR the transaction's queue is full (" + std::to_string(bytes)
                           + " bytes of arguments); the transaction is discarded at EXEC");
}
/// A connection command with an effect, run inside EXEC
inline net::reply effect_in_exec(std::string_view name) {
  return net::reply::error("ERR " + std::string(name)
                           + " inside a transaction does not apply; run it outside MULTI");
}

// -- scripts (docs/scripts.md) -------------------------------------------------------

/// An error a script returned ({err = text}) or a command inside it answered: as it is
inline net::reply from_script(std::string text) { return net::reply::error(std::move(text)); }
/// A script's reply nested deeper than a reply may
inline net::reply script_reply_too_deep() {
  return net::reply::error("ERR reached lua stack limit");
}
/// `redis.call()` with no arguments
inline net::reply script_call_no_args() {
  return net::reply::error("ERR Please specify at least one argument for this redis lib call");
}
/// redis.call with an argument that is neither a string nor a number
inline net::reply script_call_bad_arg() {
  return net::reply::error("ERR Lua redis lib command arguments must be strings or integers");
}
/// A redis.* helper called with the wrong arguments
inline net::reply script_wrong_args(std::string_view helper) {
  return net::reply::error("ERR wrong number or type of arguments to " + std::string(helper));
}
/// redis.setresp(3): OTKV speaks RESP2 only
inline net::reply script_resp3() {
  return net::reply::error("ERR redis.setresp: only RESP2 (2) is supported");
}
/// A script read a global nobody declared
inline net::reply script_undeclared_global(std::string_view name) {
  return net::reply::error("ERR Script attempted to access nonexistent global variable '"
                           + std::string(name) + "'");
}
/// A script assigned a global (they are read-only)
inline net::reply script_readonly_table() {
  return net::reply::error("ERR Attempt to modify a readonly table");
}
/// A Lua run-time error (`msg` as Lua words it)
inline net::reply script_runtime(std::string_view msg) {
  return net::reply::error("ERR " + std::string(msg));
}
/// A script body that does not compile
inline net::reply script_compile(std::string_view msg) {
  return net::reply::error("ERR Error compiling script (new function): " + std::string(msg));
}
/// A script that stopped with error `msg`, raised at `source`:`line` of function `name`
inline net::reply script_failed(std::string msg, std::string_view name, std::string_view source,
                                std::string_view line) {
  if (msg.empty())
    msg = "ERR execution failure";
  if (!source.empty() && !line.empty())
    msg += " script: " + std::string(name) + ", on " + std::string(source) + ":"
           + std::string(line) + ".";
  return net::reply::error(std::move(msg));
}
/// `-NOSCRIPT No matching script. Please use EVAL.`
inline net::reply noscript() {
  return net::reply::error("NOSCRIPT No matching script. Please use EVAL.");
}
/// redis.call of a command that does not exist
inline net::reply script_unknown_command() {
  return net::reply::error("ERR Unknown Redis command called from script");
}
/// redis.call with the wrong number of arguments
inline net::reply script_arity() {
  return net::reply::error("ERR Wrong number of args calling Redis command from script");
}
/// redis.call of a command scripts may not run (MULTI, EVAL, SCRIPT, CONFIG, …)
inline net::reply script_not_allowed() {
  return net::reply::error("ERR This Redis command is not allowed from script");
}
/// A write command inside EVAL_RO / EVALSHA_RO
inline net::reply script_write_in_ro() {
  return net::reply::error("ERR Write commands are not allowed from read-only scripts.");
}
/// A key whose partition the script did not declare (reserve), or another node's key
inline net::reply script_undeclared_key() {
  return net::reply::error("ERR Script attempted to access a non local key in a cluster node "
                           "(or a key of a partition its declared keys do not reserve: "
                           "declare every key in KEYS)");
}
/// A script stopped by SCRIPT KILL
inline net::reply script_killed() {
  return net::reply::error("ERR Script killed by user with SCRIPT KILL...");
}
/// A script stopped because the server shuts down
inline net::reply script_shutdown() {
  return net::reply::error("ERR Script stopped: the server is shutting down");
}
/// `-NOTBUSY No scripts in execution right now.`
inline net::reply notbusy() {
  return net::reply::error("NOTBUSY No scripts in execution right now.");
}
/// SCRIPT KILL of a script that wrote already
inline net::reply unkillable() {
  return net::reply::error("UNKILLABLE Sorry the script already executed write commands "
                           "against the dataset. You can either wait the script termination "
                           "or kill the server in a hard way using the SHUTDOWN NOSAVE "
                           "command.");
}
/// EVAL with a negative key count
inline net::reply numkeys_negative() {
  return net::reply::error("ERR Number of keys can't be negative");
}
/// EVAL with more keys than arguments
inline net::reply numkeys_too_many() {
  return net::reply::error("ERR Number of keys can't be greater than number of args");
}
/// EVAL on a front end that cannot reserve partitions (the embedded store)
inline net::reply scripts_not_embedded() {
  return net::reply::error("ERR EVAL does not apply to an embedded store: its front end "
                           "cannot reserve partitions (docs/scripts.md)");
}
/// EVAL that could not reserve its partitions within `ms`
inline net::reply script_busy(uint64_t ms) {
  return net::reply::error("TIMEOUT EVAL could not reserve its partitions within "
                           + std::to_string(ms) + " ms (a worker is busy); nothing ran");
}
/// A request whose partition a running script (or transaction) held past its deadline.
/// As after -TIMEOUT, its outcome is unknown: it still runs once the partition is free.
inline net::reply busy_partition(uint32_t partition) {
  return net::reply::error("BUSY a script holds partition " + std::to_string(partition)
                           + "; this request was not answered in time and may still run "
                             "once the script ends. SCRIPT KILL stops a read-only script.");
}
/// EVAL on a replication chain
inline net::reply scripts_on_chains() {
  return net::reply::error("ERR EVAL is not available on replication chains "
                           "(docs/replication.md)");
}

/// `-ERR <text>`: a message made elsewhere (the option table's CONFIG SET checks)
inline net::reply text(std::string message) { return net::reply::error(std::move(message)); }

} // namespace otkv::cmd::err

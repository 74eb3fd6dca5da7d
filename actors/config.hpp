#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "net/limits.hpp"

namespace otkv {

/// The OTKV version string.
inline constexpr const char* version = "0.1.0";

/// Server settings: command-line flags, or the same keys in a JSON file (--config). The
/// member initialisers are the defaults; option_table() describes each setting.
struct server_config {
  std::string bind = "127.0.0.1";   ///< address to listen on
  uint16_t port = 7379;             ///< TCP port; 0 = any free port
  uint32_t partitions = 0;          ///< 0 = one per core
  uint32_t threads = 0;             ///< scheduler threads; 0 = one per core
  std::string dir = ".";            ///< data directory
  std::string loglevel = "info";    ///< trace, debug, info, warn, error, off
  uint32_t request_timeout_ms = 500; ///< time one attempt of a request may take
  uint32_t request_attempts = 2;    ///< attempts before the client gets a timeout error
  bool enable_debug_command = false; ///< allow DEBUG fault injection (tests only)
  bool appendonly = true;           ///< keep the op log
  std::string appendfsync = "everysec"; ///< always | everysec | no
  uint32_t save_interval = 60;      ///< seconds between snapshots when data changed; 0 = off
  std::string repair_log;           ///< --repair-log FILE: repair that log and exit
  std::string cluster_config;       ///< cluster file: serve as a node of it ("": no cluster)
  /// etcd (HOST:PORT) that holds the chain layout and the nodes' leases: failover
  /// (docs/replication.md); "": the cluster file's chains stay as they are
  std::string cluster_etcd;
  bool cluster_redirect = false;    ///< answer -MOVED instead of forwarding to other nodes
  /// --cluster-init HOST:PORT,…: write a cluster file for these nodes and exit.
  std::string cluster_init;
  /// --cluster-replicas N (with --cluster-init): replicas per slot range, as redis-cli's
  /// (chains of N+1 nodes).
  uint32_t cluster_replicas = 0;
  std::string requirepass;          ///< password for AUTH; empty = none
  uint64_t maxclients = 10000;      ///< connections beyond are refused (see raise_fd_limit)
  bool protected_mode = true;       ///< without a password, serve loopback clients only
  uint64_t output_limit = 1ull << 30; ///< unsent reply bytes before a client is dropped
  net::limits limits;               ///< request size limits (Redis's defaults)
  uint32_t timeout = 0;             ///< seconds a client may idle; 0 = forever
  int64_t slowlog_log_slower_than = 10000; ///< µs; commands this slow enter SLOWLOG; <0 = none
  uint64_t slowlog_max_len = 128;   ///< SLOWLOG entries kept
  bool latency_tracking = true;     ///< INFO latencystats percentiles
  /// Where aggregates leave their packed form (store::encoding_limits, docs/data-types.md).
  uint64_t hash_max_listpack_entries = 128;
  uint64_t hash_max_listpack_value = 64;
  uint64_t set_max_intset_entries = 512;
  uint64_t set_max_listpack_entries = 128;
  uint64_t set_max_listpack_value = 64;
  uint64_t zset_max_listpack_entries = 128;
  uint64_t zset_max_listpack_value = 64;
  int64_t list_max_listpack_size = -2; ///< > 0 items a list node, −1 … −5: 4 … 64 KiB
  std::string config_file;          ///< the JSON file read, if any
  bool help = false;
  bool show_version = false;

  /// Partitions after applying the default.
  uint32_t effective_partitions() const;
  /// Shards (I/O threads) and scheduler threads after applying the default.
  uint32_t effective_threads() const;
  /// The log level in spdlog's names (Redis's verbose, notice, warning mapped).
  std::string spdlog_level() const;
  /// Name/value pairs for CONFIG GET: every option shown, then the Redis names clients ask
  /// for that have no option here (databases, save, maxmemory, …).
  std::vector<std::pair<std::string, std::string>> as_pairs() const;
};

/// The kind of value an option takes.
enum class option_type {
  yes_no,  ///< "yes" or "no"
  integer, ///< a decimal integer from min to max
  bytes,   ///< a byte count from min to max; takes Redis's units (1k = 1000, 1kb = 1024, …)
  text,    ///< any string of at least min characters
  choice,  ///< one of the listed words
};

/// Whether CONFIG SET may change an option while the server runs.
enum class settable { at_start, at_run_time };

/// One server option: the flag `--name value`, the JSON key `name` and the CONFIG name.
struct option {
  std::string name;                 ///< flag without dashes, JSON key, CONFIG name
  option_type type = option_type::text;
  int64_t min = 0;                  ///< integer, bytes: least value; text: least length
  int64_t max = 0;                  ///< integer, bytes: greatest value
  std::vector<std::string> choices; ///< yes_no, choice: the accepted words
  settable when = settable::at_start;
  bool shown = true;                ///< CONFIG GET lists it (not the password)
  std::string value_name;           ///< how --help names a text value: ADDR, PATH …
  std::string help;                 ///< one line for --help
  std::string machine_default;      ///< the default in words where the machine picks it
  /// The value as CONFIG GET shows it.
  std::function<std::string(const server_config&)> get;
  /// Stores a value that passed the checks (integers and byte counts in decimal).
  std::function<void(server_config&, const std::string&)> put;
};

/// Every option, in --help order. Defaults are those of a default-constructed server_config.
const std::vector<option>& option_table();

/// Makes `cfg`'s encoding thresholds (hash-max-listpack-entries …) the process's
/// (store::limits()): aggregates converted from then on follow them.
void apply_encoding_limits(const server_config& cfg);

/// The option called `name`, or nullptr.
const option* find_option(const std::string& name);

/// The value syntax --help shows after the flag: "N", "yes|no", "always|everysec|no", "ADDR".
std::string value_syntax(const option& opt);

/// The default as --help and README.md write it: "7379", "1gb", "none", "one per core".
std::string default_text(const option& opt);

/// The value of option `name` as CONFIG GET shows it, or "" for an unknown name.
std::string get_option(const server_config& cfg, const std::string& name);

/// Sets one setting by its flag name (without dashes). Returns an error message or "".
std::string set_option(server_config& cfg, const std::string& name, const std::string& value);

/// Settings CONFIG SET may change while the server runs (no paths: the CONFIG SET dir attack).
bool runtime_settable(const std::string& name);

/// Applies `--config FILE` (if given) and then every flag in `args` (argv without the
/// program name): `--name value` or `--name=value` for each option, and --repair-log FILE,
/// --help (-h), --version (-v). Returns an error message, or an empty string on success.
std::string parse_config(const std::vector<std::string>& args, server_config& cfg);

/// Applies the keys of a JSON object text to `cfg`. Returns an error message or "".
std::string apply_json(const std::string& json_text, server_config& cfg);

/// The --help text.
std::string usage();

/// Descriptors kept beyond one per client: op log, snapshot, epoll, pipes, stdio (Redis
/// reserves 32 too).
inline constexpr uint64_t reserved_fds = 32;

/// Descriptors each shard beyond the first keeps (its multiplexer's epoll and pipe).
inline constexpr uint64_t fds_per_shard = 3;

/// Descriptors kept beyond one per client by a server with `shards` shards.
inline uint64_t reserved_fds_for(uint32_t shards) {
  return reserved_fds + fds_per_shard * (shards > 0 ? shards - 1 : 0);
}

/// Raises the open file limit (up to the hard limit) so `maxclients` clients fit beside
/// reserved_fds_for(`shards`); returns how many clients the limit fits: `maxclients` if
/// all, 0 if none.
uint64_t raise_fd_limit(uint64_t maxclients, uint32_t shards);

/// Checks CONFIG SET's (name, value) pairs (names lower case) by applying them to `cfg`:
/// returns the error text for the first pair that is not a run-time setting or not a valid
/// value (Redis's wording, "ERR …"), or "" when every pair is good. A front end applies
/// the changes only then, so CONFIG SET is all or nothing.
std::string check_config_set(server_config& cfg,
                             const std::vector<std::pair<std::string, std::string>>& changes);

} // namespace otkv

#include "actors/config.hpp"
#include "store/encoding_limits.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <thread>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "net/integer.hpp"

namespace otkv {

namespace {

uint32_t cores() {
  auto n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

constexpr int64_t kib = 1024;
constexpr int64_t mib = 1024 * kib;
constexpr int64_t gib = 1024 * mib;
constexpr int64_t year_s = 86400 * 365;

// --- Building the table's rows ----------------------------------------------------------

/// The type of the server_config field that `field` (a member pointer or an accessor)
/// reaches.
template <class Field>
using field_type = std::decay_t<std::invoke_result_t<Field, server_config&>>;

/// A field of `limits`, reached from server_config.
template <class T>
auto limit(T net::limits::*member) {
  return [member](auto& cfg) -> auto& { return cfg.limits.*member; };
}

/// A row without type or accessors.
option row(std::string name, settable when, std::string help) {
  option o;
  o.name = std::move(name);
  o.when = when;
  o.help = std::move(help);
  return o;
}

/// An integer from `min` to `max`.
template <class Field>
option integer(std::string name, Field field, int64_t min, int64_t max, settable when,
               std::string help) {
  option o = row(std::move(name), when, std::move(help));
  o.type = option_type::integer;
  o.min = min;
  o.max = max;
  o.get = [field](const server_config& c) { return std::to_string(std::invoke(field, c)); };
  o.put = [field](server_config& c, const std::string& v) {
    std::invoke(field, c) = static_cast<field_type<Field>>(std::stoll(v));
  };
  return o;
}

/// A byte count from `min` to `max`.
template <class Field>
option bytes(std::string name, Field field, int64_t min, int64_t max, settable when,
             std::string help) {
  option o = integer(std::move(name), field, min, max, when, std::move(help));
  o.type = option_type::bytes;
  return o;
}

/// "yes" or "no", for a bool.
option yes_no(std::string name, bool server_config::*field, settable when, std::string help) {
  option o = row(std::move(name), when, std::move(help));
  o.type = option_type::yes_no;
  o.choices = {"yes", "no"};
  o.get = [field](const server_config& c) { return std::string(c.*field ? "yes" : "no"); };
  o.put = [field](server_config& c, const std::string& v) { c.*field = v == "yes"; };
  return o;
}

/// A string; `value_name` names it in --help; `min_length` 1 refuses "".
option text(std::string name, std::string server_config::*field, std::string value_name,
            int64_t min_length, settable when, std::string help) {
  option o = row(std::move(name), when, std::move(help));
  o.type = option_type::text;
  o.min = min_length;
  o.value_name = std::move(value_name);
  o.get = [field](const server_config& c) { return c.*field; };
  o.put = [field](server_config& c, const std::string& v) { c.*field = v; };
  return o;
}

/// One of `choices`.
option choice(std::string name, std::string server_config::*field,
              std::vector<std::string> choices, settable when, std::string help) {
  option o = text(std::move(name), field, "", 0, when, std::move(help));
  o.type = option_type::choice;
  o.choices = std::move(choices);
  return o;
}

/// `o`, whose default 0 means a count the machine's cores decide (`in_words`): CONFIG
/// GET shows `effective` instead.
option per_core(option o, uint32_t (server_config::*effective)() const,
                std::string in_words = "one per core") {
  o.machine_default = std::move(in_words);
  o.get = [effective](const server_config& c) { return std::to_string((c.*effective)()); };
  return o;
}

/// `o`, kept out of CONFIG GET.
option hidden(option o) {
  o.shown = false;
  return o;
}

constexpr settable at_start = settable::at_start;
constexpr settable at_run_time = settable::at_run_time;

std::vector<option> make_table() {
  using c = server_config;
  return {
    text("bind", &c::bind, "ADDR", 1, at_start, "address to listen on"),
    integer("port", &c::port, 0, 65535, at_start, "TCP port; 0 picks a free one"),
    per_core(integer("partitions", &c::partitions, 1, 4096, at_start,
                     "keyspace partitions, one worker actor each"),
             &c::effective_partitions),
    per_core(integer("threads", &c::threads, 1, 1024, at_start,
                     "I/O shards (threads serving connections) and scheduler threads"),
             &c::effective_threads, "one per two cores"),
    text("dir", &c::dir, "PATH", 0, at_start, "data directory: op log and snapshot"),
    yes_no("appendonly", &c::appendonly, at_start, "keep the op log"),
    choice("appendfsync", &c::appendfsync, {"always", "everysec", "no"}, at_start,
           "when the op log is fsynced"),
    integer("save-interval", &c::save_interval, 0, year_s, at_start,
            "seconds between snapshots when data changed; 0 = off"),
    hidden(text("requirepass", &c::requirepass, "PASSWORD", 0, at_run_time,
                "clients must AUTH with it first")),
    integer("maxclients", &c::maxclients, 1, 1000000, at_run_time,
            "connections beyond N are refused"),
    yes_no("protected-mode", &c::protected_mode, at_run_time,
           "without a password, serve loopback clients only"),
    integer("timeout", &c::timeout, 0, year_s, at_run_time,
            "close clients idle for N seconds; 0 = never"),
    bytes("client-output-limit", &c::output_limit, kib, 1024 * gib, at_run_time,
          "drop a client with more than N bytes of unread replies"),
    bytes("proto-max-bulk-len", limit(&net::limits::max_bulk), mib, 1024 * gib, at_run_time,
          "largest argument"),
    bytes("client-query-buffer-limit", limit(&net::limits::max_query), mib, 1024 * gib,
          at_run_time, "most bytes one request may declare"),
    bytes("proto-inline-max-size", limit(&net::limits::max_inline), kib, gib, at_run_time,
          "longest inline command line"),
    integer("proto-max-multibulk-len", limit(&net::limits::max_multibulk), 16, 2 * gib,
            at_run_time, "most arguments in one request"),
    integer("slowlog-log-slower-than", &c::slowlog_log_slower_than, -1, 3600ll * 1000 * 1000,
            at_run_time, "commands taking N µs or more enter SLOWLOG; 0 = all, -1 = none"),
    integer("slowlog-max-len", &c::slowlog_max_len, 0, 1000000, at_run_time,
            "SLOWLOG entries kept"),
    yes_no("latency-tracking", &c::latency_tracking, at_run_time,
           "per-command latency percentiles in INFO latencystats"),
    choice("loglevel", &c::loglevel,
           {"trace", "debug", "info", "warn", "error", "off", "verbose", "notice", "warning"},
           at_run_time, "what the log shows (Redis's verbose, notice, warning too)"),
    integer("hash-max-listpack-entries", &c::hash_max_listpack_entries, 0, 1 << 30, at_run_time,
            "a hash with more fields leaves its packed form"),
    integer("hash-max-listpack-value", &c::hash_max_listpack_value, 0, 1 << 30, at_run_time,
            "a hash with a longer field or value leaves its packed form"),
    integer("hash-max-ziplist-entries", &c::hash_max_listpack_entries, 0, 1 << 30,
                   at_run_time, "Redis's older name of hash-max-listpack-entries"),
    integer("hash-max-ziplist-value", &c::hash_max_listpack_value, 0, 1 << 30,
                   at_run_time, "Redis's older name of hash-max-listpack-value"),
    integer("set-max-intset-entries", &c::set_max_intset_entries, 0, 1 << 30, at_run_time,
            "a set of integers with more members leaves its packed form"),
    integer("set-max-listpack-entries", &c::set_max_listpack_entries, 0, 1 << 30, at_run_time,
            "a set with more members leaves its packed form"),
    integer("set-max-listpack-value", &c::set_max_listpack_value, 0, 1 << 30, at_run_time,
            "a set with a longer member leaves its packed form"),
    integer("zset-max-listpack-entries", &c::zset_max_listpack_entries, 0, 1 << 30, at_run_time,
            "a sorted set with more members leaves its packed form"),
    integer("zset-max-listpack-value", &c::zset_max_listpack_value, 0, 1 << 30, at_run_time,
            "a sorted set with a longer member leaves its packed form"),
    integer("zset-max-ziplist-entries", &c::zset_max_listpack_entries, 0, 1 << 30, at_run_time,
            "Redis's older name of zset-max-listpack-entries"),
    integer("zset-max-ziplist-value", &c::zset_max_listpack_value, 0, 1 << 30, at_run_time,
            "Redis's older name of zset-max-listpack-value"),
    integer("list-max-listpack-size", &c::list_max_listpack_size, -5, 1 << 30, at_run_time,
            "a list node's items (> 0) or bytes (-1 … -5: 4 … 64 KiB)"),
    integer("list-max-ziplist-size", &c::list_max_listpack_size, -5, 1 << 30,
                   at_run_time, "Redis's older name of list-max-listpack-size"),
    integer("request-timeout-ms", &c::request_timeout_ms, 1, 3600000, at_run_time,
            "time one attempt of a request may take"),
    integer("request-attempts", &c::request_attempts, 1, 100, at_run_time,
            "attempts before the client gets a -TIMEOUT error"),
    yes_no("enable-debug-command", &c::enable_debug_command, at_start,
           "allow DEBUG fault injection (tests only)"),
    text("cluster-config", &c::cluster_config, "FILE", 0, at_start,
         "serve as a node of the cluster this JSON file describes (docs/cluster.md)"),
    text("cluster-etcd", &c::cluster_etcd, "HOST:PORT", 0, at_start,
         "with replication chains: etcd keeps the chain layout, failed nodes are removed "
         "and returning ones rejoin (docs/replication.md)"),
    yes_no("cluster-redirect", &c::cluster_redirect, at_start,
           "in a cluster, answer -MOVED for other nodes' slots instead of forwarding"),
  };
}

// --- Checking values ---------------------------------------------------------------------

std::string invalid(const option& opt, const std::string& text, const std::string& expected) {
  return "invalid value '" + text + "' for " + opt.name + " (" + expected + ")";
}

/// "a, b or c".
std::string either(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i)
    out += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
  return out;
}

/// An integer in [opt.min, opt.max].
std::string check_integer(const option& opt, const std::string& text, std::string& value) {
  int64_t v = 0;
  if (!net::parse_int64(text, v) || v < opt.min || v > opt.max)
    return invalid(opt, text, "expected an integer from " + std::to_string(opt.min) + " to "
                                  + std::to_string(opt.max));
  value = std::to_string(v);
  return {};
}

/// A byte count with Redis's memory units (1k = 1000, 1kb = 1024, m, mb, g, gb; any case)
/// in [opt.min, opt.max].
std::string check_bytes(const option& opt, const std::string& text, std::string& value) {
  static const std::pair<const char*, int64_t> units[] = {
    {"kb", kib}, {"mb", mib}, {"gb", gib}, {"k", 1000}, {"m", 1000 * 1000},
    {"g", 1000 * 1000 * 1000}};
  std::string lower;
  for (char ch : text)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string digits = text;
  int64_t scale = 1;
  for (const auto& [suffix, factor] : units) {
    std::string s = suffix;
    if (lower.size() > s.size() && lower.compare(lower.size() - s.size(), s.size(), s) == 0) {
      digits = text.substr(0, text.size() - s.size());
      scale = factor;
      break;
    }
  }
  int64_t v = 0;
  if (!net::parse_int64(digits, v) || v < 0 || v > opt.max / scale || v * scale < opt.min)
    return invalid(opt, text, "expected bytes from " + std::to_string(opt.min) + " to "
                                  + std::to_string(opt.max) + "; units k, kb, m, mb, g, gb");
  value = std::to_string(v * scale);
  return {};
}

/// One of opt.choices.
std::string check_choice(const option& opt, const std::string& text, std::string& value) {
  if (std::find(opt.choices.begin(), opt.choices.end(), text) == opt.choices.end())
    return invalid(opt, text, either(opt.choices));
  value = text;
  return {};
}

/// A string of at least opt.min characters.
std::string check_text(const option& opt, const std::string& text, std::string& value) {
  if (static_cast<int64_t>(text.size()) < opt.min)
    return invalid(opt, text, "expected a non-empty " + opt.value_name);
  value = text;
  return {};
}

/// Checks `text` against `opt`'s type and range; sets `value` to the form `opt.put` takes.
std::string check_value(const option& opt, const std::string& text, std::string& value) {
  switch (opt.type) {
    case option_type::integer: return check_integer(opt, text, value);
    case option_type::bytes: return check_bytes(opt, text, value);
    case option_type::yes_no:
    case option_type::choice: return check_choice(opt, text, value);
    case option_type::text: return check_text(opt, text, value);
  }
  return "unknown option type";
}

/// `n` bytes in the largest unit that holds it whole: 1gb, 512mb, 64kb, 100.
std::string with_unit(int64_t n) {
  static const std::pair<const char*, int64_t> units[] = {{"gb", gib}, {"mb", mib}, {"kb", kib}};
  for (const auto& [unit, size] : units)
    if (n >= size && n % size == 0)
      return std::to_string(n / size) + unit;
  return std::to_string(n);
}

/// CONFIG GET names Redis clients ask for that OTKV has no option for.
std::vector<std::pair<std::string, std::string>> redis_only_pairs(const server_config& cfg) {
  return {{"databases", "1"},
          {"save", cfg.save_interval == 0 ? "" : std::to_string(cfg.save_interval) + " 1"},
          {"maxmemory", "0"},
          {"latency-tracking-info-percentiles", "50 99 99.9"}};
}

/// One --help line: the flag and its value in a column, then `marker` ("* " or "  ") and
/// the text.
std::string help_line(const std::string& flag, const char* marker, const std::string& text) {
  std::string left = "  " + flag;
  left.resize(std::max<size_t>(left.size() + 1, 32), ' ');
  return left + marker + text + "\n";
}

/// The --help line of `opt`, marked * if CONFIG SET may change it.
std::string usage_line(const option& opt) {
  return help_line("--" + opt.name + " " + value_syntax(opt),
                   opt.when == settable::at_run_time ? "* " : "  ",
                   opt.help + " (default " + default_text(opt) + ")");
}

} // namespace

// --- The table and its users -------------------------------------------------------------

void apply_encoding_limits(const server_config& cfg) {
  auto& l = store::limits();
  l.hash_max_entries.store(cfg.hash_max_listpack_entries, std::memory_order_relaxed);
  l.hash_max_value.store(cfg.hash_max_listpack_value, std::memory_order_relaxed);
  l.set_max_intset_entries.store(cfg.set_max_intset_entries, std::memory_order_relaxed);
  l.set_max_entries.store(cfg.set_max_listpack_entries, std::memory_order_relaxed);
  l.set_max_value.store(cfg.set_max_listpack_value, std::memory_order_relaxed);
  l.zset_max_entries.store(cfg.zset_max_listpack_entries, std::memory_order_relaxed);
  l.zset_max_value.store(cfg.zset_max_listpack_value, std::memory_order_relaxed);
  l.list_max_node.store(cfg.list_max_listpack_size, std::memory_order_relaxed);
}

const std::vector<option>& option_table() {
  static const std::vector<option> table = make_table();
  return table;
}

const option* find_option(const std::string& name) {
  for (const auto& opt : option_table())
    if (opt.name == name)
      return &opt;
  return nullptr;
}

std::string value_syntax(const option& opt) {
  switch (opt.type) {
    case option_type::integer:
    case option_type::bytes: return "N";
    case option_type::text: return opt.value_name;
    case option_type::yes_no:
    case option_type::choice: break;
  }
  std::string out;
  for (const auto& word : opt.choices)
    out += (out.empty() ? "" : "|") + word;
  return out;
}

std::string default_text(const option& opt) {
  if (!opt.machine_default.empty())
    return opt.machine_default;
  std::string value = opt.get(server_config{});
  if (value.empty())
    return "none";
  if (opt.type == option_type::bytes)
    return with_unit(std::stoll(value));
  return value;
}

std::string get_option(const server_config& cfg, const std::string& name) {
  const option* opt = find_option(name);
  return opt != nullptr ? opt->get(cfg) : std::string();
}

std::string set_option(server_config& cfg, const std::string& name, const std::string& value) {
  const option* opt = find_option(name);
  if (opt == nullptr)
    return "unknown option '" + name + "' (see --help)";
  std::string checked;
  if (auto err = check_value(*opt, value, checked); !err.empty())
    return err;
  opt->put(cfg, checked);
  return {};
}

bool runtime_settable(const std::string& name) {
  const option* opt = find_option(name);
  return opt != nullptr && opt->when == settable::at_run_time;
}

uint32_t server_config::effective_partitions() const {
  return partitions != 0 ? partitions : cores();
}

std::string server_config::spdlog_level() const {
  if (loglevel == "verbose")
    return "debug";
  if (loglevel == "notice")
    return "info";
  return loglevel == "warning" ? "warn" : loglevel;
}

uint32_t server_config::effective_threads() const {
  // Each shard's requests need a core for its I/O thread and, part of the time, one for
  // the partition workers and the clients: on 2 cores, 2 shards cost 60% more CPU per
  // unpipelined request than 1 (they sleep and wake per request) and raised p99
  // (docs/benchmarks.md, "Shards").
  return threads != 0 ? threads : std::max<uint32_t>(1, cores() / 2);
}

std::vector<std::pair<std::string, std::string>> server_config::as_pairs() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& opt : option_table())
    if (opt.shown)
      out.emplace_back(opt.name, opt.get(*this));
  for (auto& pair : redis_only_pairs(*this))
    out.push_back(std::move(pair));
  return out;
}

std::string apply_json(const std::string& text, server_config& cfg) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return "the config file is not a JSON object";
  for (auto& [key, value] : j.items()) {
    std::string v;
    if (value.is_string())
      v = value.get<std::string>();
    else if (value.is_number_integer())
      v = std::to_string(value.get<int64_t>());
    else
      return "config key '" + key + "' must be a string or an integer";
    if (auto err = set_option(cfg, key, v); !err.empty())
      return err;
  }
  return {};
}

std::string parse_config(const std::vector<std::string>& args, server_config& cfg) {
  // Split "--name=value" and "--name value" into pairs first.
  std::vector<std::pair<std::string, std::string>> flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--help" || a == "-h") {
      cfg.help = true;
      continue;
    }
    if (a == "--version" || a == "-v") {
      cfg.show_version = true;
      continue;
    }
    if (a.size() < 3 || a.compare(0, 2, "--") != 0)
      return "unexpected argument '" + a + "' (see --help)";
    auto eq = a.find('=');
    if (eq != std::string::npos) {
      flags.emplace_back(a.substr(2, eq - 2), a.substr(eq + 1));
    } else {
      if (i + 1 >= args.size())
        return "option '" + a + "' needs a value";
      flags.emplace_back(a.substr(2), args[++i]);
    }
  }
  for (auto& [name, value] : flags) {
    if (name != "config")
      continue;
    std::ifstream in(value);
    if (!in)
      return "cannot read config file '" + value + "'";
    std::stringstream ss;
    ss << in.rdbuf();
    if (auto err = apply_json(ss.str(), cfg); !err.empty())
      return value + ": " + err;
    cfg.config_file = value;
  }
  for (auto& [name, value] : flags) {
    if (name == "config")
      continue;
    if (name == "repair-log")
      cfg.repair_log = value;
    else if (name == "cluster-init")
      cfg.cluster_init = value;
    else if (name == "cluster-replicas") {
      char* end = nullptr;
      auto n = std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n > 15)
        return "--cluster-replicas must be 0 to 15 (copies beyond the first, as redis-cli's)";
      cfg.cluster_replicas = static_cast<uint32_t>(n);
    } else if (auto err = set_option(cfg, name, value); !err.empty())
      return err;
  }
  return {};
}

std::string usage() {
  std::string out = "Usage: otkv-server [options]\n\n";
  out += help_line("--config FILE", "  ", "JSON file with any of the keys below (flags win)");
  for (const auto& opt : option_table())
    out += usage_line(opt);
  out += help_line("--repair-log FILE", "  ",
                   "cut a damaged op log after its last valid record, then exit");
  out += help_line("--cluster-init HOST:PORT,...", "  ",
                   "write a cluster file for these nodes (slots split evenly) to "
                   "--cluster-config FILE, then exit");
  out += help_line("--cluster-replicas N", "  ",
                   "with --cluster-init: N replicas per slot range, so every N+1 nodes in a "
                   "row form a replication chain");
  out += help_line("--help, --version", "  ", "print this text, or the version, and exit");
  out += "\nSizes take k, kb, m, mb, g, gb. * = CONFIG SET may change it while the server runs.\n";
  return out;
}

uint64_t raise_fd_limit(uint64_t maxclients, uint32_t shards) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return maxclients;
  uint64_t reserved = reserved_fds_for(shards);
  uint64_t want = maxclients + reserved;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < want) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want : std::min<uint64_t>(want, lim.rlim_max);
    if (raised.rlim_cur > lim.rlim_cur && ::setrlimit(RLIMIT_NOFILE, &raised) == 0)
      lim = raised;
  }
  if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= want)
    return maxclients;
  return lim.rlim_cur > reserved ? lim.rlim_cur - reserved : 0;
}

std::string check_config_set(server_config& cfg,
                             const std::vector<std::pair<std::string, std::string>>& changes) {
  for (const auto& [name, value] : changes) {
    if (name == "save") { // Redis's form of --save-interval, which is set at start only
      if (value != redis_only_pairs(cfg)[1].second)
        return "ERR CONFIG SET failed (possibly related to argument 'save') - the snapshot "
               "interval is set at start (--save-interval); only its current value is taken";
      continue; // as it is: nothing to change
    }
    if (!runtime_settable(name))
      return "ERR Unknown option or number of arguments for CONFIG SET - '" + name + "'";
    auto err = set_option(cfg, name, value);
    if (err.empty() && name == "maxclients") {
      // As Redis: the descriptor limit must fit them (it is raised where it can be).
      if (auto fit = raise_fd_limit(cfg.maxclients, cfg.effective_threads());
          fit < cfg.maxclients)
        err = "The operating system is not able to handle the specified number of clients, "
              "try with " + std::to_string(fit);
    }
    if (!err.empty())
      return "ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + err;
  }
  return {};
}

} // namespace otkv

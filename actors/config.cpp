#include "actors/config.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "net/integer.hpp"

namespace otkv {

namespace {

uint32_t cores() {
  auto n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

/// Parses an unsigned integer in [min, max]; returns an error message or "".
std::string to_uint(const std::string& name, const std::string& text, uint64_t min, uint64_t max,
                    uint64_t& out) {
  int64_t v = 0;
  if (!net::parse_int64(text, v) || v < static_cast<int64_t>(min)
      || static_cast<uint64_t>(v) > max)
    return "invalid value '" + text + "' for " + name + " (expected an integer from "
           + std::to_string(min) + " to " + std::to_string(max) + ")";
  out = static_cast<uint64_t>(v);
  return {};
}

/// Parses a byte count with Redis's memory units (1k = 1000, 1kb = 1024, m, mb, g, gb; any
/// case) in [min, max]; returns an error message or "".
std::string to_bytes(const std::string& name, const std::string& text, uint64_t min,
                     uint64_t max, uint64_t& out) {
  static const std::pair<const char*, uint64_t> units[] = {
    {"kb", 1024ull}, {"mb", 1024ull * 1024}, {"gb", 1024ull * 1024 * 1024},
    {"k", 1000ull},  {"m", 1000ull * 1000},  {"g", 1000ull * 1000 * 1000}};
  std::string digits = text;
  uint64_t scale = 1;
  std::string lower;
  for (char ch : text)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const auto& [suffix, factor] : units) {
    std::string s = suffix;
    if (lower.size() > s.size() && lower.compare(lower.size() - s.size(), s.size(), s) == 0) {
      digits = text.substr(0, text.size() - s.size());
      scale = factor;
      break;
    }
  }
  int64_t v = 0;
  auto error = [&] {
    return "invalid value '" + text + "' for " + name + " (expected bytes from "
           + std::to_string(min) + " to " + std::to_string(max) + "; units k, kb, m, mb, g, gb)";
  };
  if (!net::parse_int64(digits, v) || v < 0
      || static_cast<uint64_t>(v) > max / scale)
    return error();
  out = static_cast<uint64_t>(v) * scale;
  if (out < min)
    return error();
  return {};
}

const char* const loglevels[] = {"trace", "debug", "info", "warn", "error", "off"};

} // namespace

std::string set_option(server_config& cfg, const std::string& name, const std::string& value) {
  uint64_t v = 0;
  std::string err;
  if (name == "bind") {
    if (value.empty())
      return "--bind needs an address";
    cfg.bind = value;
  } else if (name == "port") {
    if ((err = to_uint(name, value, 0, 65535, v)).empty())
      cfg.port = static_cast<uint16_t>(v);
  } else if (name == "partitions") {
    if ((err = to_uint(name, value, 1, 4096, v)).empty())
      cfg.partitions = static_cast<uint32_t>(v);
  } else if (name == "threads") {
    if ((err = to_uint(name, value, 1, 1024, v)).empty())
      cfg.threads = static_cast<uint32_t>(v);
  } else if (name == "dir") {
    cfg.dir = value;
  } else if (name == "loglevel") {
    for (auto* l : loglevels)
      if (value == l) {
        cfg.loglevel = value;
        return {};
      }
    return "invalid value '" + value + "' for loglevel (trace, debug, info, warn, error, off)";
  } else if (name == "request-timeout-ms") {
    if ((err = to_uint(name, value, 1, 3600000, v)).empty())
      cfg.request_timeout_ms = static_cast<uint32_t>(v);
  } else if (name == "request-attempts") {
    if ((err = to_uint(name, value, 1, 100, v)).empty())
      cfg.request_attempts = static_cast<uint32_t>(v);
  } else if (name == "appendonly") {
    if (value != "yes" && value != "no")
      return "invalid value '" + value + "' for appendonly (yes or no)";
    cfg.appendonly = value == "yes";
  } else if (name == "appendfsync") {
    if (value != "always" && value != "everysec" && value != "no")
      return "invalid value '" + value + "' for appendfsync (always, everysec or no)";
    cfg.appendfsync = value;
  } else if (name == "save-interval") {
    if ((err = to_uint(name, value, 0, 86400 * 365, v)).empty())
      cfg.save_interval = static_cast<uint32_t>(v);
  } else if (name == "requirepass") {
    cfg.requirepass = value;
  } else if (name == "maxclients") {
    if ((err = to_uint(name, value, 1, 1000000, v)).empty())
      cfg.maxclients = v;
  } else if (name == "protected-mode") {
    if (value != "yes" && value != "no")
      return "invalid value '" + value + "' for protected-mode (yes or no)";
    cfg.protected_mode = value == "yes";
  } else if (name == "client-output-limit") {
    if ((err = to_bytes(name, value, 1024, 1ull << 40, v)).empty())
      cfg.output_limit = v;
  } else if (name == "proto-max-bulk-len") {
    if ((err = to_bytes(name, value, 1024 * 1024, 1ull << 40, v)).empty())
      cfg.limits.max_bulk = v;
  } else if (name == "client-query-buffer-limit") {
    if ((err = to_bytes(name, value, 1024 * 1024, 1ull << 40, v)).empty())
      cfg.limits.max_query = v;
  } else if (name == "proto-inline-max-size") {
    if ((err = to_bytes(name, value, 1024, 1ull << 30, v)).empty())
      cfg.limits.max_inline = v;
  } else if (name == "proto-max-multibulk-len") {
    if ((err = to_uint(name, value, 16, 1ull << 31, v)).empty())
      cfg.limits.max_multibulk = v;
  } else if (name == "timeout") {
    if ((err = to_uint(name, value, 0, 86400 * 365, v)).empty())
      cfg.timeout = static_cast<uint32_t>(v);
  } else if (name == "slowlog-log-slower-than") {
    int64_t us = 0;
    if (!net::parse_int64(value, us) || us < -1 || us > 3600ll * 1000 * 1000)
      return "invalid value '" + value + "' for slowlog-log-slower-than (expected -1 to "
             "3600000000 microseconds; -1 = off, 0 = every command)";
    cfg.slowlog_log_slower_than = us;
  } else if (name == "slowlog-max-len") {
    if ((err = to_uint(name, value, 0, 1000000, v)).empty())
      cfg.slowlog_max_len = v;
  } else if (name == "latency-tracking") {
    if (value != "yes" && value != "no")
      return "invalid value '" + value + "' for latency-tracking (yes or no)";
    cfg.latency_tracking = value == "yes";
  } else if (name == "repair-log") {
    cfg.repair_log = value;
  } else if (name == "enable-debug-command") {
    if (value != "yes" && value != "no")
      return "invalid value '" + value + "' for enable-debug-command (yes or no)";
    cfg.enable_debug_command = value == "yes";
  } else {
    return "unknown option '" + name + "' (see --help)";
  }
  return err;
}

uint32_t server_config::effective_partitions() const {
  return partitions != 0 ? partitions : cores();
}

uint32_t server_config::effective_threads() const {
  return threads != 0 ? threads : cores();
}

std::vector<std::pair<std::string, std::string>> server_config::as_pairs() const {
  return {{"bind", bind},
          {"port", std::to_string(port)},
          {"dir", dir},
          {"loglevel", loglevel},
          {"partitions", std::to_string(effective_partitions())},
          {"threads", std::to_string(effective_threads())},
          {"request-timeout-ms", std::to_string(request_timeout_ms)},
          {"request-attempts", std::to_string(request_attempts)},
          {"enable-debug-command", enable_debug_command ? "yes" : "no"},
          {"databases", "1"},
          {"save", save_interval == 0 ? "" : std::to_string(save_interval) + " 1"},
          {"appendonly", appendonly ? "yes" : "no"},
          {"appendfsync", appendfsync},
          {"save-interval", std::to_string(save_interval)},
          {"maxmemory", "0"},
          {"timeout", std::to_string(timeout)},
          {"client-output-limit", std::to_string(output_limit)},
          {"protected-mode", protected_mode ? "yes" : "no"},
          {"maxclients", std::to_string(maxclients)},
          {"slowlog-log-slower-than", std::to_string(slowlog_log_slower_than)},
          {"slowlog-max-len", std::to_string(slowlog_max_len)},
          {"latency-tracking", latency_tracking ? "yes" : "no"},
          {"latency-tracking-info-percentiles", "50 99 99.9"},
          {"proto-max-bulk-len", std::to_string(limits.max_bulk)},
          {"client-query-buffer-limit", std::to_string(limits.max_query)},
          {"proto-inline-max-size", std::to_string(limits.max_inline)},
          {"proto-max-multibulk-len", std::to_string(limits.max_multibulk)}};
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
  for (auto& [name, value] : flags)
    if (name != "config")
      if (auto err = set_option(cfg, name, value); !err.empty())
        return err;
  return {};
}

std::string usage() {
  return "Usage: otkv-server [options]\n"
         "\n"
         "  --config FILE             JSON file with any of the keys below (flags win)\n"
         "  --bind ADDR               address to listen on (default 127.0.0.1)\n"
         "  --port N                  TCP port, 0 = any free port (default 7379)\n"
         "  --partitions N            keyspace partitions (default: one per core)\n"
         "  --threads N               actor scheduler threads (default: one per core)\n"
         "  --dir PATH                data directory (default .)\n"
         "  --loglevel LEVEL          trace|debug|info|warn|error|off (default info)\n"
         "  --request-timeout-ms N    time one attempt of a request may take (default 500)\n"
         "  --request-attempts N      attempts before a timeout error (default 2)\n"
         "  --appendonly yes|no       keep the op log in --dir (default yes)\n"
         "  --appendfsync always|everysec|no  when the op log is fsynced (default everysec)\n"
         "  --save-interval N         seconds between snapshots if data changed; 0 = off (60)\n"
         "  --repair-log FILE         cut a damaged op log after its last valid record, exit\n"
         "  --requirepass PASSWORD    clients must AUTH with it (default: none)\n"
         "  --maxclients N            connections beyond N are refused (default 10000)\n"
         "  --protected-mode yes|no   without a password, serve loopback clients only (yes)\n"
         "  --timeout N               close clients idle for N seconds; 0 = never (default 0)\n"
         "  --client-output-limit N   drop a client with N bytes of unread replies (1gb)\n"
         "  --proto-max-bulk-len N    largest argument (512mb); sizes take k/kb/m/mb/g/gb\n"
         "  --client-query-buffer-limit N  most bytes one request may declare (1gb)\n"
         "  --proto-inline-max-size N longest inline command line (64kb)\n"
         "  --proto-max-multibulk-len N  most arguments in one request (1048576)\n"
         "  --slowlog-log-slower-than N  log commands taking N µs or more; -1 = off (10000)\n"
         "  --slowlog-max-len N       SLOWLOG entries kept (default 128)\n"
         "  --latency-tracking yes|no per-command latency percentiles in INFO (default yes)\n"
         "  --enable-debug-command yes|no   allow DEBUG fault injection (default no; tests only)\n"
         "  --help, --version\n";
}

uint64_t raise_fd_limit(uint64_t maxclients) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return maxclients;
  uint64_t want = maxclients + reserved_fds;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < want) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want : std::min<uint64_t>(want, lim.rlim_max);
    if (raised.rlim_cur > lim.rlim_cur && ::setrlimit(RLIMIT_NOFILE, &raised) == 0)
      lim = raised;
  }
  if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= want)
    return maxclients;
  return lim.rlim_cur > reserved_fds ? lim.rlim_cur - reserved_fds : 0;
}

std::string check_config_set(server_config& cfg,
                             const std::vector<std::pair<std::string, std::string>>& changes) {
  for (const auto& [name, value] : changes) {
    if (!runtime_settable(name))
      return "ERR Unknown option or number of arguments for CONFIG SET - '" + name + "'";
    auto err = set_option(cfg, name, value);
    if (err.empty() && name == "maxclients") {
      // As Redis: the descriptor limit must fit them (it is raised where it can be).
      if (auto fit = raise_fd_limit(cfg.maxclients); fit < cfg.maxclients)
        err = "The operating system is not able to handle the specified number of clients, "
              "try with " + std::to_string(fit);
    }
    if (!err.empty())
      return "ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + err;
  }
  return {};
}

} // namespace otkv

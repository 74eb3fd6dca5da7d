#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "actors/config.hpp"
#include "markdown_table.hpp"

using otkv::parse_config;
using otkv::server_config;

TEST_CASE("Flags override defaults", "[config]") {
  server_config cfg;
  CHECK(parse_config({"--port", "0", "--bind=0.0.0.0", "--partitions", "8"}, cfg).empty());
  CHECK(cfg.port == 0);
  CHECK(cfg.bind == "0.0.0.0");
  CHECK(cfg.effective_partitions() == 8);
  server_config defaults;
  CHECK(parse_config({}, defaults).empty());
  CHECK(defaults.bind == "127.0.0.1");
  CHECK(defaults.port == 7379);
  CHECK(defaults.effective_partitions() >= 1);
}

TEST_CASE("Bad flags are refused with a message", "[config]") {
  server_config cfg;
  CHECK(parse_config({"--port", "70000"}, cfg).find("invalid value '70000' for port") == 0);
  CHECK(parse_config({"--nope", "1"}, cfg).find("unknown option 'nope'") == 0);
  CHECK(parse_config({"--port"}, cfg).find("needs a value") != std::string::npos);
  CHECK(parse_config({"stray"}, cfg).find("unexpected argument") == 0);
  CHECK(parse_config({"--loglevel", "loud"}, cfg).find("invalid value 'loud'") == 0);
  CHECK(parse_config({"--partitions", "0"}, cfg).find("invalid value") == 0);
}

TEST_CASE("Redis's log level names are taken too", "[config]") {
  for (auto [given, level] : std::vector<std::pair<std::string, std::string>>{
         {"warning", "warn"}, {"notice", "info"}, {"verbose", "debug"}, {"error", "error"}}) {
    server_config cfg;
    REQUIRE(parse_config({"--loglevel", given}, cfg).empty());
    CHECK(cfg.spdlog_level() == level);
  }
}

TEST_CASE("A JSON config file sets the same keys; flags win", "[config]") {
  const char* path = "otkv_config_test.json";
  {
    std::ofstream out(path);
    out << R"({"port": 7400, "bind": "127.0.0.2", "loglevel": "warn", "request-attempts": 3})";
  }
  server_config cfg;
  CHECK(parse_config({"--config", path, "--port", "7401"}, cfg).empty());
  CHECK(cfg.port == 7401);
  CHECK(cfg.bind == "127.0.0.2");
  CHECK(cfg.loglevel == "warn");
  CHECK(cfg.request_attempts == 3);
  CHECK(cfg.config_file == path);
  std::remove(path);
  server_config bad;
  CHECK(otkv::apply_json("[1,2]", bad) == "the config file is not a JSON object");
  CHECK(otkv::apply_json("{\"port\": true}", bad).find("must be a string or an integer")
        != std::string::npos);
  CHECK(parse_config({"--config", "/nonexistent/x.json"}, bad).find("cannot read") == 0);
}

#include "actors/protected_mode.hpp"

TEST_CASE("protected mode serves loopback clients only, unless a password is set", "[security]") {
  using otkv::protected_mode_denies;
  CHECK_FALSE(protected_mode_denies(true, false, "127.0.0.1"));
  CHECK_FALSE(protected_mode_denies(true, false, "127.10.20.30"));
  CHECK_FALSE(protected_mode_denies(true, false, "::1"));
  CHECK_FALSE(protected_mode_denies(true, false, "::ffff:127.0.0.1"));
  CHECK(protected_mode_denies(true, false, "192.0.2.7"));
  CHECK(protected_mode_denies(true, false, "::ffff:198.51.100.1"));
  CHECK(protected_mode_denies(true, false, "2001:db8::1"));
  CHECK_FALSE(protected_mode_denies(true, true, "192.0.2.7"));  // a password is set
  CHECK_FALSE(protected_mode_denies(false, false, "192.0.2.7")); // protected mode off
  server_config cfg;
  CHECK(cfg.protected_mode);
  CHECK(parse_config({"--protected-mode", "no"}, cfg).empty());
  CHECK_FALSE(cfg.protected_mode);
  CHECK(parse_config({"--protected-mode", "maybe"}, cfg).find("invalid value") == 0);
}

TEST_CASE("Request size limits are flags with Redis's defaults and memory units", "[config]") {
  server_config defaults;
  CHECK(defaults.limits.max_bulk == 512ull * 1024 * 1024);
  CHECK(defaults.limits.max_query == 1024ull * 1024 * 1024);
  CHECK(defaults.limits.max_inline == 64 * 1024);
  CHECK(defaults.limits.max_multibulk == 1024 * 1024);

  server_config cfg;
  CHECK(parse_config({"--proto-max-bulk-len", "2mb", "--client-query-buffer-limit", "1GB",
                      "--proto-inline-max-size", "4k", "--proto-max-multibulk-len", "100",
                      "--client-output-limit", "10mb"},
                     cfg)
          .empty());
  CHECK(cfg.limits.max_bulk == 2 * 1024 * 1024);
  CHECK(cfg.limits.max_query == 1024ull * 1024 * 1024);
  CHECK(cfg.limits.max_inline == 4000);
  CHECK(cfg.limits.max_multibulk == 100);
  CHECK(cfg.output_limit == 10 * 1024 * 1024);
  CHECK(parse_config({"--proto-max-bulk-len", "1048576"}, cfg).empty());
  CHECK(cfg.limits.max_bulk == 1048576);

  // Out of range or malformed: refused, naming the units.
  CHECK(parse_config({"--proto-max-bulk-len", "1kb"}, cfg).find("invalid value '1kb'") == 0);
  CHECK(parse_config({"--proto-max-bulk-len", "12xb"}, cfg).find("units k, kb") != std::string::npos);
  CHECK(parse_config({"--client-query-buffer-limit", "-1"}, cfg).find("invalid value") == 0);
  CHECK(parse_config({"--client-query-buffer-limit", "99999999999gb"}, cfg).find("invalid value")
        == 0);
  CHECK(parse_config({"--proto-max-multibulk-len", "1"}, cfg).find("invalid value") == 0);

  // CONFIG GET reports them; CONFIG SET may change them.
  auto pairs = cfg.as_pairs();
  auto has = [&](const std::string& name, const std::string& value) {
    for (auto& [n, v] : pairs)
      if (n == name)
        return v == value;
    return false;
  };
  CHECK(has("proto-max-bulk-len", "1048576"));
  CHECK(has("proto-max-multibulk-len", "100"));
  CHECK(otkv::runtime_settable("proto-max-bulk-len"));
  CHECK(otkv::runtime_settable("client-query-buffer-limit"));
  CHECK_FALSE(otkv::runtime_settable("dir"));
}

TEST_CASE("Pre-AUTH limits never exceed the configured ones", "[config]") {
  otkv::net::limits small;
  small.max_bulk = 1024;
  small.max_multibulk = 4;
  auto pre = otkv::net::unauthenticated_limits(small);
  CHECK(pre.max_bulk == 1024);
  CHECK(pre.max_multibulk == 4);
  auto normal = otkv::net::unauthenticated_limits(otkv::net::limits{});
  CHECK(normal.max_bulk == 16 * 1024);
  CHECK(normal.max_multibulk == 10);
}

// --- The option table and what is made from it -----------------------------------------

#include <map>
#include <set>

namespace {

using otkv::option;
using otkv::option_table;
using otkv::option_type;

/// Flags that are commands rather than settings: not in the option table.
const std::set<std::string> command_flags = {"config",       "repair-log", "cluster-init",
                                             "cluster-replicas", "help",   "version"};

/// `cell` without spaces around it and without backticks.
std::string plain(const std::string& cell) {
  std::string out;
  for (char ch : cell)
    if (ch != '`')
      out += ch;
  return otkv::test::trim(out);
}

/// The flag names in a first cell: "`--appendonly yes\|no`" → appendonly.
std::vector<std::string> flag_names(const std::string& cell) {
  std::vector<std::string> out;
  for (size_t i = cell.find("`--"); i != std::string::npos; i = cell.find("`--", i + 1)) {
    auto end = cell.find_first_of(" `", i + 3);
    out.push_back(cell.substr(i + 3, end - (i + 3)));
  }
  return out;
}

/// README.md's flags table: flag name → default cell (backticks removed).
std::map<std::string, std::string> readme_flags() {
  std::ifstream in(OTKV_SOURCE_DIR "/README.md");
  REQUIRE(in.good());
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| `--", 0) != 0)
      continue;
    auto cells = otkv::test::row_cells(line);
    REQUIRE(cells.size() >= 3);
    for (const auto& name : flag_names(cells[0])) {
      INFO(line);
      CHECK(out.count(name) == 0);
      out[name] = plain(cells[1]);
    }
  }
  return out;
}

/// A valid value for `opt` other than its default, and how CONFIG GET shows it.
std::pair<std::string, std::string> sample_value(const option& opt) {
  std::string current = opt.get(server_config{});
  switch (opt.type) {
    case option_type::integer: {
      auto v = std::to_string(opt.min) == current ? opt.max : opt.min;
      return {std::to_string(v), std::to_string(v)};
    }
    case option_type::bytes:
      return {std::to_string(opt.min / 1024) + "kb", std::to_string(opt.min)};
    case option_type::yes_no:
    case option_type::choice:
      for (const auto& word : opt.choices)
        if (word != current)
          return {word, word};
      break;
    case option_type::text:
      break;
  }
  return {"some-text", "some-text"};
}

/// The value CONFIG GET (as_pairs) lists for `name`, or "(absent)".
std::string listed(const server_config& cfg, const std::string& name) {
  for (const auto& [n, v] : cfg.as_pairs())
    if (n == name)
      return v;
  return "(absent)";
}

} // namespace

TEST_CASE("README.md's flag table lists every option with its default", "[config][docs]") {
  auto documented = readme_flags();
  for (const auto& name : command_flags) {
    INFO(name);
    CHECK(documented.count(name) == 1);
  }
  std::set<std::string> in_table;
  for (const auto& opt : option_table()) {
    INFO("--" << opt.name);
    in_table.insert(opt.name);
    REQUIRE(documented.count(opt.name) == 1);
    CHECK(documented[opt.name] == otkv::default_text(opt));
  }
  for (const auto& [name, default_cell] : documented) {
    INFO("README.md documents --" << name);
    CHECK((in_table.count(name) == 1 || command_flags.count(name) == 1));
  }
}

TEST_CASE("Every option round-trips from its flag to CONFIG GET", "[config]") {
  for (const auto& opt : option_table()) {
    auto [text, shown] = sample_value(opt);
    INFO("--" << opt.name << " " << text);
    CHECK(shown != otkv::get_option(server_config{}, opt.name)); // really a change

    server_config spaced;
    REQUIRE(parse_config({"--" + opt.name, text}, spaced).empty());
    CHECK(otkv::get_option(spaced, opt.name) == shown);
    CHECK(listed(spaced, opt.name) == (opt.shown ? shown : "(absent)"));

    server_config joined;
    REQUIRE(parse_config({"--" + opt.name + "=" + text}, joined).empty());
    CHECK(otkv::get_option(joined, opt.name) == shown);

    server_config json;
    REQUIRE(otkv::apply_json("{\"" + opt.name + "\": \"" + text + "\"}", json).empty());
    CHECK(otkv::get_option(json, opt.name) == shown);
  }
  // CONFIG GET also answers the Redis names clients ask for.
  server_config cfg;
  CHECK(listed(cfg, "databases") == "1");
  CHECK(listed(cfg, "save") == "60 1");
  CHECK(listed(cfg, "requirepass") == "(absent)"); // never shown
  CHECK(parse_config({"--repair-log", "x.log"}, cfg).empty());
  CHECK(cfg.repair_log == "x.log");
  CHECK(otkv::apply_json(R"({"repair-log": "x.log"})", cfg).find("unknown option") == 0);
  CHECK(parse_config({"--cluster-replicas", "2"}, cfg).empty());
  CHECK(cfg.cluster_replicas == 2); // copies beyond the first: chains of 3
  CHECK(parse_config({"--cluster-replicas", "0"}, cfg).empty());
  for (const char* bad : {"16", "x", "", "-1"})
    CHECK(parse_config({"--cluster-replicas", bad}, cfg).find("0 to 15") != std::string::npos);
}

TEST_CASE("CONFIG SET checks names, types and ranges", "[config]") {
  using otkv::check_config_set;
  std::set<std::string> runtime;
  for (const auto& opt : option_table())
    if (otkv::runtime_settable(opt.name))
      runtime.insert(opt.name);
  CHECK(runtime == std::set<std::string>{
                     "timeout", "maxclients", "client-output-limit", "proto-max-bulk-len",
                     "client-query-buffer-limit", "proto-inline-max-size",
                     "proto-max-multibulk-len", "loglevel", "request-timeout-ms",
                     "request-attempts", "protected-mode", "requirepass",
                     "slowlog-log-slower-than", "slowlog-max-len", "latency-tracking",
            "hash-max-listpack-entries", "hash-max-listpack-value", "hash-max-ziplist-entries",
            "hash-max-ziplist-value", "set-max-intset-entries", "set-max-listpack-entries",
            "set-max-listpack-value", "list-max-listpack-size", "list-max-ziplist-size",
            "zset-max-listpack-entries", "zset-max-listpack-value", "zset-max-ziplist-entries",
            "zset-max-ziplist-value"});

  for (const auto& opt : option_table()) {
    INFO(opt.name);
    server_config cfg;
    auto err = check_config_set(cfg, {{opt.name, sample_value(opt).first}});
    if (runtime.count(opt.name) == 1)
      CHECK(err.empty());
    else
      CHECK(err == "ERR Unknown option or number of arguments for CONFIG SET - '" + opt.name + "'");
  }

  auto failed = [](const std::string& name, const std::string& value) {
    server_config cfg;
    return check_config_set(cfg, {{"timeout", "5"}, {name, value}});
  };
  const std::string prefix = "ERR CONFIG SET failed (possibly related to argument ";
  CHECK(failed("maxclients", "0")
        == prefix + "'maxclients') - invalid value '0' for maxclients (expected an integer "
                    "from 1 to 1000000)");
  CHECK(failed("maxclients", "lots").find(prefix + "'maxclients') - invalid value 'lots'") == 0);
  CHECK(failed("timeout", "-1").find("expected an integer from 0 to 31536000") != std::string::npos);
  CHECK(failed("slowlog-log-slower-than", "-5")
        == prefix + "'slowlog-log-slower-than') - invalid value '-5' for slowlog-log-slower-than "
                    "(expected an integer from -1 to 3600000000)");
  CHECK(failed("proto-max-bulk-len", "1kb")
        == prefix + "'proto-max-bulk-len') - invalid value '1kb' for proto-max-bulk-len (expected "
                    "bytes from 1048576 to 1099511627776; units k, kb, m, mb, g, gb)");
  CHECK(failed("protected-mode", "maybe")
        == prefix + "'protected-mode') - invalid value 'maybe' for protected-mode (yes or no)");
  CHECK(failed("loglevel", "loud").find("(trace, debug, info, warn, error, off, verbose, notice "
                                        "or warning)")
        != std::string::npos);
  CHECK(failed("dir", "/tmp") == "ERR Unknown option or number of arguments for CONFIG SET - 'dir'");
  CHECK(failed("nope", "1") == "ERR Unknown option or number of arguments for CONFIG SET - 'nope'");
}

TEST_CASE("--help mentions every option, its value, default and whether CONFIG SET may change it",
          "[config]") {
  auto help = otkv::usage();
  for (const auto& opt : option_table()) {
    INFO(opt.name);
    auto at = help.find("  --" + opt.name + " " + otkv::value_syntax(opt) + " ");
    REQUIRE(at != std::string::npos);
    auto line = help.substr(at, help.find('\n', at) - at);
    CHECK(line.find(opt.help + " (default " + otkv::default_text(opt) + ")") != std::string::npos);
    CHECK((line.find(" * ") != std::string::npos) == otkv::runtime_settable(opt.name));
  }
  for (const char* flag : {"--config FILE", "--repair-log FILE", "--cluster-replicas N", "--help",
                           "--version"})
    CHECK(help.find(flag) != std::string::npos);
}

TEST_CASE("Defaults are shown in the units they are written in", "[config]") {
  auto shown = [](const std::string& name) { return otkv::default_text(*otkv::find_option(name)); };
  CHECK(shown("client-output-limit") == "1gb");
  CHECK(shown("proto-inline-max-size") == "64kb");
  CHECK(shown("proto-max-multibulk-len") == "1048576"); // a count, not bytes
  CHECK(shown("partitions") == "one per core");
  CHECK(shown("requirepass") == "none");
  CHECK(otkv::find_option("config") == nullptr);
  CHECK(otkv::get_option(server_config{}, "nope").empty());
}

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include "actors/config.hpp"

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

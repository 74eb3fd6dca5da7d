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

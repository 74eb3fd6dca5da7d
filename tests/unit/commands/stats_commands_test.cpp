// INFO commandstats / latencystats, SLOWLOG, and the histogram behind the percentiles.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "commands/command_stats.hpp"
#include "harness.hpp"

using namespace otkv::test;
using otkv::cmd::latency_histogram;

namespace {

/// The INFO line that starts with `prefix`, without its line end ("" if none).
std::string info_line(const std::string& info, const std::string& prefix) {
  auto at = info.find("\r\n" + prefix);
  if (at == std::string::npos)
    return {};
  at += 2;
  return info.substr(at, info.find("\r\n", at) - at);
}

} // namespace

TEST_CASE("The latency histogram reports percentiles within 1/16 of the true value", "[stats]") {
  latency_histogram h;
  CHECK(h.percentile(50) == 0);
  for (uint64_t v = 1; v <= 1000; ++v)
    h.record(v * 1000); // 1 µs … 1 ms, uniformly
  CHECK(h.count() == 1000);
  auto near = [](uint64_t got, uint64_t want) {
    return got >= want && got <= want + want / 16;
  };
  CHECK(near(h.percentile(50), 500'000));
  CHECK(near(h.percentile(99), 990'000));
  CHECK(near(h.percentile(99.9), 999'000));
  CHECK(near(h.percentile(100), 1'000'000));
  CHECK(h.percentile(0.1) <= 1000 + 1000 / 16);

  latency_histogram tiny; // values below 16 ns are exact
  for (uint64_t v = 0; v < 16; ++v)
    tiny.record(v);
  CHECK(tiny.percentile(100) == 15);
  tiny.record(uint64_t{1} << 62); // beyond the range: counted in the last bucket
  CHECK(tiny.percentile(100) >= (uint64_t{1} << 43));
}

TEST_CASE("The latency histogram agrees with sorted samples", "[stats]") {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(9.0, 1.5); // ~8 µs median, long tail
  latency_histogram h;
  std::vector<uint64_t> samples;
  for (int i = 0; i < 20000; ++i) {
    auto v = static_cast<uint64_t>(dist(rng)) + 1;
    samples.push_back(v);
    h.record(v);
  }
  std::sort(samples.begin(), samples.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    auto exact = samples[static_cast<size_t>(std::ceil(p / 100 * samples.size())) - 1];
    auto got = h.percentile(p);
    CHECK(got >= exact);
    CHECK(got <= exact + exact / 16);
  }
}

TEST_CASE("INFO commandstats counts calls, failures and rejections per command", "[stats]") {
  harness h;
  h.run({"SET", "a", "1"});
  h.run({"SET", "b", "x"});
  h.run({"GET", "a"});
  h.run({"INCR", "b"});        // runs, fails: not an integer
  h.run({"GET"});              // refused: arity
  h.run({"MSET", "a", "1", "b", "2", "c", "3", "d", "4"}); // split over partitions: one call
  h.run({"PING"});
  h.run({"NOSUCH"});           // unknown commands are not counted
  auto info = h.run({"INFO", "commandstats"});
  CHECK(info.find("# Commandstats\r\n") != std::string::npos);
  CHECK(info.find("# Server") == std::string::npos);
  CHECK(info_line(info, "cmdstat_set:").rfind("cmdstat_set:calls=2,usec=", 0) == 0);
  CHECK(info_line(info, "cmdstat_get:").find(",rejected_calls=1,failed_calls=0") != std::string::npos);
  CHECK(info_line(info, "cmdstat_get:").rfind("cmdstat_get:calls=1,", 0) == 0);
  CHECK(info_line(info, "cmdstat_incr:").find("calls=1,") != std::string::npos);
  CHECK(info_line(info, "cmdstat_incr:").find("failed_calls=1") != std::string::npos);
  CHECK(info_line(info, "cmdstat_mset:").rfind("cmdstat_mset:calls=1,", 0) == 0);
  CHECK(info_line(info, "cmdstat_ping:").rfind("cmdstat_ping:calls=1,", 0) == 0);
  CHECK(info_line(info, "cmdstat_del:").empty()); // never called: not listed

  // Not in the default sections; in "all".
  CHECK(h.run({"INFO"}).find("# Commandstats") == std::string::npos);
  CHECK(h.run({"INFO", "default"}).find("# Commandstats") == std::string::npos);
  CHECK(h.run({"INFO", "all"}).find("# Commandstats") != std::string::npos);

  // usec and usec_per_call follow the measured time.
  harness timed;
  timed.run_ns = 3'000'000; // each command takes 3 ms
  timed.run({"SET", "a", "1"});
  timed.run({"SET", "a", "2"});
  CHECK(info_line(timed.run({"INFO", "commandstats"}), "cmdstat_set:")
        == "cmdstat_set:calls=2,usec=6000,usec_per_call=3000.00,rejected_calls=0,failed_calls=0");

  CHECK(h.run({"CONFIG", "RESETSTAT"}) == ok);
  info = h.run({"INFO", "commandstats"});
  CHECK(info_line(info, "cmdstat_set:").empty());
  // As in Redis, the RESETSTAT run itself is counted after the reset.
  CHECK(info_line(info, "cmdstat_config:").rfind("cmdstat_config:calls=1,", 0) == 0);
}

TEST_CASE("INFO latencystats reports p50, p99 and p99.9 per command", "[stats]") {
  harness h;
  h.run_ns = 2'000'000;
  for (int i = 0; i < 10; ++i)
    h.run({"GET", "k"});
  h.run({"SET", "k", "v"});
  auto info = h.run({"INFO", "latencystats"});
  CHECK(info.find("# Latencystats\r\n") != std::string::npos);
  // 2 ms lands in the bucket [1.966080 ms, 2.031615 ms].
  CHECK(info_line(info, "latency_percentiles_usec_get:")
        == "latency_percentiles_usec_get:p50=2031.615,p99=2031.615,p99.9=2031.615");
  CHECK(!info_line(info, "latency_percentiles_usec_set:").empty());
  CHECK(info_line(info, "latency_percentiles_usec_del:").empty());
  CHECK(h.run({"INFO"}).find("# Latencystats") == std::string::npos);

  harness off;
  off.server_.counters.stats.latency_tracking = false;
  off.run({"GET", "k"});
  CHECK(info_line(off.run({"INFO", "latencystats"}), "latency_percentiles_usec_get:").empty());
  CHECK(!info_line(off.run({"INFO", "commandstats"}), "cmdstat_get:").empty());
}

TEST_CASE("SLOWLOG keeps the slow commands, newest first, abridged like Redis", "[stats]") {
  harness h;
  h.client_.addr = "127.0.0.1:5000";
  h.client_.name = "tester";
  h.run_ns = 5'000'000; // 5 ms: below the default threshold of 10 ms
  h.run({"SET", "fast", "1"});
  CHECK(h.run({"SLOWLOG", "LEN"}) == integer(0));

  h.run_ns = 12'000'000;
  h.run({"SET", "slow", "1"});
  h.run({"GET", "slow"});
  CHECK(h.run({"SLOWLOG", "LEN"}) == integer(2)); // logged itself after answering
  h.run_ns = 0;
  auto got = h.run({"SLOWLOG", "GET", "2"});
  // Newest first: the SLOWLOG LEN (id 2), then GET slow (id 1).
  std::string get_entry = "*6\r\n:1\r\n:" + std::to_string(h.now / 1000) + "\r\n:12000\r\n*2\r\n"
                          + bulk("GET") + bulk("slow") + bulk("127.0.0.1:5000") + bulk("tester");
  CHECK(got.rfind("*2\r\n*6\r\n:2\r\n", 0) == 0);
  CHECK(got.find(get_entry) != std::string::npos);
  CHECK(h.run({"SLOWLOG", "GET", "-1"}).rfind("*3\r\n", 0) == 0);
  CHECK(h.run({"SLOWLOG", "GET", "0"}) == "*0\r\n");
  CHECK(h.run({"SLOWLOG", "GET", "-2"}) == "-ERR count should be greater than or equal to -1\r\n");
  CHECK(h.run({"SLOWLOG", "GET", "x"}) == "-ERR count should be greater than or equal to -1\r\n");
  CHECK(h.run({"SLOWLOG", "RESET"}) == ok);
  CHECK(h.run({"SLOWLOG", "LEN"}) == integer(0));
  CHECK(h.run({"SLOWLOG", "NOPE"}) == "-ERR unknown subcommand 'NOPE'. Try SLOWLOG HELP.\r\n");
  CHECK(h.run({"SLOWLOG", "LEN", "x"})
        == "-ERR wrong number of arguments for 'slowlog|len' command\r\n");
  CHECK(h.run({"SLOWLOG", "HELP"}).rfind("*12\r\n", 0) == 0);

  // Long arguments and long argument lists are cut; secrets are not kept.
  h.server_.counters.stats.slowlog_threshold_us = 0;
  h.run({"SLOWLOG", "RESET"});
  h.run({"SET", "k", std::string(200, 'v')});
  std::vector<std::string> many{"DEL"};
  for (int i = 0; i < 40; ++i)
    many.push_back("k" + std::to_string(i));
  h.run(many);
  h.run({"AUTH", "secret-password"});
  auto all = h.run({"SLOWLOG", "GET", "3"});
  CHECK(all.find(bulk(std::string(128, 'v') + "... (72 more bytes)")) != std::string::npos);
  CHECK(all.find("*32\r\n" + bulk("DEL")) != std::string::npos);
  CHECK(all.find(bulk("k29") + bulk("... (10 more arguments)")) != std::string::npos);
  CHECK(all.find("secret-password") == std::string::npos);
  CHECK(all.find(bulk("AUTH") + bulk("(redacted)")) != std::string::npos);

  // The length is bounded; negative thresholds log nothing.
  h.server_.counters.stats.slowlog_max_len = 3;
  for (int i = 0; i < 10; ++i)
    h.run({"PING"});
  CHECK(h.run({"SLOWLOG", "LEN"}) == integer(3));
  h.server_.counters.stats.slowlog_threshold_us = -1;
  h.run({"SLOWLOG", "RESET"});
  h.run({"PING"});
  CHECK(h.run({"SLOWLOG", "LEN"}) == integer(0));
}

TEST_CASE("Shards' counters add up: totals, per-command counters, histograms, slow logs",
          "[stats][shards]") {
  using namespace otkv::cmd;
  const command& get = *find_command("get");
  const command& set = *find_command("set");
  server_counters a, b;
  a.total_commands = 10;
  b.total_commands = 32;
  a.connected_clients = 2;
  b.connected_clients = 3;
  a.partition_counters.resize(2);
  b.partition_counters.resize(2);
  a.partition_counters[1] = {100, 1, 2, 1, 5000};
  b.partition_counters[1] = {50, 3, 1, 1, 5000}; // both saw the one restart
  a.last_save_ms = 7000;
  b.last_save_ms = 9000;
  b.last_save_ok = false;
  for (int i = 0; i < 4; ++i)
    a.stats.record(get, 1000, false);
  for (int i = 0; i < 12; ++i)
    b.stats.record(get, 9000, i == 0);
  b.stats.record(set, 500, false);
  auto ids = std::make_shared<std::atomic<uint64_t>>(0);
  a.stats.shared_slowlog_ids = b.stats.shared_slowlog_ids = ids;
  a.stats.log_slow(get, 20000000, {"GET", "a1"}, 1000, "x", "");
  b.stats.log_slow(get, 20000000, {"GET", "b1"}, 2000, "y", "");
  a.stats.log_slow(get, 20000000, {"GET", "a2"}, 3000, "x", "");

  server_counters sum;
  add_counters(sum, a);
  add_counters(sum, b);
  CHECK(sum.total_commands == 42);
  CHECK(sum.connected_clients == 5);
  CHECK(sum.partition_counters[1].requests == 150);
  CHECK(sum.partition_counters[1].timeouts == 4);
  CHECK(sum.partition_counters[1].restarts == 1);
  CHECK(sum.last_save_ms == 9000);
  CHECK_FALSE(sum.last_save_ok);
  auto& g = sum.stats.of(get);
  CHECK(g.calls == 16);
  CHECK(g.failed_calls == 1);
  CHECK(g.latency->count() == 16);
  CHECK(g.latency->percentile(25) <= 1000 + 1000 / 16);
  CHECK(g.latency->percentile(90) >= 9000);
  CHECK(sum.stats.of(set).calls == 1);
  REQUIRE(sum.stats.slowlog.size() == 3);
  CHECK(sum.stats.slowlog[0].args[1] == "a2"); // newest first, by id across shards
  CHECK(sum.stats.slowlog[1].args[1] == "b1");
  CHECK(sum.stats.slowlog[2].args[1] == "a1");
  sum.stats.slowlog_max_len = 2;
  server_counters capped;
  capped.stats.slowlog_max_len = 2;
  add_counters(capped, a);
  add_counters(capped, b);
  CHECK(capped.stats.slowlog.size() == 2);

  reset_counters(a, true);
  CHECK(a.stats.slowlog.empty());
  CHECK(a.total_commands == 10);
  reset_counters(a, false);
  CHECK(a.total_commands == 0);
  CHECK(a.stats.of(get).calls == 0);
}

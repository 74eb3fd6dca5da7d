// Micro-benchmarks (Google Benchmark) for the pieces on the request path: the request
// parser, the RESP encoder and the partition store.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "net/reply.hpp"
#include "net/request_parser.hpp"
#include "store/key_hash.hpp"
#include "store/partition.hpp"

namespace {

std::string key(long i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key:%012ld", i);
  return buf;
}

/// 16 pipelined `SET key:… xxx` requests, parsed from one buffer.
void parse_pipelined_set(benchmark::State& state) {
  std::string input;
  for (int i = 0; i < 16; ++i)
    input += "*3\r\n$3\r\nSET\r\n$16\r\n" + key(i) + "\r\n$3\r\nxxx\r\n";
  otkv::net::request_parser parser;
  otkv::net::arg_list args;
  for (auto _ : state) {
    const char* pos = input.data();
    const char* end = pos + input.size();
    while (pos < end)
      if (parser.feed(pos, end, args) == otkv::net::parse_status::done)
        benchmark::DoNotOptimize(args.data());
  }
  state.SetItemsProcessed(state.iterations() * 16);
}
BENCHMARK(parse_pipelined_set);

/// `SET key value` typed inline.
void parse_inline(benchmark::State& state) {
  std::string input = "SET key:000000000001 \"hello world\"\r\n";
  otkv::net::request_parser parser;
  otkv::net::arg_list args;
  for (auto _ : state) {
    const char* pos = input.data();
    parser.feed(pos, pos + input.size(), args);
    benchmark::DoNotOptimize(args.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(parse_inline);

/// Encoding a small bulk reply, as GET does.
void encode_bulk(benchmark::State& state) {
  auto r = otkv::net::reply::bulk(std::string(static_cast<size_t>(state.range(0)), 'x'));
  std::string out;
  for (auto _ : state) {
    out.clear();
    otkv::net::encode(r, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(encode_bulk)->Arg(3)->Arg(100)->Arg(4096);

/// Lookups in a partition of `range(0)` keys.
void partition_find(benchmark::State& state) {
  otkv::store::partition p;
  long n = state.range(0);
  for (long i = 0; i < n; ++i)
    p.put(key(i), "xxx", 0);
  std::vector<std::string> keys;
  for (long i = 0; i < 4096; ++i)
    keys.push_back(key((i * 7919) % n));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(p.find(keys[i++ & 4095], 0));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(partition_find)->Arg(1000)->Arg(1000000);

/// Overwriting existing keys.
void partition_put(benchmark::State& state) {
  otkv::store::partition p;
  long n = 100000;
  std::vector<std::string> keys;
  for (long i = 0; i < n; ++i)
    keys.push_back(key(i));
  long i = 0;
  for (auto _ : state) {
    p.put(keys[static_cast<size_t>(i++ % n)], "xxx", 0);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(partition_put);

/// The stable key hash used for routing.
void key_hash(benchmark::State& state) {
  std::string k = key(123456);
  for (auto _ : state)
    benchmark::DoNotOptimize(otkv::store::key_hash(k));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(key_hash);

} // namespace

BENCHMARK_MAIN();

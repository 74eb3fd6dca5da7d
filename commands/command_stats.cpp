#include "commands/command_stats.hpp"

#include <chrono>
#include <cmath>

#include "commands/command.hpp"

namespace otkv::cmd {

namespace {

/// Redis's slow-log bounds: arguments kept per entry and bytes kept per argument.
constexpr size_t slowlog_max_args = 32;
constexpr size_t slowlog_max_arg_bytes = 128;

/// Whether argument `i` of `args` (a run of `c`) carries a secret the slow log must
/// not keep: AUTH and HELLO arguments, CONFIG SET values.
bool secret(const command& c, const net::arg_list& args, size_t i) {
  if (c.name == "auth" || c.name == "hello")
    return i >= 1;
  if (c.name == "config" && args.size() > 1 && iequals(args[1], "set"))
    return i >= 3 && (i - 3) % 2 == 0;
  return false;
}

} // namespace

size_t latency_histogram::bucket_of(uint64_t ns) noexcept {
  constexpr uint64_t linear = uint64_t{1} << sub_bits;
  if (ns < linear)
    return static_cast<size_t>(ns);
  int e = 63 - __builtin_clzll(ns);
  if (e >= 44)
    return buckets - 1;
  auto sub = (ns >> (e - sub_bits)) & (linear - 1);
  return (static_cast<size_t>(e - sub_bits + 1) << sub_bits) + sub;
}

uint64_t latency_histogram::upper_bound(size_t bucket) noexcept {
  constexpr uint64_t linear = uint64_t{1} << sub_bits;
  if (bucket < linear)
    return bucket;
  int e = static_cast<int>(bucket >> sub_bits) + sub_bits - 1;
  uint64_t sub = bucket & (linear - 1);
  uint64_t lower = (linear + sub) << (e - sub_bits);
  return lower + (uint64_t{1} << (e - sub_bits)) - 1;
}

void latency_histogram::record(uint64_t ns) noexcept {
  ++counts_[bucket_of(ns)];
  ++count_;
}

uint64_t latency_histogram::percentile(double percent) const noexcept {
  if (count_ == 0)
    return 0;
  auto target = static_cast<uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_)));
  if (target < 1)
    target = 1;
  uint64_t seen = 0;
  for (size_t b = 0; b < buckets; ++b) {
    seen += counts_[b];
    if (seen >= target)
      return upper_bound(b);
  }
  return upper_bound(buckets - 1);
}

command_counters& command_stats::of(const command& c) {
  auto index = static_cast<size_t>(&c - command_table().data());
  if (index >= counters.size())
    counters.resize(index + 1);
  return counters[index];
}

bool command_stats::record(const command& c, uint64_t ns, bool failed) {
  auto& k = of(c);
  ++k.calls;
  k.ns += ns;
  if (failed)
    ++k.failed_calls;
  if (latency_tracking) {
    if (!k.latency)
      k.latency = std::make_unique<latency_histogram>();
    k.latency->record(ns);
  }
  return slowlog_threshold_us >= 0 && ns / 1000 >= static_cast<uint64_t>(slowlog_threshold_us)
         && slowlog_max_len > 0;
}

void command_stats::log_slow(const command& c, uint64_t ns, const net::arg_list& args,
                             store::millis now_ms, const std::string& client_addr,
                             const std::string& client_name) {
  slowlog_entry e;
  e.id = next_slowlog_id++;
  e.unix_time = now_ms / 1000;
  e.duration_us = ns / 1000;
  size_t kept = args.size() > slowlog_max_args ? slowlog_max_args - 1 : args.size();
  for (size_t i = 0; i < kept; ++i) {
    const auto& a = args[i];
    if (secret(c, args, i))
      e.args.emplace_back("(redacted)");
    else if (a.size() > slowlog_max_arg_bytes)
      e.args.push_back(a.substr(0, slowlog_max_arg_bytes) + "... ("
                       + std::to_string(a.size() - slowlog_max_arg_bytes) + " more bytes)");
    else
      e.args.push_back(a);
  }
  if (kept < args.size())
    e.args.push_back("... (" + std::to_string(args.size() - kept) + " more arguments)");
  e.client_addr = client_addr;
  e.client_name = client_name;
  slowlog.push_front(std::move(e));
  while (slowlog.size() > slowlog_max_len)
    slowlog.pop_back();
}

void command_stats::reset() {
  for (auto& k : counters)
    k = command_counters{};
}

uint64_t monotonic_ns() noexcept {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count());
}

} // namespace otkv::cmd

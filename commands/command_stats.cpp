#include "commands/command_stats.hpp"

#include <algorithm>
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
  e.id = shared_slowlog_ids ? shared_slowlog_ids->fetch_add(1, std::memory_order_relaxed)
                            : next_slowlog_id++;
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

void latency_histogram::add(const latency_histogram& other) noexcept {
  for (size_t i = 0; i < buckets; ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
}

void command_stats::add(const command_stats& other) {
  if (counters.size() < other.counters.size())
    counters.resize(other.counters.size());
  for (size_t i = 0; i < other.counters.size(); ++i) {
    auto& to = counters[i];
    const auto& from = other.counters[i];
    to.calls += from.calls;
    to.ns += from.ns;
    to.rejected_calls += from.rejected_calls;
    to.failed_calls += from.failed_calls;
    if (from.latency) {
      if (!to.latency)
        to.latency = std::make_unique<latency_histogram>();
      to.latency->add(*from.latency);
    }
  }
  // Both logs are newest first (ids grow with time): merge them by id.
  std::deque<slowlog_entry> merged;
  auto a = slowlog.begin();
  auto b = other.slowlog.begin();
  while (merged.size() < slowlog_max_len && (a != slowlog.end() || b != other.slowlog.end())) {
    if (b == other.slowlog.end() || (a != slowlog.end() && a->id > b->id))
      merged.push_back(std::move(*a++));
    else
      merged.push_back(*b++);
  }
  slowlog = std::move(merged);
  next_slowlog_id = std::max(next_slowlog_id, other.next_slowlog_id);
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


void add_counters(server_counters& into, const server_counters& from) {
  into.connected_clients += from.connected_clients;
  into.blocked_clients += from.blocked_clients;
  into.total_connections += from.total_connections;
  into.total_commands += from.total_commands;
  into.rejected_connections += from.rejected_connections;
  into.net_input_bytes += from.net_input_bytes;
  into.net_output_bytes += from.net_output_bytes;
  if (into.partition_counters.size() < from.partition_counters.size())
    into.partition_counters.resize(from.partition_counters.size());
  for (size_t i = 0; i < from.partition_counters.size(); ++i) {
    auto& to = into.partition_counters[i];
    const auto& p = from.partition_counters[i];
    to.requests += p.requests;
    to.timeouts += p.timeouts;
    to.resends += p.resends;
    // Every shard sees each worker replacement: count it once.
    to.restarts = std::max(to.restarts, p.restarts);
    to.last_restart_ms = std::max(to.last_restart_ms, p.last_restart_ms);
  }
  if (from.last_save_ms > into.last_save_ms) {
    into.last_save_ms = from.last_save_ms;
    into.last_save_ok = from.last_save_ok;
  }
  into.stats.add(from.stats);
}

void reset_counters(server_counters& counters, bool slowlog_only) {
  if (slowlog_only) {
    counters.stats.slowlog.clear();
    return;
  }
  counters.total_commands = 0;
  counters.total_connections = 0;
  counters.rejected_connections = 0;
  counters.net_input_bytes = 0;
  counters.net_output_bytes = 0;
  counters.stats.reset();
}

bool needs_gather(const client_context& client) {
  return client.info != nullptr && client.info->shards > 1 && client.counters != nullptr
         && !client.counters->server_wide;
}

} // namespace otkv::cmd

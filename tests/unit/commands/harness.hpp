#pragma once

// In-process harness: runs commands through the same resolve → split → partition →
// merge path as the server, on plain partitions, with a clock the test moves.

#include <string>
#include <utility>
#include <vector>

#include "commands/dispatch.hpp"
#include "net/reply.hpp"
#include "store/partition.hpp"

namespace otkv::test {

class harness {
public:
  explicit harness(uint32_t partitions = 4) : parts_(partitions) {
    client_.id = 7;
    client_.server = &server_;
    server_.version = "test";
    server_.partitions = partitions;
  }

  /// Runs one command; returns the RESP bytes of its reply. Counts it in
  /// `server_.stats` as the broker does, each run taking `run_ns` (0: the measured time).
  std::string run(std::vector<std::string> args) {
    net::reply error;
    const cmd::command* c = cmd::resolve(args, error);
    if (c == nullptr || !cmd::check_auth(*c, client_, error)
        || !cmd::check_partitions(*c, args, static_cast<uint32_t>(parts_.size()), error)
        || !cmd::check_writable(*c, server_, error)) {
      if (c == nullptr && !args.empty())
        c = cmd::find_command(args[0]);
      if (c != nullptr)
        server_.stats.reject(*c);
      return net::encode(error);
    }
    client_.now = now;
    uint64_t started = cmd::monotonic_ns();
    auto original = args;
    std::string out;
    effect = {};
    if (c->where == cmd::route::connection) {
      out = net::encode(c->on_connection(client_, args));
      effect = std::exchange(client_.pending, cmd::effect{}); // as a front end takes it
    } else {
      cmd::fanout f;
      auto parts = cmd::split(*c, std::move(args), static_cast<uint32_t>(parts_.size()), f);
      std::vector<net::reply> results;
      for (auto& p : parts) {
        cmd::op_context ctx{parts_[p.partition], now, p.partition};
        results.push_back(cmd::run_on_partition(*c, ctx, p.args));
      }
      if (!cmd::needs_merge(*c, parts.size())) {
        out = net::encode(results.front());
      } else {
        f.results = std::move(results);
        out = net::encode(c->on_merge(client_, f));
      }
    }
    uint64_t ns = run_ns != 0 ? run_ns : cmd::monotonic_ns() - started;
    if (server_.stats.record(*c, ns, out[0] == '-'))
      server_.stats.log_slow(*c, ns, original, now, client_.addr, client_.name);
    return out;
  }

  /// When not 0, the time every command is taken to have run (for slow-log tests).
  uint64_t run_ns = 0;

  /// What the last command asked of its front end (none for partition commands).
  cmd::effect effect;

  /// Runs the active expiry sweep on every partition.
  size_t sweep(size_t budget = 1000) {
    size_t n = 0;
    for (auto& p : parts_)
      n += p.sweep(now, budget);
    return n;
  }

  store::millis now = 1'700'000'000'000; ///< the virtual clock
  cmd::server_context server_;
  cmd::client_context client_;
  std::vector<store::partition> parts_;
};

/// RESP helpers for expected replies.
inline std::string bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}
inline std::string integer(long long n) {
  return ":" + std::to_string(n) + "\r\n";
}
inline const std::string ok = "+OK\r\n";
inline const std::string nil = "$-1\r\n";

} // namespace otkv::test

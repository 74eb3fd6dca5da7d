#pragma once

// EVAL's pieces that know no actor (docs/scripts.md): the script a request names, the
// node's script cache and running scripts (SCRIPT LOAD / EXISTS / FLUSH / KILL), and the
// runner that executes a script on partitions its caller holds reserved, serving the
// script's redis.call.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "commands/dispatch.hpp"
#include "commands/lua_engine.hpp"

namespace otkv::cmd {

/// One EVAL / EVALSHA request, parsed.
struct script_call {
  std::string sha;  ///< the script's SHA1, lowercase hex
  std::string body; ///< EVAL: the script; EVALSHA: empty (the cache has it)
  net::arg_list keys;
  net::arg_list argv;
  bool read_only = false; ///< EVAL_RO / EVALSHA_RO: writes are refused
  /// The partitions the runner may touch, ascending: those of `keys`, or every
  /// partition of the node when the script declares no key.
  std::vector<uint32_t> partitions;
};

/// Parses EVAL / EVALSHA / EVAL_RO / EVALSHA_RO `args` into `out` (not its partitions).
/// Returns an empty reply, or the error (a bad key count).
net::reply parse_script_call(const net::arg_list& args, script_call& out);

/// One runner's script in progress, as SCRIPT KILL sees it.
struct script_progress {
  std::atomic<bool> running{false};
  std::atomic<bool> wrote{false}; ///< it ran a write: SCRIPT KILL refuses (UNKILLABLE)
  std::atomic<bool> kill{false};  ///< SCRIPT KILL asked it to stop
};

/// The node's scripts: bodies by SHA1, and the runs in progress. Any thread.
class script_registry {
public:
  /// Keeps `body` under `sha`.
  void add(const std::string& sha, const std::string& body);
  /// The body of `sha` into `body`; false if unknown.
  bool find(const std::string& sha, std::string& body) const;
  /// Whether `sha` is known.
  bool exists(const std::string& sha) const;
  /// Forgets every script (runners drop their compiled functions before their next run).
  void flush();
  /// Counts flush()es: a runner whose engine is older starts a fresh one.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  /// How many scripts are kept.
  size_t size() const;

  /// A runner's progress record, watched by kill().
  std::shared_ptr<script_progress> enroll();
  /// SCRIPT KILL's outcome.
  enum class kill_outcome { killed, not_busy, unkillable };
  /// Stops every running script that wrote nothing (at its next check).
  kill_outcome kill();
  /// Shutdown: every script stops at its next check, written or not.
  void stop_all() { stopping_.store(true, std::memory_order_release); }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> scripts_;
  std::vector<std::weak_ptr<script_progress>> runs_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
};

/// Runs scripts, one at a time, on one thread (it owns a Lua interpreter).
class script_runner : private lua_host {
public:
  /// Serves the scripts of `registry`; `router` places the keys redis.call names.
  script_runner(std::shared_ptr<script_registry> registry, key_router router);

  /// Runs `call` over the partitions its caller holds reserved (`reserved`: their data;
  /// exactly call.partitions), at wall-clock `now`. Returns the script's reply.
  net::reply run(const script_call& call, const reserved_data& reserved, store::millis now);

  /// Whether the last run wrote (its records must reach the op log).
  bool wrote() const { return wrote_; }

private:
  net::reply call(net::arg_list& args) override;
  const char* interrupt() override;

  std::shared_ptr<script_registry> registry_;
  key_router router_;
  std::unique_ptr<lua_engine> engine_;
  uint64_t generation_ = 0;
  std::shared_ptr<script_progress> progress_;
  client_context scratch_; ///< merges' and PING's context (no connection's)
  // The current run.
  const script_call* call_ = nullptr;
  const reserved_data* reserved_ = nullptr;
  store::millis now_ = 0;
  bool wrote_ = false;
  std::string stop_text_;
};

} // namespace otkv::cmd

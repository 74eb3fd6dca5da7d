#pragma once

// In-process harness: runs commands through the server's front-end core on plain
// partitions, with a clock the test moves.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "actors/front_core.hpp"
#include "commands/dispatch.hpp"
#include "net/reply.hpp"
#include "store/journal.hpp"
#include "store/partition.hpp"

namespace otkv::test {

/// Runs commands through the front-end core (actors/front_core.hpp) that the server's
/// front ends use, with plain partitions in place of worker actors: admission, split,
/// merge and statistics are the server's own.
class harness : private front_host {
public:
  explicit harness(uint32_t partitions = 4) : harness(cmd::key_router(partitions), nullptr) {}

  /// A node of a cluster (`view`): `router` names this node's partitions and the other
  /// nodes' (all of them plain partitions here, parts_[target]).
  harness(cmd::key_router router, std::shared_ptr<const cluster::view> view)
    : parts_(router.targets()),
      core_(*this, (server_.info.cluster = std::move(view), server_), router),
      client_(core_.open<front_session>(7).client),
      session_(*core_.find(7)) {
    server_.info.version = "test";
    server_.info.scripts = scripts_;
    runner_ = std::make_unique<cmd::script_runner>(scripts_, router);
    // Changes touch the keys WATCHed, as a partition_slot's journal makes them.
    journals_.resize(parts_.size());
    tables_.resize(parts_.size());
    for (size_t p = 0; p < parts_.size(); ++p) {
      journals_[p].stop_keeping();
      journals_[p].set_watches(&tables_[p]);
      parts_[p].set_sink(&journals_[p]);
    }
    core_.ns_clock = [this] { return run_ns != 0 ? fake_ns_ += run_ns : cmd::monotonic_ns(); };
  }

  /// Runs one command; returns the RESP bytes of its reply. Counts it in
  /// `server_.counters.stats` as the server does, each run taking `run_ns` (0: the measured time).
  std::string run(std::vector<std::string> args) {
    effect = {};
    if (core_.submit(session_, std::move(args), now, now)) {
      auto fx = core_.take_effect();
      effect = fx.effect; // a front end would perform it now
      core_.answer(session_, fx.seq, std::move(fx.reply));
    }
    if (core_.has_batches())
      core_.dispatch(now, now);
    auto done = std::move(done_);
    done_.clear();
    for (auto& d : done)
      core_.on_done(d, now);
    std::vector<std::pair<uint64_t, uint64_t>> touched;
    core_.take_touched(touched);
    std::string out = std::move(session_.queue.front().reply.text);
    session_.pop_front();
    return out;
  }

  /// The front-end core's run-time settings.
  front_settings& settings() { return core_.settings; }

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
  std::vector<store::partition> parts_;

private:
  /// The "worker": runs the batch at once on its partition (answered after dispatch).
  void send_batch(std::shared_ptr<const work_batch> batch) override {
    ++sent[batch->partition];
    done_batch d{batch->partition, batch->id, {}};
    for (const auto& item : batch->items) {
      uint64_t started = cmd::monotonic_ns();
      cmd::op_context ctx{parts_[batch->partition], now, batch->target, item.encode, item.hash};
      auto r = cmd::run_on_partition(*item.cmd, ctx, item.args);
      if (item.encode && r.type != net::reply::kind::raw)
        r = net::reply::raw(net::encode(r));
      uint64_t ns = run_ns != 0 ? run_ns : cmd::monotonic_ns() - started;
      d.items.push_back({item.conn, item.seq, item.part, std::move(r), ns});
    }
    done_.push_back(std::move(d));
  }
  void restart_worker(uint32_t) override {}
  bool reachable(uint32_t target) override { return down.count(target) == 0; }
  // Transactions: the partitions are this thread's alone, so reserving is counting.
  bool transactions() const override { return true; }
  bool reserve(const std::vector<uint32_t>& partitions, uint64_t) override {
    reservations.push_back(partitions);
    return !busy;
  }
  store::partition* reserved(uint32_t p) override { return &parts_[p]; }
  store::watch_table* watches(uint32_t p) override { return &tables_[p]; }
  int end_reservation() override { return 0; }
  // Scripts run at once on this thread (the server runs them on a script actor).
  bool run_script(uint64_t conn, uint64_t seq, std::shared_ptr<cmd::script_call> call) override {
    reservations.push_back(call->partitions);
    net::reply r;
    if (busy) {
      r = net::reply::error("TIMEOUT busy");
    } else {
      cmd::reserved_data reserved = [&](uint32_t p) -> store::partition* {
        for (auto q : call->partitions)
          if (q == p)
            return &parts_[p];
        return nullptr;
      };
      r = runner_->run(*call, reserved, now);
    }
    done_batch d{0, 0, {}};
    d.items.push_back({conn, seq, 0, std::move(r)});
    done_.push_back(std::move(d));
    return true;
  }

public:
  /// The node's scripts.
  std::shared_ptr<cmd::script_registry> scripts_ = std::make_shared<cmd::script_registry>();
  /// The partitions each EXEC reserved, in order.
  std::vector<std::vector<uint32_t>> reservations;
  /// When true, reserving fails (a worker stays busy).
  bool busy = false;

private:

public:
  /// Targets (other nodes' partitions) taken as unreachable.
  std::set<uint32_t> down;
  /// Batches sent, per target.
  std::map<uint32_t, size_t> sent;

private:
  void over_output_limit(front_session&) override {}

  std::vector<store::journal_buffer> journals_;
  std::vector<store::watch_table> tables_;
  front_core core_;
  std::unique_ptr<cmd::script_runner> runner_;
  uint64_t fake_ns_ = 0;
  std::vector<done_batch> done_;

public:
  cmd::client_context& client_;

private:
  front_session& session_;
};

/// RESP helpers for expected replies.
inline std::string bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}
inline std::string integer(long long n) {
  return ":" + std::to_string(n) + "\r\n";
}
/// A RESP2 array of already-encoded items.
inline std::string array(const std::vector<std::string>& items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (const auto& i : items)
    out += i;
  return out;
}
/// A RESP2 array of bulk strings.
inline std::string bulks(const std::vector<std::string>& items) {
  std::vector<std::string> encoded;
  for (const auto& i : items)
    encoded.push_back(bulk(i));
  return array(encoded);
}
inline const std::string wrongtype =
  "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
inline const std::string ok = "+OK\r\n";
inline const std::string nil = "$-1\r\n";

} // namespace otkv::test

#pragma once

// An actor system on CAF's deterministic test scheduler (caf::scheduler::test_coordinator,
// the one behind CAF's own test_coordinator_fixture), for Catch2 tests of the store's
// actors: actors run only when the test runs them, in the test's thread, one message at
// a time, and time is virtual (delayed messages fire when the test advances the clock).
// So a test can stop between any two messages and look at any actor's state.

#include <cctype>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/interfaces.hpp"
#include "commands/command.hpp"

namespace otkv::test {

/// Asks a recorder to monitor an actor: `(watch_atom, actor)`.
using watch_atom = caf::atom_constant<caf::atom("watch")>;

/// What a recorder actor received, in arrival order.
struct inbox {
  std::vector<done_batch> done;       ///< done_batch messages
  std::vector<worker_table> tables;   ///< (update_atom, worker_table) messages
  std::vector<caf::actor_addr> downs; ///< sources of down messages (monitored actors)
};

/// State of a recorder: where it writes.
struct recorder_state {
  std::shared_ptr<inbox> box;
  static constexpr const char* name = "recorder";
};

/// Whether `h` ended, as far as a recorder watching it knows (its down message came).
template <class Handle>
bool ended(const inbox& box, const Handle& h) {
  for (auto& a : box.downs)
    if (a == h.address())
      return true;
  return false;
}

/// Stands in for a front end: records the batches' replies and the worker tables it
/// receives, and the actors it watches going down.
inline caf::behavior recorder(caf::stateful_actor<recorder_state>* self,
                              std::shared_ptr<inbox> box) {
  self->state.box = box;
  self->set_down_handler([=](caf::down_msg& msg) { self->state.box->downs.push_back(msg.source); });
  return {
    [=](done_batch& d) { self->state.box->done.push_back(std::move(d)); },
    [=](caf::update_atom, worker_table& t) { self->state.box->tables.push_back(std::move(t)); },
    [=](watch_atom, const caf::actor& a) { self->monitor(a); },
  };
}

/// An actor system whose scheduler is CAF's test coordinator.
class test_system {
public:
  test_system() : sys_(configure(cfg_)), sched(dynamic_cast<coordinator&>(sys_.scheduler())) {}

  /// Ends every actor `own` was given (and what they end in turn), so the system can
  /// shut down: CAF waits for all actors, and nothing runs them but the test. (Not with
  /// exit_reason::kill, which no exit handler sees: the supervisor would leave its
  /// workers running.)
  ~test_system() {
    for (auto& a : owned_)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    // Workers replaced but not yet told retire at their next tick.
    for (int i = 0; i < 100 && (sched.has_job() || sched.has_pending_timeout()); ++i) {
      sched.run();
      sched.trigger_timeouts();
    }
  }

  using coordinator = caf::scheduler::test_coordinator;

  caf::actor_system& sys() { return sys_; }

  /// Ends `h` with the system (see the destructor); returns it.
  template <class Handle>
  Handle own(Handle h) {
    owned_.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  /// A recorder writing into a new inbox.
  std::pair<caf::actor, std::shared_ptr<inbox>> spawn_recorder() {
    auto box = std::make_shared<inbox>();
    auto a = own(sys_.spawn(recorder, box));
    sched.run();
    return {a, box};
  }

  /// Has recorder `r` watch `h` (its end shows in the inbox's downs).
  template <class Handle>
  void watch(const caf::actor& r, const Handle& h) {
    caf::anon_send(r, watch_atom::value, caf::actor_cast<caf::actor>(h));
    sched.run();
  }

  /// Runs every actor until no message is left (no timer fires).
  size_t run() { return sched.run(); }

  /// Moves the virtual clock on by `d`, firing the timers due, then runs.
  size_t advance(std::chrono::milliseconds d) {
    sched.advance_time(d);
    return sched.run();
  }

  /// The state of a (typed or untyped) stateful actor of base `Base`.
  template <class State, class Base, class Handle>
  State& state_of(const Handle& h) {
    auto* ptr = caf::actor_cast<caf::abstract_actor*>(h);
    return dynamic_cast<caf::stateful_actor<State, Base>&>(*ptr).state;
  }

private:
  static caf::actor_system_config& configure(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.console", caf::atom("none"));
    return cfg;
  }
  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  std::vector<caf::actor> owned_;

public:
  coordinator& sched; ///< the test scheduler (jobs, virtual clock)
};

/// The command table's row for `name` (lower case).
inline const cmd::command& command(std::string_view name) {
  for (const auto& c : cmd::command_table())
    if (c.name == name)
      return c;
  throw std::runtime_error("no command " + std::string(name));
}

/// A batch for partition `p` of the given requests (connection 1, sequence 0, 1, …),
/// each run by `cmds[i]` (default: its name's table row), replies as reply objects.
inline std::shared_ptr<work_batch> make_batch(uint32_t p, std::vector<net::arg_list> requests,
                                              std::vector<const cmd::command*> cmds = {}) {
  auto b = std::make_shared<work_batch>();
  b->id = next_batch_id();
  b->partition = p;
  b->target = p;
  for (size_t i = 0; i < requests.size(); ++i) {
    std::string name = requests[i][0];
    for (auto& ch : name)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const cmd::command* c = i < cmds.size() && cmds[i] != nullptr ? cmds[i] : &command(name);
    b->items.push_back({1, i, 0, false, c, std::move(requests[i])});
  }
  return b;
}

} // namespace otkv::test

// Compile-time checks of the typed interfaces (actors/interfaces.hpp). With REJECT_CASE 0
// (part of the normal build) the valid sends below compile; each other case adds one
// wrong message, and its CTest entry passes only if the compiler rejects it with CAF's
// type-check error (tests/CMakeLists.txt).

#include <cstdint>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actors/interfaces.hpp"

#ifndef REJECT_CASE
#define REJECT_CASE 0
#endif

namespace otkv {

/// Sends one message of each kind a front end sends (never called).
void interface_checks(caf::event_based_actor* self, const worker_actor& worker,
                      const supervisor_actor& sup, const logger_actor& log,
                      const snapshot_actor& snap) {
  self->send(worker, batch_ref{});
  self->send(sup, restart_atom::value, uint32_t{0}, worker);
  self->send(snap, save_atom::value);
  self->request(log, caf::infinite, rotate_atom::value).then([](uint64_t, bool) {});
  self->request(worker, caf::infinite, seq_atom::value).then([](uint64_t) {});
#if REJECT_CASE == 1
  self->send(worker, save_atom::value); // a worker takes no snapshots
#elif REJECT_CASE == 2
  // The replaced worker as an untyped handle: restart_atom takes a worker_actor.
  self->send(sup, restart_atom::value, uint32_t{0}, caf::actor_cast<caf::actor>(worker));
#elif REJECT_CASE == 3
  self->send(log, done_batch{}); // replies go to the front end, not to the logger
#elif REJECT_CASE == 4
  self->request(worker, caf::infinite, seq_atom::value).then([](bool) {}); // it is a uint64_t
#endif
}

} // namespace otkv

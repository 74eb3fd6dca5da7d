#pragma once

#include <cstdint>
#include <string>

#include <caf/blocking_actor.hpp>

#include "actors/interfaces.hpp"

namespace otkv {

/// Takes snapshots: every `interval_s` seconds when some partition changed, and on
/// `save_atom` (answered with true/false once done). A snapshot rotates the op log,
/// asks every worker for its partition's image, writes `snapshot.otkv` (temp file,
/// fsync, rename, fsync of the directory) and then deletes the log generations the
/// snapshot covers. Subscribers (`subscribe_atom`) get `(saved_atom, ms, ok)`.
/// A blocking actor: it has its own thread for the file I/O. Its messages are
/// snapshot_actor's; spawn it with spawn_snapshotter for that handle.
void snapshotter(caf::blocking_actor* self, std::string dir, logger_actor logger,
                 supervisor_actor supervisor, uint32_t interval_s);

/// Spawns the snapshot actor in `sys` (see snapshotter) and returns its typed handle.
snapshot_actor spawn_snapshotter(caf::actor_system& sys, std::string dir, logger_actor logger,
                                 supervisor_actor supervisor, uint32_t interval_s);

} // namespace otkv

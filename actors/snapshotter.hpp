#pragma once

#include <cstdint>
#include <string>

#include <caf/blocking_actor.hpp>

#include "actors/messages.hpp"

namespace otkv {

/// Takes snapshots: every `interval_s` seconds when some partition changed, and on
/// `save_atom` (answered with true/false once done). A snapshot rotates the op log,
/// asks every worker for its partition's image, writes `snapshot.otkv` (temp file,
/// fsync, rename, fsync of the directory) and then deletes the log generations the
/// snapshot covers. Subscribers (`subscribe_atom`) get `(saved_atom, ms, ok)`.
/// A blocking actor: it has its own thread for the file I/O.
void snapshotter(caf::blocking_actor* self, std::string dir, caf::actor logger,
                 caf::actor supervisor, uint32_t interval_s);

} // namespace otkv

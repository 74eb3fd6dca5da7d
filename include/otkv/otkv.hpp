#pragma once

// The embedding API: run an OTKV store inside your own CAF actor system and talk to it
// through a typed actor handle, with or without its TCP port.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "net/reply.hpp"

namespace otkv {

/// Runs any command: `(execute_atom, {"INCRBY", "n", "5"})`.
using execute_atom = caf::atom_constant<caf::atom("execute")>;
/// `(exists_atom, key)` → integer 1 or 0.
using exists_atom = caf::atom_constant<caf::atom("exists")>;
/// `(expire_atom, key, seconds)` → integer 1 or 0.
using expire_atom = caf::atom_constant<caf::atom("expire")>;
/// `(listen_atom, address, port)` → the port the store now also serves over TCP.
using listen_atom = caf::atom_constant<caf::atom("listen")>;

constexpr execute_atom execute_atom_v = execute_atom{};
constexpr exists_atom exists_atom_v = exists_atom{};
constexpr expire_atom expire_atom_v = expire_atom{};
constexpr listen_atom listen_atom_v = listen_atom{};

/// Typed handle of an embedded store. Every request is answered with the reply a Redis
/// client would get for the same command (an error reply is a reply, not a failure).
using store_actor = caf::typed_actor<
  caf::replies_to<caf::get_atom, std::string>::with<net::reply>,              // GET key
  caf::replies_to<caf::put_atom, std::string, std::string>::with<net::reply>, // SET key value
  caf::replies_to<caf::delete_atom, std::string>::with<net::reply>,           // DEL key
  caf::replies_to<exists_atom, std::string>::with<net::reply>,                // EXISTS key
  caf::replies_to<expire_atom, std::string, int64_t>::with<net::reply>,       // EXPIRE key s
  caf::replies_to<execute_atom, std::vector<std::string>>::with<net::reply>,  // any command
  caf::replies_to<listen_atom, std::string, uint16_t>::with<uint16_t>>;       // open TCP

/// How to run an embedded store.
struct store_config {
  uint32_t partitions = 0;              ///< 0 = one per core (or what `dir` was written with)
  std::string dir;                      ///< data directory; empty = memory only, no files
  bool appendonly = true;               ///< keep an op log in `dir`
  std::string appendfsync = "everysec"; ///< always | everysec | no
  uint32_t save_interval = 60;          ///< seconds between snapshots when data changed
  uint32_t request_timeout_ms = 500;    ///< time one attempt of a request may take
  uint32_t request_attempts = 2;        ///< attempts (each on a fresh worker) before -TIMEOUT
  bool enable_debug_command = false;    ///< allow DEBUG fault injection (tests only)
};

/// Starts a store in `sys` (recovering `cfg.dir` if given, made with its parents if
/// missing) and returns its handle. Throws std::runtime_error if the data directory
/// cannot be made, written or recovered. Stop the store by
/// sending its handle an exit message. `listen_atom` needs the I/O middleman loaded in
/// `sys` (`cfg.load<caf::io::middleman>()`).
store_actor spawn_store(caf::actor_system& sys, const store_config& cfg);

} // namespace otkv

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(otkv::net::reply)

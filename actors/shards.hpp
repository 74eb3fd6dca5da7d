#pragma once

// The I/O shards of a server: CAF 0.17 runs every broker of an actor system on that
// system's one multiplexer thread, so a server that reads, parses and writes on several
// cores runs several actor systems. Shard 0 is the home system (which also holds the
// store's actors); every other shard is an actor system of its own with one server
// broker. An acceptor hands the connections to the shards in turn. The shards share the
// partition workers; what must be server-wide (INFO and CLIENT LIST totals, CONFIG SET,
// SHUTDOWN, maxclients) goes between their brokers (docs/architecture.md, "Shards").

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/blocking_actor.hpp>

#include "actors/server_broker.hpp"

namespace otkv {

/// A bound, listening, non-blocking socket, or why there is none.
struct listener {
  int fd = -1;
  uint16_t port = 0;  ///< the port bound (the kernel's choice for port 0)
  std::string error;  ///< when fd is -1
};

/// Binds `bind`:`port` (an IPv4 or IPv6 address or host name; port 0: any free port) and
/// listens, as Redis does: SO_REUSEADDR, no SO_REUSEPORT (a second server on the port
/// fails to start instead of sharing it), backlog 511.
listener open_listener(const std::string& bind, uint16_t port);

/// Accepts connections on `fd`, once told to start (ok_atom), and hands each to the next
/// of `shards` in turn (adopt_atom); stops, closing `fd`, on shutdown_atom. A blocking
/// actor on a thread of its own: poll(2) wakes it for a connection at once.
void acceptor(caf::blocking_actor* self, int fd, std::vector<caf::actor> shards);

/// The settings of a server's actor systems: a middleman (its multiplexer thread is a
/// shard's I/O thread), `scheduler_threads` scheduler threads (one for a shard's own
/// system: its brokers run on the multiplexer, the workers in the home system), no
/// console log, idle scheduler threads that sleep instead of polling.
void configure_system(caf::actor_system_config& cfg, uint32_t scheduler_threads);

/// A server's shards, started and stopped together.
class server_shards {
public:
  /// Starts `opts.shards` brokers, shard 0 in `home` and each other one in a new actor
  /// system, all serving `table`'s workers, and the acceptor on `listen_fd` (owned from
  /// here on).
  server_shards(caf::actor_system& home, const broker_options& opts, const worker_table& table,
                const supervisor_actor& supervisor, int listen_fd);
  /// Stops the acceptor and the shards' own actor systems (once their brokers stopped).
  ~server_shards();
  server_shards(const server_shards&) = delete;
  server_shards& operator=(const server_shards&) = delete;

  /// The brokers, shard 0 first.
  const std::vector<caf::actor>& brokers() const { return brokers_; }

private:
  std::vector<std::unique_ptr<caf::actor_system_config>> configs_;
  std::vector<std::unique_ptr<caf::actor_system>> systems_; ///< shards 1..n-1
  std::vector<caf::actor> brokers_;
  caf::actor acceptor_;
};

} // namespace otkv

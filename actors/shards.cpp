#include "actors/shards.hpp"

#include "actors/cluster_wire.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <caf/io/middleman.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"

namespace otkv {

namespace {

/// How long the acceptor waits in poll(2) before it looks at its mailbox.
constexpr int acceptor_poll_ms = 50;
/// Connections accepted in one go before the acceptor looks at its mailbox.
constexpr int accept_burst = 64;

} // namespace

listener open_listener(const std::string& bind, uint16_t port) {
  listener out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (int rc = ::getaddrinfo(bind.c_str(), service.c_str(), &hints, &found); rc != 0) {
    out.error = ::gai_strerror(rc);
    return out;
  }
  int last_errno = EADDRNOTAVAIL;
  for (auto* ai = found; ai != nullptr && out.fd < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                      ai->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 511) != 0) {
      last_errno = errno;
      ::close(fd);
      continue;
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    out.port = ntohs(addr.ss_family == AF_INET6
                       ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                       : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    out.fd = fd;
  }
  ::freeaddrinfo(found);
  if (out.fd < 0)
    out.error = std::strerror(last_errno);
  return out;
}

void acceptor(caf::blocking_actor* self, int fd, std::vector<caf::actor> shards) {
  size_t next = 0;
  bool running = true;
  // Not before the shards know each other (peers_atom): a connection's first command may
  // need them (INFO).
  self->receive([&](caf::ok_atom) {}, [&](shutdown_atom) { running = false; });
  bool warned = false;
  while (running) {
    pollfd p{fd, POLLIN, 0};
    int wait_ms = 0;
    if (::poll(&p, 1, acceptor_poll_ms) > 0) {
      for (int i = 0; i < accept_burst; ++i) {
        int conn = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (conn >= 0) {
          caf::anon_send(shards[next++ % shards.size()], adopt_atom::value, conn);
          continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
          continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          // Out of descriptors (EMFILE) or memory: the pending connection stays queued;
          // try again shortly instead of spinning on a socket that stays readable.
          if (!warned)
            spdlog::warn("accept failed: {}; retrying", std::strerror(errno));
          warned = true;
          wait_ms = 10;
        }
        break;
      }
    }
    self->receive([&](shutdown_atom) { running = false; },
                  caf::after(std::chrono::milliseconds(wait_ms)) >> [] {});
  }
  ::close(fd);
}

void configure_system(caf::actor_system_config& cfg, uint32_t scheduler_threads) {
  cfg.load<caf::io::middleman>();
  cfg.set("scheduler.max-threads", static_cast<size_t>(scheduler_threads));
  cfg.set("logger.console", caf::atom("none"));
  // An idle scheduler thread spins briefly, then waits on CAF's condition variable (woken
  // by the next enqueue) instead of polling with 50 µs sleeps for ~25 ms: on 2 cores that
  // polling took the CPU the broker and the workers needed (docs/benchmarks.md).
  cfg.set("work-stealing.moderate-poll-attempts", size_t{0});
  cfg.set("middleman.max-consecutive-reads", size_t{1});
  register_cluster_types(cfg); // what the nodes of a cluster send each other
}

server_shards::server_shards(caf::actor_system& home, const broker_options& opts,
                             const worker_table& table, const supervisor_actor& supervisor,
                             int listen_fd) {
  auto shared = opts.shared ? opts.shared : std::make_shared<shard_shared>();
  for (uint32_t i = 0; i < opts.shards; ++i) {
    caf::actor_system* sys = &home;
    if (i > 0) {
      configs_.push_back(std::make_unique<caf::actor_system_config>());
      configure_system(*configs_.back(), 1); // its scheduler stays idle
      systems_.push_back(std::make_unique<caf::actor_system>(*configs_.back()));
      sys = systems_.back().get();
    }
    auto shard_opts = opts;
    shard_opts.fed = true;
    shard_opts.shard = i;
    shard_opts.shared = shared;
    brokers_.push_back(
      sys->middleman().spawn_broker(server_broker, shard_opts, table, supervisor));
  }
  acceptor_ = home.spawn(acceptor, listen_fd, brokers_);
  for (auto& b : brokers_)
    caf::anon_send(b, peers_atom::value, brokers_, acceptor_);
  caf::anon_send(acceptor_, caf::ok_atom_v);
}

server_shards::~server_shards() {
  caf::anon_send(acceptor_, shutdown_atom::value);
  acceptor_ = nullptr;
  brokers_.clear();
  systems_.clear(); // each waits for its broker, which has stopped
  configs_.clear();
}

} // namespace otkv

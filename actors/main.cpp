// otkv-server: parses the configuration, starts the actor system (supervisor,
// partition workers, server broker) and runs until SHUTDOWN, SIGINT or SIGTERM.

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/config.hpp"
#include "actors/server_broker.hpp"
#include "actors/supervisor.hpp"

namespace {

/// Waits for SIGINT/SIGTERM and asks the broker to shut down; SIGUSR1 ends the wait.
void signal_loop(caf::actor_system* sys, caf::actor broker) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0 || sig == SIGUSR1)
      return;
    spdlog::info("received {}", sig == SIGINT ? "SIGINT" : "SIGTERM");
    caf::anon_send(broker, otkv::shutdown_atom::value);
  }
  (void) sys;
}

} // namespace

int main(int argc, char** argv) {
  otkv::server_config cfg;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (auto err = otkv::parse_config(args, cfg); !err.empty()) {
    std::cerr << "otkv-server: " << err << "\n";
    return 2;
  }
  if (cfg.help) {
    std::cout << otkv::usage();
    return 0;
  }
  if (cfg.show_version) {
    std::cout << "otkv-server " << otkv::version << "\n";
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(cfg.loglevel));
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");

  // Signals go to the signal thread only: block them before any thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  caf::actor_system_config sys_cfg;
  sys_cfg.load<caf::io::middleman>();
  sys_cfg.set("scheduler.max-threads", static_cast<size_t>(cfg.effective_threads()));
  sys_cfg.set("logger.console", caf::atom("none"));
  if (const char* policy = std::getenv("OTKV_SCHED_POLICY"))
    sys_cfg.set("scheduler.policy", caf::atom_from_string(policy));
  int rc = 0;
  {
    caf::actor_system sys{sys_cfg};
    uint32_t partitions = cfg.effective_partitions();
    auto sup = sys.spawn(otkv::supervisor, partitions);
    caf::scoped_actor self{sys};
    otkv::worker_table table;
    self->request(sup, caf::infinite, caf::get_atom_v)
      .receive([&](otkv::worker_table& t) { table = std::move(t); },
               [&](caf::error& e) { spdlog::error("supervisor: {}", sys.render(e)); });
    otkv::broker_options opts;
    opts.bind = cfg.bind;
    opts.port = cfg.port;
    opts.request_timeout_ms = cfg.request_timeout_ms;
    opts.request_attempts = cfg.request_attempts;
    opts.debug_enabled = cfg.enable_debug_command;
    opts.config = cfg.as_pairs();
    opts.config_file = cfg.config_file;
    auto broker = sys.middleman().spawn_broker(otkv::server_broker, opts, table, sup);
    uint16_t port = 0;
    self->request(broker, caf::infinite, otkv::port_atom::value)
      .receive([&](uint16_t p) { port = p; }, [&](caf::error&) { rc = 1; });
    std::thread signals;
    if (rc == 0) {
      // Scripts read the port from this line, so it is printed at any level but "off".
      auto level = spdlog::get_level();
      if (level != spdlog::level::off)
        spdlog::set_level(std::min(level, spdlog::level::info));
      spdlog::info("OTKV {} starting: pid {}, {} partitions, {} scheduler threads", otkv::version,
                   ::getpid(), partitions, cfg.effective_threads());
      spdlog::info("OTKV listening on {}:{}", cfg.bind, port);
      spdlog::set_level(level);
      signals = std::thread(signal_loop, &sys, broker);
      self->wait_for(broker);
    }
    caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    if (signals.joinable()) {
      pthread_kill(signals.native_handle(), SIGUSR1);
      signals.join();
    }
  }
  if (rc == 0)
    spdlog::info("OTKV stopped");
  return rc;
}

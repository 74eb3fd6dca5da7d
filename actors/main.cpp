// otkv-server: parses the configuration, recovers the data directory, starts the actor
// system (logger, supervisor and partition workers, snapshot actor, server broker) and
// runs until SHUTDOWN, SIGINT or SIGTERM.

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/clock.hpp"
#include "actors/chain_replica.hpp"
#include "actors/cluster_node.hpp"
#include "actors/config.hpp"
#include "actors/server_broker.hpp"
#include "actors/shards.hpp"
#include "actors/store_system.hpp"
#include "cluster/cluster_config.hpp"
#include "cluster/coordinator.hpp"
#include "store/recovery.hpp"

namespace {

/// --cluster-init: writes a cluster file for the nodes named (to --cluster-config, or
/// standard output). Returns the exit code.
int write_cluster_file(const otkv::server_config& cfg) {
  otkv::cluster::cluster_config cluster;
  auto err = otkv::cluster::even_cluster(cfg.cluster_init, cfg.effective_partitions(), 10000,
                                         cluster, cfg.cluster_replicas + 1);
  if (!err.empty()) {
    std::cerr << "otkv-server: --cluster-init: " << err << "\n";
    return 2;
  }
  auto text = otkv::cluster::to_json(cluster);
  if (cfg.cluster_config.empty()) {
    std::cout << text;
    return 0;
  }
  std::ofstream out(cfg.cluster_config, std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::cerr << "otkv-server: cannot write " << cfg.cluster_config << "\n";
    return 1;
  }
  std::cout << "wrote " << cfg.cluster_config << ": " << cluster.nodes.size() << " nodes, "
            << cluster.partitions << " partitions each\n";
  return 0;
}

/// Reads --cluster-config and finds this server in it. Returns "" or why not.
std::string load_cluster(otkv::server_config& cfg, otkv::cluster::cluster_config& cluster,
                         uint32_t& self) {
  std::ifstream in(cfg.cluster_config);
  if (!in)
    return "cannot read the cluster file " + cfg.cluster_config;
  std::stringstream text;
  text << in.rdbuf();
  if (auto err = otkv::cluster::parse_cluster_config(text.str(), cluster); !err.empty())
    return cfg.cluster_config + ": " + err;
  if (cluster.partitions == 0)
    return cfg.cluster_config + ": \"partitions\" is missing (every node needs the same count)";
  if (cfg.partitions != 0 && cfg.partitions != cluster.partitions)
    return "--partitions " + std::to_string(cfg.partitions) + " differs from the cluster file's "
           + std::to_string(cluster.partitions);
  cfg.partitions = cluster.partitions;
  if (cfg.port == 0)
    return "a cluster node needs its --port (the cluster file names it)";
  std::string err;
  int found = otkv::cluster::find_self(cluster, cfg.bind, cfg.port, err);
  if (found < 0)
    return cfg.cluster_config + ": " + err;
  self = static_cast<uint32_t>(found);
  return "";
}

/// Waits for SIGINT/SIGTERM and asks the broker to shut down; SIGUSR1 ends the wait.
void signal_loop(caf::actor broker) {
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
}

/// Lowers --maxclients to what the open file limit fits, after trying to raise the
/// limit, and says so (as Redis does at start): a client past the limit then gets
/// "-ERR max number of clients reached" instead of an accept(2) failing with EMFILE.
/// Returns false if not even one client fits.
bool fit_maxclients(otkv::server_config& cfg) {
  uint64_t reserved = otkv::reserved_fds_for(cfg.effective_threads());
  uint64_t fit = otkv::raise_fd_limit(cfg.maxclients, cfg.effective_threads());
  if (fit == cfg.maxclients)
    return true;
  if (fit == 0) {
    spdlog::error("cannot start: the open file limit leaves no descriptor for clients; raise "
                  "'ulimit -n' above {}", reserved);
    return false;
  }
  spdlog::warn("you requested maxclients of {} requiring at least {} open files, but the limit "
               "is {}: maxclients has been reduced to {}. If you need more clients, raise "
               "'ulimit -n'.", cfg.maxclients, cfg.maxclients + reserved, fit + reserved, fit);
  cfg.maxclients = fit;
  return true;
}

/// --cluster-etcd: takes part in the cluster's coordination (docs/replication.md,
/// "Failover"). A node the chain layout does not list starts empty: its data directory's
/// files are moved aside, since they may hold records its chain never committed.
std::string start_coordination(const otkv::server_config& cfg,
                               const std::shared_ptr<otkv::cluster::view>& view,
                               std::unique_ptr<otkv::cluster::coordinator>& out) {
  if (!view || !view->replicated())
    return "--cluster-etcd needs a cluster file with replication chains (\"replicas\" of 2 "
           "or more)";
  otkv::cluster::coordinator_options opts;
  if (auto err = otkv::cluster::parse_etcd_address(cfg.cluster_etcd, opts); !err.empty())
    return err;
  out = std::make_unique<otkv::cluster::coordinator>(view, opts);
  bool listed = false;
  if (auto err = out->begin(listed); !err.empty())
    return err;
  if (listed) {
    spdlog::info("coordination: etcd {}:{}: this node serves in its chain (layout epoch {})",
                 opts.host, opts.port, view->epoch());
    return "";
  }
  spdlog::warn("coordination: this node is not in its chain's layout (epoch {}): it starts "
               "empty and joins at the tail",
               view->epoch());
  return otkv::store::set_aside_data(cfg.dir, "left-chain");
}

/// Starts this program again, with the same arguments, in place of this process (no
/// descriptor survives: the ports are free for the new one).
[[noreturn]] void restart_self(char** argv) {
  if (auto* dir = ::opendir("/proc/self/fd")) {
    while (auto* entry = ::readdir(dir)) {
      int fd = std::atoi(entry->d_name);
      if (fd > 2)
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    ::closedir(dir);
  }
  spdlog::default_logger()->flush();
  ::execv("/proc/self/exe", argv);
  spdlog::error("cannot restart: {}", std::strerror(errno));
  std::_Exit(1);
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
  if (!cfg.cluster_init.empty())
    return write_cluster_file(cfg);
  if (!cfg.repair_log.empty()) {
    auto report = otkv::store::repair_log(cfg.repair_log, cfg.partitions);
    std::cout << report << "\n";
    return report.rfind("error:", 0) == 0 ? 1 : 0;
  }
  spdlog::set_level(spdlog::level::from_str(cfg.spdlog_level()));
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");

  otkv::cluster::cluster_config cluster;
  uint32_t cluster_self = 0;
  if (!cfg.cluster_config.empty()) {
    if (auto err = load_cluster(cfg, cluster, cluster_self); !err.empty()) {
      spdlog::error("cannot start: {}", err);
      return 1;
    }
  }
  if (!fit_maxclients(cfg))
    return 1;
  // The data directory: made if missing (with its parents), refused if unusable.
  if (auto err = otkv::store::prepare_data_dir(cfg.dir); !err.empty()) {
    spdlog::error("cannot start: {}", err);
    return 1;
  }
  // The port first: a second server on it fails at once, before it reads the data.
  auto listening = otkv::open_listener(cfg.bind, cfg.port);
  if (listening.fd < 0) {
    spdlog::error("cannot listen on {}:{}: {}", cfg.bind, cfg.port, listening.error);
    return 1;
  }
  std::shared_ptr<otkv::cluster::view> view;
  if (!cluster.nodes.empty())
    view = std::make_shared<otkv::cluster::view>(cluster, cluster_self, cfg.cluster_redirect);
  // With etcd: the chain layout in force decides whether the data here may be used.
  std::unique_ptr<otkv::cluster::coordinator> coordinator;
  if (!cfg.cluster_etcd.empty()) {
    if (auto err = start_coordination(cfg, view, coordinator); !err.empty()) {
      spdlog::error("cannot start: {}", err);
      return 1;
    }
  }
  // Recovery: the newest snapshot, then the op log after it.
  auto rec = otkv::store::recover(cfg.dir, cfg.partitions, otkv::now_ms());
  if (!rec.error.empty()) {
    spdlog::error("cannot start: {}", rec.error);
    return 1;
  }
  for (auto& w : rec.warnings)
    spdlog::warn("{}", w);
  if (rec.partitions == 0) { // an empty data directory
    rec.partitions = cfg.effective_partitions();
    rec.parts = std::vector<otkv::store::partition>(rec.partitions);
    rec.seqs.assign(rec.partitions, 0);
  }
  if (!cluster.nodes.empty() && rec.partitions != cluster.partitions) {
    spdlog::error("cannot start: the data directory has {} partitions, the cluster file {}",
                  rec.partitions, cluster.partitions);
    return 1;
  }
  size_t keys = 0;
  for (auto& p : rec.parts)
    keys += p.size();
  std::string summary = std::to_string(keys) + " keys (snapshot: "
                        + (rec.had_snapshot ? std::to_string(rec.snapshot_keys) + " keys" : "none")
                        + ", op log: " + std::to_string(rec.log_records) + " records in "
                        + std::to_string(rec.log_files) + " files) in "
                        + std::to_string(rec.seconds) + " s";
  spdlog::info("recovered {}", summary);

  // Signals go to the signal thread only: block them before any thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  caf::actor_system_config sys_cfg;
  otkv::configure_system(sys_cfg, cfg.effective_threads());
  // The stop watchdog (below) waits on these; they outlive it.
  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool stopped = false;
  std::thread watchdog;
  {
    caf::actor_system sys{sys_cfg};
    uint32_t partitions = rec.partitions;
    otkv::store_options store_opts;
    store_opts.dir = cfg.dir;
    store_opts.appendonly = cfg.appendonly;
    store_opts.appendfsync = cfg.appendfsync;
    store_opts.save_interval = cfg.save_interval;
    if (view && view->replicated()) // its partitions take part in their chains
      store_opts.chain = std::make_shared<otkv::chain_hub>(view);
    auto store = otkv::start_store(sys, rec, store_opts);
    caf::scoped_actor self{sys};
    otkv::broker_options opts;
    opts.cfg = cfg;
    opts.cfg.port = listening.port;
    opts.snapshotter = store.snapshotter;
    opts.recovery_summary = summary;
    opts.log_error = store.health;
    opts.shards = cfg.effective_threads();
    caf::actor gate, link;
    if (!cluster.nodes.empty()) {
      otkv::cluster_node_options node;
      node.view = view;
      node.secret = cfg.requirepass;
      node.log_error = store.health;
      node.request_timeout_ms = cfg.request_timeout_ms;
      node.request_attempts = cfg.request_attempts;
      node.config_path = cfg.cluster_config;
      gate = sys.spawn(otkv::cluster_gate, node, store.table, store.supervisor);
      // The cluster port binds like the client port (loopback by default).
      auto port = node.view->myself().cluster_port;
      auto published = sys.middleman().publish(gate, port, cfg.bind.c_str(), true);
      if (!published) {
        spdlog::error("cannot listen on the cluster port {}:{}: {}", cfg.bind, port,
                      sys.render(published.error()));
        caf::anon_send_exit(gate, caf::exit_reason::user_shutdown);
        otkv::stop_store(sys, store);
        ::close(listening.fd);
        return 1;
      }
      node.config_path = cfg.cluster_config;
      node.local_gate = gate;
      link = sys.spawn(otkv::cluster_link, node);
      if (store_opts.chain)
        store_opts.chain->set_link(link);
      opts.cluster = node.view;
      opts.link = link;
      spdlog::info("cluster node {} ({} of {}), cluster port {}, {}", node.view->myself().id,
                   cluster_self + 1, node.view->nodes(), port,
                   cfg.cluster_redirect ? "redirecting (-MOVED)" : "forwarding");
    }
    std::optional<otkv::server_shards> shards;
    shards.emplace(sys, opts, store.table, store.supervisor, listening.fd);
    if (link)
      caf::anon_send(link, otkv::peers_atom::value, shards->brokers());
    auto broker = shards->brokers().front(); // signals go to shard 0, which stops them all
    // Scripts read the port from this line, so it is printed at any level but "off".
    auto level = spdlog::get_level();
    if (level != spdlog::level::off)
      spdlog::set_level(std::min(level, spdlog::level::info));
    spdlog::info("OTKV {} starting: pid {}, {} partitions, {} shards (I/O threads) and {} "
                 "scheduler threads, op log {}",
                 otkv::version, ::getpid(), partitions, opts.shards, cfg.effective_threads(),
                 cfg.appendonly ? "on (appendfsync " + cfg.appendfsync + ")" : "off");
    if (cfg.protected_mode && cfg.requirepass.empty() && cfg.bind.rfind("127.", 0) != 0
        && cfg.bind != "::1")
      spdlog::warn("bound to {} without --requirepass: protected mode serves loopback "
                   "clients only (see docs/security.md)", cfg.bind);
    spdlog::info("OTKV listening on {}:{}", cfg.bind, listening.port);
    spdlog::set_level(level);
    std::thread signals(signal_loop, broker);
    if (coordinator) // removed from its chain: start again, empty, and join at the tail
      coordinator->start([argv] { restart_self(argv); });
    for (auto& b : shards->brokers())
      self->wait_for(b);
    if (coordinator)
      coordinator->stop();
    if (link) { // no broker sends anything more to the other nodes
      caf::anon_send(link, otkv::shutdown_atom::value);
      caf::anon_send_exit(gate, caf::exit_reason::user_shutdown);
      self->wait_for(link, gate);
    }
    // Every request is answered and every acknowledged write is in the op log (written
    // before its reply left). A worker hung inside a batch would hold the process (CAF
    // waits for every actor) until it wakes: exit anyway once the request budget is
    // spent, losing nothing acknowledged.
    auto budget = std::chrono::milliseconds(uint64_t{cfg.request_timeout_ms}
                                            * cfg.request_attempts);
    watchdog = std::thread([&, budget] {
      std::unique_lock<std::mutex> guard{stop_mutex};
      if (stop_cv.wait_for(guard, budget, [&] { return stopped; }))
        return; // stopped in time
      spdlog::warn("a partition worker is still busy {} ms after the last reply; exiting "
                   "without waiting for it (nothing acknowledged is lost)", budget.count());
      spdlog::info("OTKV stopped");
      std::_Exit(0);
    });
    otkv::stop_store(sys, store);
    shards.reset(); // the other shards' actor systems
    if (signals.joinable()) {
      pthread_kill(signals.native_handle(), SIGUSR1);
      signals.join();
    }
  }
  { // every actor has ended (the actor system is gone): the watchdog is not needed
    std::lock_guard<std::mutex> guard{stop_mutex};
    stopped = true;
  }
  stop_cv.notify_all();
  if (watchdog.joinable())
    watchdog.join();
  spdlog::info("OTKV stopped");
  return 0;
}

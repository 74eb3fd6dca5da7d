// spawn_store: the embedding API's front actor. It runs requests through the same
// front-end core as the TCP broker (actors/front_core), one session whose replies go to
// their callers as reply objects, each as soon as it is ready.

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/clock.hpp"
#include "commands/dispatch.hpp"
#include "actors/config.hpp"
#include "actors/front_core.hpp"
#include "commands/errors.hpp"
#include "actors/partition_worker.hpp"
#include "actors/server_broker.hpp"
#include "actors/store_system.hpp"
#include "otkv/otkv.hpp"

namespace otkv {

namespace {

using front_ptr = caf::stateful_actor<struct front_state>*;

/// The front-end core's view of the embedded front: batches go to the workers.
struct embedded_host : front_host {
  front_ptr self = nullptr;
  void send_batch(std::shared_ptr<const work_batch> batch) override;
  void restart_worker(uint32_t partition) override;
  void over_output_limit(front_session&) override {} // no output limit here
};

/// The one session of the embedded store: replies are reply objects, each delivered to
/// its caller as soon as it is ready.
constexpr uint64_t session_id = 1;

struct front_state {
  store_actors actors;
  std::vector<caf::actor> brokers; ///< TCP front ends opened with listen_atom
  std::vector<worker_actor> workers;
  embedded_host host;
  cmd::server_context server;
  std::unique_ptr<front_core> core;
  front_session* session = nullptr;
  /// Callers waiting, by request sequence of the session.
  std::unordered_map<uint64_t, caf::typed_response_promise<net::reply>> waiting;
  std::vector<std::pair<uint64_t, uint64_t>> touched; ///< scratch: replies ready
  bool dispatch_scheduled = false;
  bool stopping = false; ///< an exit message arrived: draining the logger
  static const char* name;
};

const char* front_state::name = "otkv_store";

void embedded_host::send_batch(std::shared_ptr<const work_batch> batch) {
  auto p = batch->partition;
  self->send(self->state.workers[p], batch_ref{std::move(batch)});
}

void embedded_host::restart_worker(uint32_t p) {
  auto& st = self->state;
  self->send(st.actors.supervisor, restart_atom::value, p, st.workers[p]);
}

/// Hands the replies that became ready to their callers; releases delivered slots.
void deliver_ready(front_ptr self) {
  auto& st = self->state;
  st.core->take_touched(st.touched);
  for (auto& [id, seq] : st.touched) {
    auto i = st.waiting.find(seq);
    auto* slot = st.session->slot(seq);
    if (i == st.waiting.end() || slot == nullptr)
      continue;
    i->second.deliver(std::move(slot->reply));
    st.waiting.erase(i);
  }
  auto& s = *st.session;
  while (!s.queue.empty() && s.queue.front().ready && st.waiting.count(s.first_seq) == 0)
    s.pop_front();
}
/// CONFIG SET on the embedded store: only the request-timeout settings apply here (the
/// others belong to a TCP front end or the process); all or nothing, as over TCP.
net::reply config_set(front_ptr self,
                      const std::vector<std::pair<std::string, std::string>>& changes) {
  auto& st = self->state;
  for (const auto& [name, value] : changes)
    if (runtime_settable(name) && name != "request-timeout-ms" && name != "request-attempts")
      return cmd::err::config_not_embedded(name);
  server_config cfg;
  if (auto err = check_config_set(cfg, changes); !err.empty())
    return cmd::err::text(err);
  for (const auto& [name, value] : changes) {
    if (name == "request-timeout-ms")
      st.core->settings.request_timeout_ms = cfg.request_timeout_ms;
    else
      st.core->settings.request_attempts = cfg.request_attempts;
    auto& shown = st.server.info.config;
    auto i = std::find_if(shown.begin(), shown.end(), [&](auto& kv) { return kv.first == name; });
    if (i != shown.end())
      i->second = value;
    else
      shown.emplace_back(name, value);
  }
  return net::reply::ok();
}

/// What a connection command's effect makes of its reply `r`, or why it cannot be done
/// here (no connection to close, no process to stop). SAVE answers through `later`.
net::reply perform(front_ptr self, const cmd::effect& fx, net::reply r,
                   std::function<void(net::reply)> later) {
  using kind = cmd::effect::kind;
  auto& st = self->state;
  switch (fx.what) {
    case kind::none:
    case kind::auth_failed:
    // One front end, whose counters are the store's: server_info::shards stays 1, so
    // nothing is gathered and no other shard resets.
    case kind::gather:
    case kind::reset_stats:
      return r;
    case kind::fault:
      deliver_fault(st.workers[fx.fault.partition], fx.fault);
      return r;
    case kind::config_set:
      return config_set(self, fx.config);
    case kind::move_slots: // an embedded store is no cluster node
      return cmd::err::cluster_disabled();
    case kind::watch: // never: WATCH and MULTI are refused here (front_host::transactions)
    case kind::script: // never: answered by the front-end core (front_host::run_script)
    case kind::exec:
      return cmd::err::exec_without_multi();
    case kind::close:
      return cmd::err::quit_not_embedded();
    case kind::shutdown:
      return cmd::err::shutdown_not_embedded();
    case kind::save:
    case kind::bgsave:
      break;
  }
  if (!st.actors.snapshotter)
    return cmd::err::snapshots_off();
  if (fx.what == kind::bgsave) {
    self->send(st.actors.snapshotter, save_atom::value);
    return r;
  }
  self->request(st.actors.snapshotter, std::chrono::minutes(30), save_atom::value)
    .then(
      [=](bool ok) {
        later(ok ? net::reply::ok() : cmd::err::snapshot_failed());
      },
      [=](caf::error& e) { later(cmd::err::snapshot_failed(to_string(e))); });
  return {};
}

caf::result<net::reply> execute(front_ptr self, std::vector<std::string> args) {
  auto& st = self->state;
  if (args.empty())
    return cmd::err::empty_command();
  auto& s = *st.session;
  auto promise = self->make_response_promise<net::reply>();
  st.waiting.emplace(s.next_seq(), promise);
  if (st.core->submit(s, std::move(args), now_ms(), steady_ms())) {
    auto fx = st.core->take_effect();
    auto answer = [self, seq = fx.seq](net::reply r) {
      auto& st = self->state;
      st.core->answer(*st.session, seq, std::move(r));
      deliver_ready(self);
    };
    bool later = fx.effect.what == cmd::effect::kind::save;
    auto r = perform(self, fx.effect, std::move(fx.reply), answer);
    if (!later || r.is_error())
      answer(std::move(r));
  }
  if (st.core->has_batches() && !st.dispatch_scheduled) {
    st.dispatch_scheduled = true;
    self->send(self, dispatch_atom::value);
  }
  deliver_ready(self);
  return promise;
}

/// How often overdue requests are looked for.
constexpr auto tick_interval = std::chrono::milliseconds(50);

caf::behavior store_front(caf::stateful_actor<front_state>* self, store_actors actors,
                          store::millis timeout_ms, uint32_t attempts, bool debug_enabled,
                          std::vector<std::pair<std::string, std::string>> config) {
  auto& st = self->state;
  st.server.info.config = std::move(config);
  st.actors = std::move(actors);
  st.workers = st.actors.table.workers;
  st.host.self = self;
  st.core = std::make_unique<front_core>(st.host, st.server,
                                         static_cast<uint32_t>(st.workers.size()));
  st.core->settings.request_timeout_ms = timeout_ms;
  st.core->settings.request_attempts = attempts;
  auto& s = st.core->open<front_session>(session_id);
  s.encode = false;   // callers get reply objects
  s.in_order = false; // each as soon as it is ready
  st.session = &s;
  st.server.info.debug_enabled = debug_enabled;
  st.server.info.log_error = st.actors.health;
  st.server.info.version = version;
  st.server.info.started_ms = now_ms();
  self->delayed_send(self, tick_interval, caf::tick_atom_v);
  self->send(st.actors.supervisor, caf::subscribe_atom_v);
  if (st.actors.snapshotter) // LASTSAVE and INFO persistence follow the snapshots
    self->send(st.actors.snapshotter, caf::subscribe_atom_v);
  // The store's actors end with the front: told explicitly on exit (and linked, should the
  // front fail).
  self->link_to(st.actors.supervisor);
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& st = self->state;
    if (st.stopping)
      return;
    st.stopping = true;
    for (auto& b : st.brokers)
      self->send_exit(b, msg.reason);
    self->send_exit(st.actors.supervisor, msg.reason);
    if (st.actors.snapshotter)
      self->send_exit(st.actors.snapshotter, msg.reason);
    if (!st.actors.logger)
      return self->quit(msg.reason);
    // The logger answers once it has handled every record sent before this request, so
    // the front ends only after the op log holds every acknowledged write.
    auto reason = msg.reason;
    auto finish = [=] {
      self->send_exit(self->state.actors.logger, reason);
      self->quit(reason);
    };
    self->request(st.actors.logger, caf::infinite, caf::get_atom_v)
      .then([=](bool) { finish(); }, [=](caf::error&) { finish(); });
  });
  return {
    [=](caf::get_atom, std::string& key) { return execute(self, {"GET", std::move(key)}); },
    [=](caf::put_atom, std::string& key, std::string& value) {
      return execute(self, {"SET", std::move(key), std::move(value)});
    },
    [=](caf::delete_atom, std::string& key) { return execute(self, {"DEL", std::move(key)}); },
    [=](exists_atom, std::string& key) { return execute(self, {"EXISTS", std::move(key)}); },
    [=](expire_atom, std::string& key, int64_t seconds) {
      return execute(self, {"EXPIRE", std::move(key), std::to_string(seconds)});
    },
    [=](execute_atom, std::vector<std::string>& args) { return execute(self, std::move(args)); },
    [=](saved_atom, store::millis when, bool ok) {
      auto& srv = self->state.server;
      srv.counters.last_save_ok = ok;
      if (ok)
        srv.counters.last_save_ms = when;
    },
    [=](listen_atom, const std::string& bind, uint16_t port) -> caf::result<uint16_t> {
      auto& st = self->state;
      if (!self->system().has_middleman())
        return caf::make_error(caf::sec::runtime_error);
      broker_options opts;
      for (const auto& [name, value] : st.server.info.config) // the store's own settings
        set_option(opts.cfg, name, value);
      opts.cfg.bind = bind;
      opts.cfg.port = port;
      opts.cfg.request_timeout_ms = static_cast<uint32_t>(st.core->settings.request_timeout_ms);
      opts.cfg.request_attempts = st.core->settings.request_attempts;
      opts.cfg.enable_debug_command = st.server.info.debug_enabled;
      opts.snapshotter = st.actors.snapshotter;
      opts.log_error = st.actors.health;
      auto table = st.actors.table; // the partitions and the op log, with today's workers
      table.workers = st.workers;
      auto broker = self->system().middleman().spawn_broker(server_broker, opts,
                                                            std::move(table),
                                                            st.actors.supervisor);
      st.brokers.push_back(broker);
      auto promise = self->make_response_promise<uint16_t>();
      self->request(broker, caf::infinite, port_atom::value)
        .then([=](uint16_t p) mutable { promise.deliver(p); },
              [=](caf::error& e) mutable { promise.deliver(std::move(e)); });
      return promise;
    },
    [=](dispatch_atom) {
      auto& st = self->state;
      st.dispatch_scheduled = false;
      st.core->dispatch(now_ms(), steady_ms());
    },
    [=](done_batch& batch) {
      self->state.core->on_done(batch, now_ms());
      deliver_ready(self);
    },
    [=](caf::update_atom, worker_table& t) {
      auto& st = self->state;
      st.core->take_workers(st.workers, std::move(t.workers), now_ms(), steady_ms());
      deliver_ready(self);
    },
    [=](caf::tick_atom) {
      self->state.core->tick(steady_ms());
      deliver_ready(self);
      self->delayed_send(self, tick_interval, caf::tick_atom_v);
    },
  };
}

} // namespace

store_actor spawn_store(caf::actor_system& sys, const store_config& cfg) {
  if (!cfg.dir.empty()) // made with its parents, or refused (as otkv-server --dir)
    if (auto err = store::prepare_data_dir(cfg.dir); !err.empty())
      throw std::runtime_error("otkv: " + err);
  auto rec = store::recover(cfg.dir.empty() ? std::string("/nonexistent-otkv-dir") : cfg.dir,
                            cfg.partitions, now_ms());
  if (!rec.error.empty())
    throw std::runtime_error("otkv: " + rec.error);
  if (rec.partitions == 0) {
    server_config defaults;
    defaults.partitions = cfg.partitions;
    rec.partitions = defaults.effective_partitions();
    rec.parts = std::vector<store::partition>(rec.partitions);
    rec.seqs.assign(rec.partitions, 0);
  }
  store_options opts;
  opts.dir = cfg.dir;
  opts.appendonly = cfg.appendonly;
  opts.appendfsync = cfg.appendfsync;
  opts.save_interval = cfg.save_interval;
  auto actors = start_store(sys, rec, opts);
  auto attempts = std::max<uint32_t>(1, cfg.request_attempts);
  // What CONFIG GET reports: the settings that describe this store.
  std::vector<std::pair<std::string, std::string>> shown = {
    {"partitions", std::to_string(rec.partitions)},
    {"dir", cfg.dir},
    {"appendonly", cfg.appendonly && !cfg.dir.empty() ? "yes" : "no"},
    {"appendfsync", cfg.appendfsync},
    {"save-interval", std::to_string(cfg.dir.empty() ? 0 : cfg.save_interval)},
    {"request-timeout-ms", std::to_string(cfg.request_timeout_ms)},
    {"request-attempts", std::to_string(attempts)},
  };
  return caf::actor_cast<store_actor>(
    sys.spawn(store_front, std::move(actors), static_cast<store::millis>(cfg.request_timeout_ms),
              attempts, cfg.enable_debug_command, std::move(shown)));
}

} // namespace otkv

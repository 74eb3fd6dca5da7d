// spawn_store: the embedding API's front actor. It routes commands to the partition
// workers like the broker does (resolve, split, merge), for one request at a time.

#include <algorithm>
#include <chrono>
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
#include "actors/inflight_batches.hpp"
#include "actors/partition_worker.hpp"
#include "actors/server_broker.hpp"
#include "actors/store_system.hpp"
#include "otkv/otkv.hpp"

namespace otkv {

namespace {

/// A request waiting for its parts.
struct embedded_request {
  caf::typed_response_promise<net::reply> promise;
  const cmd::command* cmd = nullptr;
  std::unique_ptr<cmd::fanout> fan; ///< set when the parts are merged
  size_t missing = 0;
};

struct front_state {
  store_actors actors;
  std::vector<caf::actor> brokers; ///< TCP front ends opened with listen_atom
  std::vector<caf::actor> workers;
  std::unordered_map<uint64_t, embedded_request> pending;
  uint64_t next_request = 0;
  inflight_batches inflight; ///< for the request-timeout policy, as the TCP broker
  store::millis timeout_ms = 500;
  uint32_t attempts = 2;
  bool stopping = false; ///< an exit message arrived: draining the logger
  cmd::server_context server;
  cmd::client_context client;
  static const char* name;
};

const char* front_state::name = "otkv_store";

using front_ptr = caf::stateful_actor<front_state>*;

/// CONFIG SET on the embedded store: only the request-timeout settings apply here (the
/// others belong to a TCP front end or the process); all or nothing, as over TCP.
net::reply config_set(front_ptr self,
                      const std::vector<std::pair<std::string, std::string>>& changes) {
  auto& st = self->state;
  for (const auto& [name, value] : changes)
    if (runtime_settable(name) && name != "request-timeout-ms" && name != "request-attempts")
      return net::reply::error("ERR CONFIG SET '" + name + "' does not apply to an embedded "
                               "store (only request-timeout-ms and request-attempts do)");
  server_config cfg;
  if (auto err = check_config_set(cfg, changes); !err.empty())
    return net::reply::error(err);
  for (const auto& [name, value] : changes) {
    if (name == "request-timeout-ms")
      st.timeout_ms = cfg.request_timeout_ms;
    else
      st.attempts = cfg.request_attempts;
    auto& shown = st.server.config;
    auto i = std::find_if(shown.begin(), shown.end(), [&](auto& kv) { return kv.first == name; });
    if (i != shown.end())
      i->second = value;
    else
      shown.emplace_back(name, value);
  }
  return net::reply::ok();
}

/// Performs what a connection command asked beyond its reply `r`, or answers why it
/// cannot be done here (no connection to close, no process to stop).
caf::result<net::reply> perform(front_ptr self, cmd::effect fx, net::reply r) {
  using kind = cmd::effect::kind;
  auto& st = self->state;
  switch (fx.what) {
    case kind::none:
    case kind::auth_failed:
      return r;
    case kind::fault:
      deliver_fault(st.workers[fx.fault.partition], fx.fault);
      return r;
    case kind::config_set:
      return config_set(self, fx.config);
    case kind::close:
      return net::reply::error("ERR QUIT does not apply to an embedded store: it has no "
                               "connection to close");
    case kind::shutdown:
      return net::reply::error("ERR SHUTDOWN does not apply to an embedded store: stop it "
                               "with an exit message to its actor (see docs/embedding.md)");
    case kind::save:
    case kind::bgsave:
      break;
  }
  if (!st.actors.snapshotter)
    return net::reply::error("ERR snapshots are off: the store has no data directory");
  if (fx.what == kind::bgsave) {
    self->send(st.actors.snapshotter, save_atom::value);
    return r;
  }
  auto promise = self->make_response_promise<net::reply>();
  self->request(st.actors.snapshotter, std::chrono::minutes(30), save_atom::value)
    .then(
      [=](bool ok) mutable {
        promise.deliver(ok ? net::reply::ok()
                           : net::reply::error("ERR snapshot failed; see the server log"));
      },
      [=](caf::error& e) mutable {
        promise.deliver(net::reply::error("ERR snapshot failed: " + to_string(e)));
      });
  return promise;
}

caf::result<net::reply> execute(front_ptr self, std::vector<std::string> args) {
  auto& st = self->state;
  if (args.empty())
    return net::reply::error("ERR empty command");
  net::reply error;
  const cmd::command* c = cmd::resolve(args, error);
  if (c == nullptr
      || !cmd::check_partitions(*c, args, static_cast<uint32_t>(st.workers.size()), error)
      || !cmd::check_writable(*c, st.server, error))
    return error;
  if (c->where == cmd::route::connection) {
    st.client.now = now_ms();
    auto r = c->on_connection(st.client, args);
    return perform(self, std::exchange(st.client.pending, cmd::effect{}), std::move(r));
  }
  cmd::fanout f;
  auto parts = cmd::split(*c, std::move(args), static_cast<uint32_t>(st.workers.size()), f);
  uint64_t id = ++st.next_request;
  auto& req = st.pending[id];
  req.promise = self->make_response_promise<net::reply>();
  req.cmd = c;
  req.missing = parts.size();
  if (cmd::needs_merge(*c, parts.size())) {
    f.results.resize(parts.size());
    req.fan = std::make_unique<cmd::fanout>(std::move(f));
  }
  auto promise = req.promise;
  for (uint32_t i = 0; i < parts.size(); ++i) {
    auto batch = std::make_shared<work_batch>();
    batch->id = next_batch_id();
    batch->partition = parts[i].partition;
    batch->items.push_back({0, id, i, false, c, std::move(parts[i].args)});
    st.inflight.add(batch, steady_ms());
    self->send(st.workers[parts[i].partition], batch_ref{std::move(batch)});
  }
  return promise;
}

/// Answers the requests of a batch that ran out of attempts with -TIMEOUT.
void fail_batch(front_ptr self, const work_batch& batch, uint32_t attempts) {
  auto& pending = self->state.pending;
  for (const auto& item : batch.items) {
    auto i = pending.find(item.seq);
    if (i == pending.end())
      continue;
    i->second.promise.deliver(timeout_reply(batch.partition, attempts));
    pending.erase(i);
  }
}

/// How often overdue requests are looked for.
constexpr auto tick_interval = std::chrono::milliseconds(50);

caf::behavior store_front(caf::stateful_actor<front_state>* self, store_actors actors,
                          store::millis timeout_ms, uint32_t attempts, bool debug_enabled,
                          std::vector<std::pair<std::string, std::string>> config) {
  auto& st = self->state;
  st.server.config = std::move(config);
  st.actors = std::move(actors);
  st.workers = st.actors.table.workers;
  st.inflight.resize(st.workers.size());
  st.timeout_ms = timeout_ms;
  st.attempts = attempts;
  st.server.debug_enabled = debug_enabled;
  st.server.log_error = st.actors.health;
  self->delayed_send(self, tick_interval, caf::tick_atom_v);
  st.server.version = version;
  st.server.partitions = static_cast<uint32_t>(st.workers.size());
  st.server.started_ms = now_ms();
  st.server.partition_counters.resize(st.workers.size());
  st.client.server = &st.server;
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
      srv.last_save_ok = ok;
      if (ok)
        srv.last_save_ms = when;
    },
    [=](listen_atom, const std::string& bind, uint16_t port) -> caf::result<uint16_t> {
      auto& st = self->state;
      if (!self->system().has_middleman())
        return caf::make_error(caf::sec::runtime_error);
      broker_options opts;
      opts.bind = bind;
      opts.port = port;
      opts.snapshotter = st.actors.snapshotter;
      opts.request_timeout_ms = st.timeout_ms;
      opts.request_attempts = st.attempts;
      opts.debug_enabled = st.server.debug_enabled;
      opts.log_error = st.actors.health;
      opts.config = server_config{}.as_pairs();
      auto broker = self->system().middleman().spawn_broker(
        server_broker, opts, worker_table{st.workers}, st.actors.supervisor);
      st.brokers.push_back(broker);
      auto promise = self->make_response_promise<uint16_t>();
      self->request(broker, caf::infinite, port_atom::value)
        .then([=](uint16_t p) mutable { promise.deliver(p); },
              [=](caf::error& e) mutable { promise.deliver(std::move(e)); });
      return promise;
    },
    [=](done_batch& batch) {
      auto& st = self->state;
      st.inflight.answered(batch.partition, batch.id);
      for (auto& item : batch.items) {
        auto i = st.pending.find(item.seq);
        if (i == st.pending.end())
          continue;
        auto& req = i->second;
        if (req.fan) {
          req.fan->results[item.part] = std::move(item.result);
          if (--req.missing > 0)
            continue;
          st.client.now = now_ms();
          req.promise.deliver(req.cmd->on_merge(st.client, *req.fan));
        } else {
          req.promise.deliver(std::move(item.result));
        }
        st.pending.erase(i);
      }
    },
    [=](caf::update_atom, worker_table& t) {
      auto& st = self->state;
      auto old = std::move(st.workers);
      st.workers = std::move(t.workers);
      for (uint32_t p = 0; p < st.workers.size() && p < old.size(); ++p)
        if (st.workers[p] != old[p])
          st.inflight.replaced(
            p, steady_ms(), st.attempts,
            [&](const work_batch& b, uint32_t n) { fail_batch(self, b, n); },
            [&](const std::shared_ptr<const work_batch>& b) {
              self->send(st.workers[p], batch_ref{b});
            });
    },
    [=](caf::tick_atom) {
      auto& st = self->state;
      st.inflight.check(
        steady_ms(), st.timeout_ms, st.attempts,
        [&](const work_batch& b, uint32_t n) { fail_batch(self, b, n); },
        [&](uint32_t p) {
          self->send(st.actors.supervisor, restart_atom::value, p, st.workers[p]);
        });
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

#include "actors/cluster_node.hpp"

#include <chrono>
#include <set>

#include <caf/io/middleman.hpp>
#include <spdlog/spdlog.h>

#include "actors/clock.hpp"
#include "actors/messages.hpp"
#include "commands/dispatch.hpp"
#include "commands/errors.hpp"

namespace otkv {

namespace {

/// How often the gate checks its forwarded batches' deadlines.
constexpr auto gate_tick = std::chrono::milliseconds(50);
/// How long the link waits before connecting again to a node that is down.
constexpr auto reconnect_delay = std::chrono::milliseconds(250);
/// How long a node has to answer hello.
constexpr auto hello_timeout = std::chrono::seconds(2);

using gate_ptr = caf::stateful_actor<cluster_gate_state>*;
using link_ptr = caf::stateful_actor<cluster_link_state>*;

/// Sends `done`'s results, as the answer to forwarded batch `fb`, to its origin.
void answer_origin(const forwarded_batch& fb, const done_batch& done, gate_ptr self) {
  wire_done out{fb.origin_id, fb.target, fb.shard, {}};
  out.items.reserve(done.items.size());
  for (const auto& item : done.items)
    out.items.push_back({item.conn, item.seq, item.part, item.result, item.ns, item.over_limit});
  self->send(fb.origin, std::move(out));
}

/// Answers every request of forwarded batch `batch` with `error`.
void fail_forwarded(gate_ptr self, const work_batch& batch, const net::reply& error) {
  auto& st = self->state;
  auto i = st.forwarded.find(batch.id);
  if (i == st.forwarded.end())
    return;
  done_batch done{batch.partition, batch.id, {}};
  for (const auto& item : batch.items)
    done.items.push_back({item.conn, item.seq, item.part, error});
  answer_origin(i->second, done, self);
  st.forwarded.erase(i);
}

bool accepted(cluster_gate_state& st, const caf::strong_actor_ptr& sender) {
  if (!sender)
    return false;
  for (const auto& n : st.accepted)
    if (n == sender->node())
      return true;
  return false;
}

/// Asks the middleman to connect to node `n`'s gate; on success says hello.
void connect(link_ptr self, uint32_t n) {
  auto& st = self->state;
  if (st.stopping)
    return;
  const auto& node = st.opts.view->config().nodes[n];
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, caf::infinite, caf::connect_atom_v, node.cluster_host, node.cluster_port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& gate_ptr, const std::set<std::string>&) {
        auto gate = caf::actor_cast<caf::actor>(gate_ptr);
        if (!gate) {
          self->delayed_send(self, reconnect_delay, caf::connect_atom_v, n);
          return;
        }
        const auto& me = self->state.opts;
        self->request(gate, hello_timeout, hello_atom::value,
                      wire_hello{me.view->myself().id, me.secret})
          .then(
            [=](bool ok) {
              auto& st = self->state;
              const auto& id = st.opts.view->config().nodes[n].id;
              if (!ok) {
                spdlog::warn("cluster node {} refused this node (a different cluster file or "
                             "secret?); trying again", id);
                self->delayed_send(self, std::chrono::seconds(1), caf::connect_atom_v, n);
                return;
              }
              st.gates[n] = gate;
              self->monitor(gate);
              st.opts.view->set_up(n, true);
              spdlog::info("cluster node {} connected ({} of {} reachable)", id,
                           st.opts.view->reachable(), st.opts.view->nodes());
            },
            [=](caf::error&) {
              self->delayed_send(self, reconnect_delay, caf::connect_atom_v, n);
            });
      },
      [=](caf::error&) { self->delayed_send(self, reconnect_delay, caf::connect_atom_v, n); });
}

/// Answers every request of `batch`, for a node that cannot be reached, with -CLUSTERDOWN.
void refuse(link_ptr self, const wire_batch& batch) {
  auto& st = self->state;
  if (batch.shard >= st.brokers.size())
    return;
  done_batch done{batch.target, batch.id, {}};
  for (const auto& item : batch.items)
    done.items.push_back({item.conn, item.seq, item.part, cmd::err::clusterdown()});
  self->send(st.brokers[batch.shard], std::move(done));
}

} // namespace

const char* cluster_gate_state::name = "otkv_cluster_gate";
const char* cluster_link_state::name = "otkv_cluster_link";

wire_batch to_wire(const work_batch& batch, uint32_t partition, uint32_t shard) {
  wire_batch out;
  out.id = batch.id;
  out.partition = partition;
  out.target = batch.target;
  out.shard = shard;
  out.output_limit = batch.output_limit;
  out.items.reserve(batch.items.size());
  for (const auto& item : batch.items)
    out.items.push_back({item.conn, item.seq, item.part, item.encode, item.args});
  return out;
}

caf::behavior cluster_gate(caf::stateful_actor<cluster_gate_state>* self,
                           cluster_node_options opts, worker_table table,
                           supervisor_actor supervisor) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.workers = std::move(table.workers);
  st.supervisor = supervisor;
  st.inflight.resize(st.workers.size());
  self->send(supervisor, caf::subscribe_atom_v);
  self->delayed_send(self, gate_tick, caf::tick_atom_v);
  return {
    [=](hello_atom, const wire_hello& hello) {
      auto& st = self->state;
      const auto& view = *st.opts.view;
      bool known = false;
      for (uint32_t n = 0; n < view.nodes(); ++n)
        known = known || (n != view.self() && view.config().nodes[n].id == hello.node_id);
      if (!known || hello.secret != st.opts.secret) {
        spdlog::warn("refused a cluster connection from node '{}': {}", hello.node_id,
                     known ? "wrong secret (--requirepass differs)" : "not in the cluster file");
        return false;
      }
      auto sender = self->current_sender();
      if (sender && !accepted(st, sender))
        st.accepted.push_back(sender->node());
      return true;
    },
    [=](wire_batch& in) {
      auto& st = self->state;
      auto sender = self->current_sender();
      if (!accepted(st, sender)) {
        spdlog::warn("dropped a batch from a node that did not say hello");
        return;
      }
      if (in.partition >= st.workers.size())
        return;
      auto batch = std::make_shared<work_batch>();
      batch->id = next_batch_id();
      batch->partition = in.partition;
      batch->target = in.target;
      batch->output_limit = in.output_limit;
      batch->items.reserve(in.items.size());
      for (auto& item : in.items) {
        net::reply error;
        const cmd::command* c = item.args.empty() ? nullptr : cmd::resolve(item.args, error);
        if (c == nullptr || c->where == cmd::route::connection) {
          // The origin checked it: a node with another command table sent it.
          c = cmd::find_command("ping");
          item.args = {"ping"};
        }
        batch->items.push_back({item.conn, item.seq, item.part, item.encode, c,
                                std::move(item.args)});
      }
      st.forwarded.emplace(batch->id, forwarded_batch{caf::actor_cast<caf::actor>(sender), in.id,
                                                      in.target, in.shard});
      st.inflight.add(batch, steady_ms());
      self->send(st.workers[in.partition], batch_ref{std::move(batch)});
    },
    [=](done_batch& done) {
      auto& st = self->state;
      if (done.partition >= st.workers.size() || !st.inflight.answered(done.partition, done.id))
        return; // answered already (failed after its last attempt)
      auto i = st.forwarded.find(done.id);
      if (i == st.forwarded.end())
        return;
      answer_origin(i->second, done, self);
      st.forwarded.erase(i);
    },
    [=](caf::update_atom, worker_table& t) {
      auto& st = self->state;
      auto old = std::move(st.workers);
      st.workers = std::move(t.workers);
      auto now = steady_ms();
      for (uint32_t p = 0; p < st.workers.size() && p < old.size(); ++p) {
        if (st.workers[p] == old[p])
          continue;
        st.inflight.replaced(
          p, now, st.opts.request_attempts,
          [&](const work_batch& b, uint32_t attempts) {
            fail_forwarded(self, b, cmd::err::timeout(b.target, attempts));
          },
          [&](const std::shared_ptr<const work_batch>& b) {
            self->send(st.workers[p], batch_ref{b});
          });
      }
    },
    [=](caf::tick_atom) {
      auto& st = self->state;
      st.inflight.check(
        steady_ms(), st.opts.request_timeout_ms, st.opts.request_attempts,
        [&](const work_batch& b, uint32_t attempts) {
          fail_forwarded(self, b, cmd::err::timeout(b.target, attempts));
        },
        [&](uint32_t p) { self->send(st.supervisor, restart_atom::value, p, st.workers[p]); });
      self->delayed_send(self, gate_tick, caf::tick_atom_v);
    },
  };
}

caf::behavior cluster_link(caf::stateful_actor<cluster_link_state>* self,
                           cluster_node_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.gates.resize(st.opts.view->nodes());
  for (uint32_t n = 0; n < st.opts.view->nodes(); ++n)
    if (n != st.opts.view->self())
      connect(self, n);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    for (uint32_t n = 0; n < st.gates.size(); ++n) {
      if (!st.gates[n] || st.gates[n].address() != msg.source)
        continue;
      st.gates[n] = nullptr;
      st.opts.view->set_up(n, false);
      spdlog::warn("cluster node {} is down: requests for its slots answer -CLUSTERDOWN until "
                   "it is back", st.opts.view->config().nodes[n].id);
      self->delayed_send(self, reconnect_delay, caf::connect_atom_v, n);
    }
  });
  return {
    [=](peers_atom, const std::vector<caf::actor>& brokers) { self->state.brokers = brokers; },
    [=](caf::connect_atom, uint32_t n) { connect(self, n); },
    [=](wire_batch& batch) {
      auto& st = self->state;
      const auto& view = *st.opts.view;
      uint32_t partitions = view.config().partitions;
      uint32_t n = view.node_of_ordinal(batch.target / partitions);
      if (!st.gates[n])
        return refuse(self, batch);
      self->send(st.gates[n], std::move(batch));
    },
    [=](wire_done& in) {
      auto& st = self->state;
      if (in.shard >= st.brokers.size())
        return;
      done_batch out{in.target, in.id, {}};
      out.items.reserve(in.items.size());
      for (auto& item : in.items)
        out.items.push_back({item.conn, item.seq, item.part, std::move(item.result), item.ns,
                             item.over_limit});
      self->send(st.brokers[in.shard], std::move(out));
    },
    [=](shutdown_atom) {
      self->state.stopping = true;
      self->quit();
    },
  };
}

void register_cluster_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<wire_hello>("otkv::wire_hello");
  cfg.add_message_type<wire_item>("otkv::wire_item");
  cfg.add_message_type<wire_batch>("otkv::wire_batch");
  cfg.add_message_type<wire_result>("otkv::wire_result");
  cfg.add_message_type<wire_done>("otkv::wire_done");
  cfg.add_message_type<net::reply>("otkv::reply");
  cfg.add_message_type<std::vector<wire_item>>("std::vector<otkv::wire_item>");
  cfg.add_message_type<std::vector<wire_result>>("std::vector<otkv::wire_result>");
}

} // namespace otkv

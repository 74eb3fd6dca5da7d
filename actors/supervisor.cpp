#include "actors/supervisor.hpp"

#include <algorithm>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <spdlog/spdlog.h>

#include "actors/partition_worker.hpp"

namespace otkv {

const char* supervisor_state::name = "supervisor";

namespace {

caf::actor spawn_worker(caf::stateful_actor<supervisor_state>* self, uint32_t index) {
  auto w = self->spawn(partition_worker, self->state.partitions[index], index);
  self->monitor(w);
  self->link_to(w); // workers end with the supervisor
  return w;
}

void publish(caf::stateful_actor<supervisor_state>* self) {
  for (auto& s : self->state.subscribers)
    self->send(s, caf::update_atom_v, worker_table{self->state.workers});
}

} // namespace

caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self, uint32_t partitions) {
  for (uint32_t i = 0; i < partitions; ++i)
    self->state.partitions.push_back(std::make_shared<store::partition>());
  for (uint32_t i = 0; i < partitions; ++i)
    self->state.workers.push_back(spawn_worker(self, i));
  // A worker's failure is handled through its down message; exits from anyone else
  // (a shutdown) end the supervisor and, through the links, the workers.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& ws = self->state.workers;
    bool from_worker = std::any_of(ws.begin(), ws.end(), [&](const caf::actor& w) {
      return w.address() == msg.source;
    });
    if (!from_worker)
      self->quit(msg.reason);
  });
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& ws = self->state.workers;
    for (uint32_t i = 0; i < ws.size(); ++i) {
      if (ws[i].address() != msg.source)
        continue;
      ++self->state.restarts;
      spdlog::warn("partition {} worker stopped ({}); starting a fresh one", i,
                   to_string(msg.reason));
      ws[i] = spawn_worker(self, i);
      publish(self);
      return;
    }
    // A subscriber went away.
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const caf::actor& s) { return s.address() == msg.source; }),
               subs.end());
  });
  return {
    [=](caf::get_atom) { return worker_table{self->state.workers}; },
    [=](caf::subscribe_atom) {
      auto s = caf::actor_cast<caf::actor>(self->current_sender());
      if (!s)
        return;
      self->monitor(s);
      self->state.subscribers.push_back(s);
      self->send(s, caf::update_atom_v, worker_table{self->state.workers});
    },
  };
}

} // namespace otkv

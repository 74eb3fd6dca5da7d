#include "actors/partition_worker.hpp"

#include <chrono>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/clock.hpp"
#include "actors/commands/dispatch.hpp"

namespace otkv {

namespace {

/// How often the active expiry sweep runs, and how many keys one run may remove.
constexpr auto sweep_interval = std::chrono::milliseconds(100);
constexpr size_t sweep_budget = 1000;

} // namespace

const char* partition_worker_state::name = "partition_worker";

caf::behavior partition_worker(caf::stateful_actor<partition_worker_state>* self,
                               partition_data data, uint32_t index) {
  self->state.data = std::move(data);
  self->state.index = index;
  self->delayed_send(self, sweep_interval, caf::tick_atom_v);
  return {
    [=](work_batch& batch) {
      done_batch out;
      out.partition = self->state.index;
      out.items.reserve(batch.items.size());
      cmd::op_context ctx{*self->state.data, now_ms()};
      for (auto& item : batch.items) {
        net::reply r = cmd::run_on_partition(*item.cmd, ctx, item.args);
        if (item.encode && r.type != net::reply::kind::raw)
          r = net::reply::raw(net::encode(r));
        out.items.push_back({item.conn, item.seq, item.part, std::move(r)});
      }
      self->send(caf::actor_cast<caf::actor>(self->current_sender()), std::move(out));
    },
    [=](caf::tick_atom) {
      self->state.data->sweep(now_ms(), sweep_budget);
      self->delayed_send(self, sweep_interval, caf::tick_atom_v);
    },
  };
}

} // namespace otkv

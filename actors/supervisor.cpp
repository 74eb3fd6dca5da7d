#include "actors/supervisor.hpp"

#include <algorithm>

#include <caf/actor_cast.hpp>
#include <caf/exit_reason.hpp>
#include <spdlog/spdlog.h>

#include "actors/chain_replica.hpp"
#include "actors/partition_worker.hpp"

namespace otkv {

const char* supervisor_state::name = "supervisor";

namespace {

using supervisor_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

/// Starts a worker for partition `index` under a new epoch; the previous worker (if
/// any) notices it was revoked at its next request and stops.
void start_worker(supervisor_ptr self, uint32_t index) {
  auto& st = self->state;
  uint64_t epoch = st.next_epoch++;
  st.slots[index]->epoch.store(epoch);
  auto w = st.threads == worker_threads::own
             ? self->spawn<caf::detached>(partition_worker, st.slots[index], index, epoch, st.log)
             : self->spawn(partition_worker, st.slots[index], index, epoch, st.log);
  self->monitor(w);
  st.workers[index] = w;
  st.epochs[index] = epoch;
}

/// The current table: workers, partition data, op log.
worker_table table_of(supervisor_ptr self) {
  auto& st = self->state;
  return worker_table{st.workers, st.slots, st.log};
}

void publish(supervisor_ptr self) {
  for (auto& s : self->state.subscribers)
    self->send(s, caf::update_atom_v, table_of(self));
}

} // namespace

supervisor_actor::behavior_type
supervisor(supervisor_ptr self, std::shared_ptr<recovered_data> data, op_log log,
           worker_threads threads) {
  auto& st = self->state;
  auto partitions = static_cast<uint32_t>(data->parts.size());
  st.log = std::move(log);
  st.threads = threads;
  st.workers.resize(partitions);
  st.epochs.resize(partitions);
  for (uint32_t i = 0; i < partitions; ++i) {
    st.slots.push_back(std::make_shared<partition_slot>(std::move(data->parts[i]), i, data->seqs[i]));
    auto& slot = *st.slots.back();
    if (st.log.chain) { // replication: the records go down the chain too
      auto role = st.log.chain->role();
      slot.chain = std::make_shared<chain_replica>(role, slot.journal);
      slot.data.set_sink(&slot.chain->sink);
      slot.data.set_expiry_mode(role == cluster::chain_role::head ? store::expiry_mode::record
                                                                  : store::expiry_mode::hide);
    } else if (!st.log.file) { // no op log takes the records: keep none (they grew without bound)
      slot.journal.stop_keeping();
    }
    start_worker(self, i);
  }
  // Shutdown: stop the workers with us.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (auto& w : self->state.workers)
      self->send_exit(w, msg.reason);
    self->quit(msg.reason);
  });
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    for (uint32_t i = 0; i < st.workers.size(); ++i) {
      if (st.workers[i].address() != msg.source)
        continue;
      // The current worker died (e.g. an exception): it cannot release the partition
      // itself, so release it for the successor, which resumes its half-done batch.
      st.slots[i]->release(st.epochs[i]);
      spdlog::warn("partition {} worker stopped ({}); starting a fresh one", i,
                   to_string(msg.reason));
      start_worker(self, i);
      publish(self);
      return;
    }
    // A retired worker or a subscriber went away.
    auto& subs = st.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const table_listener& s) { return s.address() == msg.source; }),
               subs.end());
  });
  return {
    [=](caf::get_atom) { return table_of(self); },
    [=](caf::subscribe_atom) {
      auto s = caf::actor_cast<table_listener>(self->current_sender());
      if (!s)
        return;
      self->monitor(s);
      self->state.subscribers.push_back(s);
      self->send(s, caf::update_atom_v, table_of(self));
    },
    [=](restart_atom, uint32_t index, const worker_actor& old) {
      auto& st = self->state;
      if (index >= st.workers.size() || st.workers[index] != old)
        return; // already replaced
      spdlog::warn("partition {} worker is not answering; starting a fresh one", index);
      start_worker(self, index);
      publish(self);
    },
  };
}

} // namespace otkv

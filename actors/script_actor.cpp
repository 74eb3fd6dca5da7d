#include "actors/script_actor.hpp"

#include <caf/typed_event_based_actor.hpp>

#include "actors/clock.hpp"
#include "actors/reservation.hpp"
#include "commands/errors.hpp"

namespace otkv {

script_actor::behavior_type script_runner_actor(script_actor::pointer self,
                                                script_actor_options opts) {
  auto runner = std::make_shared<cmd::script_runner>(opts.registry, opts.router);
  auto token = new_guest_token();
  return {
    [=](script_job& job) {
      const auto& call = *job.call;
      std::vector<std::pair<uint32_t, partition_slot*>> slots;
      for (auto p : call.partitions)
        if (p < opts.slots.size())
          slots.emplace_back(p, opts.slots[p].get());
      net::reply r;
      reservation held(std::move(slots), token);
      if (!held.acquire(cmd::monotonic_ns, cmd::monotonic_ns() + opts.reserve_budget_ns)) {
        r = cmd::err::script_busy(opts.reserve_budget_ns / 1'000'000);
      } else {
        cmd::reserved_data reserved = [&](uint32_t p) -> store::partition* {
          for (const auto& [index, slot] : held.slots())
            if (index == p)
              return &slot->data;
          return nullptr;
        };
        r = runner->run(call, reserved, now_ms());
        if (int error = log_reserved(held, opts.log.get()); error != 0)
          r = cmd::err::misconf(error);
        for (const auto& [index, slot] : held.slots()) // the workers' next tick serves them
          if (slot->waiting.load(std::memory_order_relaxed) != 0)
            slot->post_wake();
        held.release();
      }
      done_batch out{0, 0, {}};
      out.items.push_back({job.conn, job.seq, 0, std::move(r)});
      if (opts.syncer && runner->wrote())
        self->send(opts.syncer, log_append_ack{std::move(out), job.reply_to});
      else
        self->send(job.reply_to, std::move(out));
    },
  };
}

} // namespace otkv

#include "actors/store_system.hpp"

#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/logger.hpp"
#include "actors/snapshotter.hpp"
#include "actors/supervisor.hpp"

namespace otkv {

namespace {

fsync_policy policy_of(const std::string& name) {
  if (name == "always")
    return fsync_policy::always;
  return name == "no" ? fsync_policy::no : fsync_policy::everysec;
}

} // namespace

store_actors start_store(caf::actor_system& sys, store::recovery_result& recovered,
                         const store_options& opts) {
  store_actors out;
  auto policy = policy_of(opts.appendfsync);
  bool logging = opts.appendonly && !opts.dir.empty();
  out.health = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<store::log_file> file;
  if (logging) {
    file = std::make_shared<store::log_file>(opts.dir, recovered.last_generation,
                                             recovered.partitions, out.health);
    out.logger = sys.spawn<caf::detached>(logger, file, policy);
  }
  auto data = std::make_shared<recovered_data>();
  data->parts = std::move(recovered.parts);
  data->seqs = std::move(recovered.seqs);
  op_log log{file, policy == fsync_policy::always ? out.logger : logger_actor{}, opts.chain};
  out.supervisor = sys.spawn(supervisor, data, std::move(log), worker_threads::own);
  if (!opts.dir.empty())
    out.snapshotter = spawn_snapshotter(sys, opts.dir, out.logger, out.supervisor,
                                        opts.save_interval);
  caf::scoped_actor self{sys};
  self->request(out.supervisor, caf::infinite, caf::get_atom_v)
    .receive([&](worker_table& t) { out.table = std::move(t); },
             [&](caf::error& e) { spdlog::error("supervisor: {}", sys.render(e)); });
  return out;
}

void stop_store(caf::actor_system& sys, store_actors& actors) {
  caf::scoped_actor self{sys};
  worker_table table = actors.table;
  self->request(actors.supervisor, caf::infinite, caf::get_atom_v)
    .receive([&](worker_table& t) { table = std::move(t); }, [&](caf::error&) {});
  caf::anon_send_exit(actors.supervisor, caf::exit_reason::user_shutdown);
  for (auto& w : table.workers)
    self->wait_for(w);
  if (actors.snapshotter)
    caf::anon_send_exit(actors.snapshotter, caf::exit_reason::user_shutdown);
  if (actors.logger) {
    // Answered only after every record the workers sent before stopping.
    self->request(actors.logger, caf::infinite, caf::get_atom_v)
      .receive([](bool) {}, [](caf::error&) {});
    caf::anon_send_exit(actors.logger, caf::exit_reason::user_shutdown);
  }
}

} // namespace otkv

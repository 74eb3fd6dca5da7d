#include "actors/logger.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "commands/errors.hpp"
#include "store/recovery.hpp"

namespace otkv {

const char* logger_state::name = "logger";

namespace {

using logger_ptr = logger_actor::stateful_pointer<logger_state>;

/// While the log is failing, tries again every second.
void watch(logger_ptr self) {
  auto& st = self->state;
  if (st.file->failed() && !st.retry_scheduled) {
    st.retry_scheduled = true;
    self->delayed_send(self, std::chrono::seconds(1), retry_atom::value);
  }
}

/// appendfsync always: one fsync for this turn's batches, then their replies.
void flush_waiting(logger_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  bool ok = st.file->sync();
  for (auto& [to, batch] : st.waiting) {
    if (!ok) // not on disk: the writes are applied but must not be acknowledged
      for (auto& item : batch.items)
        item.result = cmd::err::misconf(st.file->error() != 0 ? st.file->error() : EIO);
    self->send(to, std::move(batch));
  }
  st.waiting.clear();
  watch(self);
}

} // namespace

logger_actor::behavior_type logger(logger_ptr self, std::shared_ptr<store::log_file> file,
                                   fsync_policy policy) {
  auto& st = self->state;
  st.file = std::move(file);
  st.policy = policy;
  watch(self);
  if (policy == fsync_policy::everysec)
    self->delayed_send(self, std::chrono::seconds(1), caf::tick_atom_v);
  return {
    [=](log_append_ack& rec) {
      auto& st = self->state;
      st.waiting.emplace_back(std::move(rec.reply_to), std::move(rec.batch));
      if (!st.flush_scheduled) { // group commit: one fsync for this mailbox turn
        st.flush_scheduled = true;
        self->send(self, caf::flush_atom_v);
      }
    },
    [=](caf::flush_atom) { flush_waiting(self); },
    [=](caf::tick_atom) {
      self->state.file->sync();
      watch(self);
      self->delayed_send(self, std::chrono::seconds(1), caf::tick_atom_v);
    },
    [=](retry_atom) { // the log failed: write what is left, then sync, whatever the policy
      auto& st = self->state;
      st.retry_scheduled = false;
      st.file->retry();
      watch(self);
    },
    [=](rotate_atom) {
      auto& st = self->state;
      flush_waiting(self);
      auto [gen, had_records] = st.file->rotate();
      watch(self);
      return std::make_tuple(gen, had_records);
    },
    [=](compact_atom, uint64_t before) {
      auto& dir = self->state.file->dir();
      for (auto gen : store::log_generations(dir))
        if (gen < before)
          ::unlink((dir + "/" + store::log_file_name(gen)).c_str());
      fsync_dir(dir);
    },
    [=](caf::get_atom) { return self->state.file->sync(); },
  };
}

} // namespace otkv

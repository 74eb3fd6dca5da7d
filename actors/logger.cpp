#include "actors/logger.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <spdlog/spdlog.h>

#include "store/journal.hpp"
#include "store/recovery.hpp"

namespace otkv {

const char* logger_state::name = "logger";

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

namespace {

using logger_ptr = caf::stateful_actor<logger_state>*;

bool write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    auto w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void append(logger_state& st, const std::string& bytes) {
  if (bytes.empty() || st.fd < 0)
    return;
  if (!write_all(st.fd, bytes.data(), bytes.size())) {
    if (!st.failed)
      spdlog::error("op log write failed: {}", std::strerror(errno));
    st.failed = true;
    return;
  }
  st.records_bytes += bytes.size();
  st.dirty = true;
}

void sync(logger_state& st) {
  if (st.fd >= 0 && st.dirty) {
    if (::fdatasync(st.fd) != 0) {
      if (!st.failed)
        spdlog::error("op log fsync failed: {}", std::strerror(errno));
      st.failed = true;
    }
    st.dirty = false;
  }
}

/// Opens (creating with a header if new) the file of the current generation.
bool open_generation(logger_state& st) {
  std::string path = st.dir + "/" + store::log_file_name(st.generation);
  st.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (st.fd < 0) {
    spdlog::error("cannot open op log {}: {}", path, std::strerror(errno));
    st.failed = true;
    return false;
  }
  struct stat sb {};
  ::fstat(st.fd, &sb);
  if (sb.st_size == 0) {
    auto header = store::log_header(st.partitions);
    write_all(st.fd, header.data(), header.size());
    ::fdatasync(st.fd);
    fsync_dir(st.dir);
  }
  st.records_bytes = 0;
  return true;
}

/// always: writes this turn's records, fsyncs once, then releases their replies.
void flush_pending(logger_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  append(st, st.pending);
  st.pending.clear();
  sync(st);
  for (auto& [to, batch] : st.waiting)
    self->send(to, std::move(batch));
  st.waiting.clear();
}

} // namespace

logger_state::~logger_state() {
  // Whatever is left reaches the disk before the process ends (SHUTDOWN, SIGTERM).
  append(*this, pending);
  sync(*this);
  if (fd >= 0)
    ::close(fd);
}

caf::behavior logger(caf::stateful_actor<logger_state>* self, std::string dir,
                     uint64_t generation, uint32_t partitions, fsync_policy policy) {
  auto& st = self->state;
  st.dir = std::move(dir);
  st.generation = generation == 0 ? 1 : generation;
  st.partitions = partitions;
  st.policy = policy;
  open_generation(st);
  if (policy == fsync_policy::everysec)
    self->delayed_send(self, std::chrono::seconds(1), caf::tick_atom_v);
  return {
    [=](log_append& rec) { append(self->state, rec.bytes); },
    [=](log_append_ack& rec) {
      auto& st = self->state;
      st.pending += rec.bytes;
      st.waiting.emplace_back(std::move(rec.reply_to), std::move(rec.batch));
      if (!st.flush_scheduled) { // group commit: one fsync for this mailbox turn
        st.flush_scheduled = true;
        self->send(self, caf::flush_atom_v);
      }
    },
    [=](caf::flush_atom) { flush_pending(self); },
    [=](caf::tick_atom) {
      sync(self->state);
      self->delayed_send(self, std::chrono::seconds(1), caf::tick_atom_v);
    },
    [=](rotate_atom) {
      auto& st = self->state;
      flush_pending(self);
      st.dirty = true;
      sync(st);
      bool had_records = st.records_bytes > 0;
      ::close(st.fd);
      ++st.generation;
      open_generation(st);
      return std::make_tuple(st.generation, had_records);
    },
    [=](compact_atom, uint64_t before) {
      auto& st = self->state;
      for (auto gen : store::log_generations(st.dir))
        if (gen < before)
          ::unlink((st.dir + "/" + store::log_file_name(gen)).c_str());
      fsync_dir(st.dir);
    },
    [=](caf::get_atom) {
      auto& st = self->state;
      return std::make_tuple(st.generation, !st.failed);
    },
  };
}

} // namespace otkv

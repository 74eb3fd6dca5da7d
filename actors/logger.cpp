#include "actors/logger.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <spdlog/spdlog.h>

#include "actors/commands/errors.hpp"
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

/// Marks the log failed with `err` (logged once per failure spell).
void fail(logger_state& st, int err, const char* what) {
  if (!st.failed)
    spdlog::error("op log {} failed: {}; write commands are refused until it works again", what,
                  std::strerror(err));
  st.failed = true;
  if (st.health)
    st.health->store(err, std::memory_order_relaxed);
}

/// Clears the failure once every record is written and synced.
void healed(logger_state& st) {
  if (!st.failed || !st.unwritten.empty() || st.fd < 0)
    return;
  spdlog::info("op log writes work again; write commands are accepted");
  st.failed = false;
  if (st.health)
    st.health->store(0, std::memory_order_relaxed);
}

/// Writes whole records at the end of the file; on failure cuts the file back to its last
/// complete record, so a later write never follows a torn one.
bool write_records(logger_state& st, const char* data, size_t n) {
  if (write_all(st.fd, data, n)) {
    st.file_size += n;
    st.records_bytes += n;
    st.dirty = true;
    return true;
  }
  int err = errno != 0 ? errno : EIO;
  if (::ftruncate(st.fd, static_cast<off_t>(st.file_size)) != 0)
    spdlog::error("op log: cannot cut a partial record: {}", std::strerror(errno));
  fail(st, err, "write");
  return false;
}

/// Opens (creating with a header if new) the file of the current generation.
bool open_generation(logger_state& st) {
  std::string path = st.dir + "/" + store::log_file_name(st.generation);
  st.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (st.fd < 0) {
    fail(st, errno, "open");
    return false;
  }
  struct stat sb {};
  ::fstat(st.fd, &sb);
  st.file_size = static_cast<uint64_t>(sb.st_size);
  if (sb.st_size == 0) {
    auto header = store::log_header(st.partitions);
    if (!write_all(st.fd, header.data(), header.size()) || ::fdatasync(st.fd) != 0) {
      // No half header: the file is removed and made again on the next attempt.
      fail(st, errno != 0 ? errno : EIO, "write");
      ::close(st.fd);
      st.fd = -1;
      ::unlink(path.c_str());
      return false;
    }
    st.file_size = header.size();
    fsync_dir(st.dir);
  }
  st.records_bytes = 0;
  return true;
}

/// Appends records after any earlier ones still unwritten; what cannot be written now is
/// kept, in order, for the next attempt.
void append(logger_state& st, const std::string& bytes) {
  if (st.fd < 0 && !open_generation(st)) {
    st.unwritten += bytes;
    return;
  }
  if (st.unwritten.empty()) {
    if (!bytes.empty() && !write_records(st, bytes.data(), bytes.size()))
      st.unwritten = bytes;
    return;
  }
  st.unwritten += bytes;
  if (write_records(st, st.unwritten.data(), st.unwritten.size()))
    st.unwritten.clear();
}

void sync(logger_state& st) {
  if (st.fd >= 0 && st.dirty) {
    if (::fdatasync(st.fd) != 0) {
      fail(st, errno, "fsync");
      return; // dirty stays set: the next sync tries again
    }
    st.dirty = false;
  }
  healed(st);
}

/// While the log is failing, tries again every second.
void watch(logger_ptr self) {
  auto& st = self->state;
  if (st.failed && !st.retry_scheduled) {
    st.retry_scheduled = true;
    self->delayed_send(self, std::chrono::seconds(1), retry_atom::value);
  }
}

/// always: writes this turn's records, fsyncs once, then releases their replies.
void flush_pending(logger_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  append(st, st.pending);
  st.pending.clear();
  sync(st);
  for (auto& [to, batch] : st.waiting) {
    if (st.failed) // not on disk: the writes are applied but must not be acknowledged
      for (auto& item : batch.items)
        item.result = cmd::err::misconf(st.health ? st.health->load() : EIO);
    self->send(to, std::move(batch));
  }
  st.waiting.clear();
  watch(self);
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
                     uint64_t generation, uint32_t partitions, fsync_policy policy,
                     log_health health) {
  auto& st = self->state;
  st.health = std::move(health);
  st.dir = std::move(dir);
  st.generation = generation == 0 ? 1 : generation;
  st.partitions = partitions;
  st.policy = policy;
  open_generation(st);
  watch(self);
  if (policy == fsync_policy::everysec)
    self->delayed_send(self, std::chrono::seconds(1), caf::tick_atom_v);
  return {
    [=](log_append& rec) {
      append(self->state, rec.bytes);
      watch(self);
    },
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
      watch(self);
      self->delayed_send(self, std::chrono::seconds(1), caf::tick_atom_v);
    },
    [=](retry_atom) { // the log failed: write what is left, then sync, whatever the policy
      auto& st = self->state;
      st.retry_scheduled = false;
      append(st, {});
      sync(st);
      watch(self);
    },
    [=](rotate_atom) {
      auto& st = self->state;
      flush_pending(self);
      st.dirty = true;
      sync(st);
      bool had_records = st.records_bytes > 0;
      ::close(st.fd);
      st.fd = -1;
      ++st.generation;
      open_generation(st);
      if (!st.unwritten.empty()) // records the old file could not take start the new one
        append(st, {});
      watch(self);
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

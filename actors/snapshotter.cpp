#include "actors/snapshotter.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include <caf/actor_cast.hpp>
#include <spdlog/spdlog.h>

#include "actors/clock.hpp"
#include "actors/logger.hpp"
#include "store/crc32c.hpp"
#include "store/journal.hpp"
#include "store/recovery.hpp"

namespace otkv {

namespace {

constexpr auto worker_timeout = std::chrono::seconds(30);
/// An image is taken in slices that rest between them (~0.2 ms per 256 entries here), so
/// a large partition takes long: 50M keys ~40 s. A worker that stops mid-image answers
/// at once with an error, so this only bounds a worker that hangs while the image waits
/// (SAVE then fails after it; the 30 s before failed every snapshot past ~35M keys).
constexpr auto image_timeout = std::chrono::minutes(10);

/// Writes the snapshot of `images` (the bytes store::encode_snapshot would make) to
/// `dir`/snapshot.otkv atomically and durably, piece by piece: no joined copy of the data.
bool write_snapshot(const std::string& dir, const std::vector<std::string>& images,
                    std::string& err) {
  std::string final_path = dir + "/" + store::snapshot_file;
  std::string tmp = final_path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    err = std::string("cannot create ") + tmp + ": " + std::strerror(errno);
    return false;
  }
  auto le32 = [](std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i)
      out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  std::string head(store::snapshot_magic);
  le32(head, static_cast<uint32_t>(images.size()));
  uint32_t crc = store::crc32c(head.data(), head.size());
  for (const auto& img : images)
    crc = store::crc32c(img.data(), img.size(), crc);
  std::string tail;
  le32(tail, crc);
  auto write_all = [&](const std::string& bytes) {
    return store::write_all(fd, bytes.data(), bytes.size());
  };
  bool written = write_all(head);
  for (size_t i = 0; written && i < images.size(); ++i)
    written = write_all(images[i]);
  if (!written || !write_all(tail)) {
    err = std::string("write failed: ") + std::strerror(errno);
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    err = std::string("fsync failed: ") + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    err = std::string("rename failed: ") + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  fsync_dir(dir);
  return true;
}

} // namespace

void snapshotter(caf::blocking_actor* self, std::string dir, logger_actor logger,
                 supervisor_actor supervisor, uint32_t interval_s) {
  // Background work: checksumming and writing the file yield the CPU to the threads that
  // serve requests (Linux applies a thread's nice value to that thread alone).
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
  std::vector<worker_actor> workers;
  std::vector<uint64_t> saved_seqs;
  std::vector<save_listener> subscribers;
  bool running = true;
  // The worker table before any request: a SAVE sent as soon as the store is up (the
  // embedded store's first requests) must not find it empty and fail. Replacements
  // arrive through the subscription.
  self->request(supervisor, caf::infinite, caf::get_atom_v)
    .receive([&](worker_table& t) { workers = std::move(t.workers); }, [&](caf::error&) {});
  self->send(supervisor, caf::subscribe_atom_v);

  // Last record number of every partition; empty if a worker did not answer.
  auto current_seqs = [&] {
    std::vector<uint64_t> seqs;
    for (auto& w : workers) {
      bool ok = false;
      self->request(w, worker_timeout, seq_atom::value)
        .receive([&](uint64_t s) { seqs.push_back(s), ok = true; }, [&](caf::error&) {});
      if (!ok)
        return std::vector<uint64_t>{};
    }
    return seqs;
  };

  // Takes a snapshot: 1 saved, 0 nothing changed (not forced), -1 failed.
  auto take = [&](bool forced) -> int {
    if (workers.empty())
      return -1;
    if (!forced) {
      auto seqs = current_seqs();
      if (seqs.empty())
        return -1;
      if (seqs == saved_seqs)
        return 0;
    }
    auto started = std::chrono::steady_clock::now();
    uint64_t new_gen = 0;
    if (logger) {
      bool ok = false;
      self->request(logger, worker_timeout, rotate_atom::value)
        .receive([&](uint64_t gen, bool) { new_gen = gen, ok = true; }, [&](caf::error&) {});
      if (!ok) {
        spdlog::error("snapshot failed: the logger did not answer");
        return -1;
      }
    }
    std::vector<std::string> images(workers.size());
    std::vector<uint64_t> seqs(workers.size());
    size_t keys_bytes = 0;
    for (size_t i = 0; i < workers.size(); ++i) {
      bool ok = false;
      self->request(workers[i], image_timeout, image_atom::value)
        .receive(
          [&](partition_image& img) {
            seqs[img.partition] = img.seq;
            keys_bytes += img.bytes.size();
            images[img.partition] = std::move(img.bytes);
            ok = true;
          },
          [&](caf::error& e) {
            spdlog::error("snapshot failed: partition {} gave no image ({})", i,
                          self->system().render(e));
          });
      if (!ok)
        return -1;
    }
    std::string err;
    if (!write_snapshot(dir, images, err)) {
      spdlog::error("snapshot failed: {}", err);
      return -1;
    }
    saved_seqs = seqs;
    if (logger) // SAVE answers once the covered log generations are gone too
      self->request(logger, std::chrono::seconds(60), compact_atom::value, new_gen)
        .receive([] {}, [](caf::error& e) {
          spdlog::warn("log compaction after the snapshot failed: {}", to_string(e));
        });
    spdlog::info("snapshot saved: {} bytes of data in {:.3f} s", keys_bytes,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return 1;
  };

  auto announce = [&](bool ok) {
    for (auto& s : subscribers)
      self->send(s, saved_atom::value, now_ms(), ok);
  };

  self->receive_while(running)(
    [&](caf::update_atom, worker_table& t) { workers = std::move(t.workers); },
    [&](caf::subscribe_atom) {
      if (auto s = caf::actor_cast<save_listener>(self->current_sender()))
        subscribers.push_back(s);
    },
    [&](save_atom) {
      bool ok = take(true) > 0;
      announce(ok);
      return ok;
    },
    [&](caf::exit_msg& msg) {
      running = false;
      self->fail_state(msg.reason);
    },
    caf::after(std::chrono::seconds(interval_s == 0 ? 3600 * 24 : interval_s)) >> [&] {
      if (interval_s == 0)
        return;
      int r = take(false);
      if (r != 0)
        announce(r > 0);
    });
}

snapshot_actor spawn_snapshotter(caf::actor_system& sys, std::string dir, logger_actor logger,
                                 supervisor_actor supervisor, uint32_t interval_s) {
  // Blocking actors are dynamically typed in CAF 0.17: the cast gives senders the
  // interface's checks (actors/interfaces.hpp).
  return caf::actor_cast<snapshot_actor>(sys.spawn(snapshotter, std::move(dir), std::move(logger),
                                                   std::move(supervisor), interval_s));
}

} // namespace otkv

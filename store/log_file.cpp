#include "store/log_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "store/journal.hpp"
#include "store/recovery.hpp"

namespace otkv::store {

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

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

log_file::log_file(std::string dir, uint64_t generation, uint32_t partitions,
                   std::shared_ptr<std::atomic<int>> health)
  : dir_(std::move(dir)), partitions_(partitions), generation_(generation == 0 ? 1 : generation),
    health_(health ? std::move(health) : std::make_shared<std::atomic<int>>(0)) {
  std::lock_guard<std::mutex> guard{mu_};
  open_generation();
}

log_file::~log_file() {
  retry();
  if (fd_ >= 0)
    ::close(fd_);
}

void log_file::fail(int err, const char* what) {
  if (!failed())
    spdlog::error("op log {} failed: {}; write commands are refused until it works again", what,
                  std::strerror(err));
  health_->store(err, std::memory_order_relaxed);
}

void log_file::healed() {
  if (!failed() || !unwritten_.empty() || fd_ < 0 || dirty_)
    return;
  spdlog::info("op log writes work again; write commands are accepted");
  health_->store(0, std::memory_order_relaxed);
}

bool log_file::open_generation() {
  std::string path = dir_ + "/" + log_file_name(generation_);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    fail(errno, "open");
    return false;
  }
  struct stat sb {};
  ::fstat(fd_, &sb);
  file_size_ = static_cast<uint64_t>(sb.st_size);
  if (sb.st_size == 0) {
    auto header = log_header(partitions_);
    if (!write_all(fd_, header.data(), header.size()) || ::fdatasync(fd_) != 0) {
      // No half header: the file is removed and made again on the next attempt.
      fail(errno != 0 ? errno : EIO, "write");
      ::close(fd_);
      fd_ = -1;
      ::unlink(path.c_str());
      return false;
    }
    file_size_ = header.size();
    fsync_dir(dir_);
  }
  records_bytes_ = 0;
  return true;
}

bool log_file::write_records(std::string_view bytes) {
  if (write_all(fd_, bytes.data(), bytes.size())) {
    file_size_ += bytes.size();
    records_bytes_ += bytes.size();
    dirty_ = true;
    return true;
  }
  int err = errno != 0 ? errno : EIO;
  // A later write must never follow a torn record: cut the file back.
  if (::ftruncate(fd_, static_cast<off_t>(file_size_)) != 0)
    spdlog::error("op log: cannot cut a partial record: {}", std::strerror(errno));
  fail(err, "write");
  return false;
}

bool log_file::append(std::string_view records) {
  std::lock_guard<std::mutex> guard{mu_};
  if (fd_ < 0 && !open_generation()) {
    unwritten_.append(records);
    return false;
  }
  if (unwritten_.empty()) {
    if (records.empty() || write_records(records))
      return true;
    unwritten_.assign(records);
    return false;
  }
  unwritten_.append(records);
  if (!write_records(unwritten_))
    return false;
  unwritten_.clear();
  return true;
}

bool log_file::sync() {
  int fd;
  {
    std::lock_guard<std::mutex> guard{mu_};
    if (fd_ < 0 || !dirty_) {
      healed();
      return !failed();
    }
    fd = fd_;
    dirty_ = false;
  }
  // Outside the lock, so appends go on meanwhile; only this thread closes fd.
  if (::fdatasync(fd) != 0) {
    int err = errno;
    std::lock_guard<std::mutex> guard{mu_};
    dirty_ = true; // the next sync tries again
    fail(err, "fsync");
    return false;
  }
  std::lock_guard<std::mutex> guard{mu_};
  healed();
  return !failed();
}

void log_file::retry() {
  append({});
  sync();
}

std::pair<uint64_t, bool> log_file::rotate() {
  sync();
  std::lock_guard<std::mutex> guard{mu_};
  bool had_records = records_bytes_ > 0;
  if (fd_ >= 0) {
    if (dirty_ && ::fdatasync(fd_) == 0)
      dirty_ = false;
    ::close(fd_);
  }
  fd_ = -1;
  ++generation_;
  // Records the old file could not take start the new one.
  if (open_generation() && !unwritten_.empty() && write_records(unwritten_))
    unwritten_.clear();
  return {generation_, had_records};
}

} // namespace otkv::store

#include "store/recovery.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "store/journal.hpp"

namespace otkv::store {

std::string log_file_name(uint64_t gen) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "appendonly-%08llu.log", static_cast<unsigned long long>(gen));
  return buf;
}

std::vector<uint64_t> log_generations(const std::string& dir) {
  std::vector<uint64_t> gens;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (auto* ent = ::readdir(d)) {
      unsigned long long g = 0;
      char tail[8] = {0};
      if (std::sscanf(ent->d_name, "appendonly-%8llu.%3s", &g, tail) == 2
          && std::string(tail) == "log" && log_file_name(g) == ent->d_name)
        gens.push_back(g);
    }
    ::closedir(d);
  }
  std::sort(gens.begin(), gens.end());
  return gens;
}

namespace {

/// A file mapped read-only: recovery scans the op log and the snapshot in place, so a
/// large file costs page cache (evictable, read once, in order), not a heap copy.
class mapped_file {
public:
  /// Maps `path`; ok() is false if it cannot be opened or mapped.
  explicit mapped_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return;
    struct stat sb {};
    if (::fstat(fd, &sb) == 0) {
      size_ = static_cast<size_t>(sb.st_size);
      if (size_ == 0) {
        ok_ = true;
      } else {
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
          data_ = static_cast<const char*>(p);
          ::madvise(p, size_, MADV_SEQUENTIAL);
          ok_ = true;
        }
      }
    }
    ::close(fd);
  }
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  ~mapped_file() {
    if (data_ != nullptr)
      ::munmap(const_cast<char*>(data_), size_);
  }
  bool ok() const noexcept { return ok_; }
  std::string_view bytes() const noexcept { return {data_ == nullptr ? "" : data_, size_}; }

private:
  const char* data_ = nullptr;
  size_t size_ = 0;
  bool ok_ = false;
};

} // namespace

std::string prepare_data_dir(const std::string& dir) {
  if (dir.empty())
    return "--dir is empty";
  // mkdir -p: each prefix that ends before a '/' (and the whole path) in turn.
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/')
      continue;
    std::string prefix = dir.substr(0, i);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      return "cannot create data directory " + prefix + ": " + std::strerror(errno);
  }
  struct stat sb {};
  if (::stat(dir.c_str(), &sb) != 0)
    return "cannot use data directory " + dir + ": " + std::strerror(errno);
  if (!S_ISDIR(sb.st_mode))
    return "data directory " + dir + " is not a directory";
  std::string probe = dir + "/.otkv-write-test";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return "cannot write in data directory " + dir + ": " + std::strerror(errno);
  ::close(fd);
  ::unlink(probe.c_str());
  return {};
}

bool read_file(const std::string& path, std::string& out) {
  mapped_file file(path);
  if (!file.ok())
    return false;
  out.assign(file.bytes());
  return true;
}

recovery_result recover(const std::string& dir, uint32_t partitions, millis now) {
  auto started = std::chrono::steady_clock::now();
  recovery_result res;
  std::string snap_path = dir + "/" + snapshot_file;
  if (mapped_file snap(snap_path); snap.ok()) {
    auto err = decode_snapshot(snap.bytes(), res.parts, res.seqs, now);
    if (!err.empty()) {
      res.error = "snapshot " + snap_path + " is damaged (" + err
                  + "); move it away to start from the op log alone";
      return res;
    }
    res.had_snapshot = true;
    for (auto& p : res.parts)
      res.snapshot_keys += p.size();
  }
  auto gens = log_generations(dir);
  uint32_t persisted = res.had_snapshot ? static_cast<uint32_t>(res.parts.size()) : 0;
  for (size_t i = 0; i < gens.size(); ++i) {
    std::string path = dir + "/" + log_file_name(gens[i]);
    mapped_file file(path);
    if (!file.ok()) {
      res.error = "cannot read op log " + path;
      return res;
    }
    std::string_view bytes = file.bytes();
    bool newest = i + 1 == gens.size();
    uint32_t file_parts = 0;
    std::string apply_error;
    auto scan = scan_log(
      bytes,
      [&](log_record& r) {
        if (!apply_error.empty())
          return;
        if (res.parts.empty()) {
          res.parts = std::vector<partition>(file_parts);
          res.seqs.assign(file_parts, 0);
          persisted = file_parts;
        }
        if (r.partition >= res.parts.size()) {
          apply_error = "record for partition " + std::to_string(r.partition) + " of "
                        + std::to_string(res.parts.size());
          return;
        }
        if (r.seq <= res.seqs[r.partition])
          return; // covered by the snapshot
        apply_record(res.parts[r.partition], r);
        res.seqs[r.partition] = r.seq;
        ++res.log_records;
      },
      &file_parts);
    if (file_parts != 0 && persisted != 0 && file_parts != persisted && apply_error.empty())
      apply_error = "written for " + std::to_string(file_parts) + " partitions, not "
                    + std::to_string(persisted);
    if (file_parts != 0 && persisted == 0)
      persisted = file_parts;
    ++res.log_files;
    if (!apply_error.empty()) {
      res.error = "op log " + path + " does not match the snapshot: " + apply_error;
      return res;
    }
    if (!scan.header_error.empty()) {
      res.error = "op log " + path + " has a damaged header (" + scan.header_error
                  + "); its partition count cannot be trusted. If you know the count, run: "
                  + "otkv-server --repair-log " + path + " --partitions N (rewrites the "
                  + "header, keeps the records)";
      return res;
    }
    if (scan.end == scan_end::torn && newest) {
      res.warnings.push_back("op log " + path + " ends in an incomplete record at byte "
                             + std::to_string(scan.valid_bytes) + " of "
                             + std::to_string(bytes.size()) + " (a crash while writing); "
                             + "cut off, keeping " + std::to_string(scan.records) + " records");
      if (::truncate(path.c_str(), static_cast<off_t>(scan.valid_bytes)) != 0) {
        res.error = "cannot truncate " + path;
        return res;
      }
    } else if (scan.end != scan_end::clean) {
      res.error = "op log " + path + " is damaged at byte " + std::to_string(scan.valid_bytes)
                  + " (after " + std::to_string(scan.records) + " valid records). To start "
                  + "anyway, losing what follows the damage, run: otkv-server --repair-log "
                  + path;
      return res;
    }
    res.last_generation = gens[i];
  }
  if (persisted != 0 && partitions != 0 && partitions != persisted) {
    res.error = "the data in " + dir + " was written with " + std::to_string(persisted)
                + " partitions; start with --partitions " + std::to_string(persisted)
                + " (or leave --partitions out)";
    return res;
  }
  res.partitions = persisted != 0 ? persisted : partitions;
  if (res.parts.empty()) {
    res.parts = std::vector<partition>(res.partitions);
    res.seqs.assign(res.partitions, 0);
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return res;
}

std::string repair_log(const std::string& path, uint32_t partitions) {
  std::string bytes;
  if (!read_file(path, bytes))
    return "error: cannot read " + path;
  std::string note;
  if (auto scan = scan_log(bytes, [](log_record&) {}); !scan.header_error.empty()) {
    if (partitions == 0)
      return "error: " + path + " has a damaged header (" + scan.header_error
             + "); give the partition count: otkv-server --repair-log " + path
             + " --partitions N";
    // A header of either format is followed by records: keep them under a new header.
    size_t old_header = bytes.compare(0, log_magic_v1.size(), log_magic_v1) == 0
                          ? log_magic_v1.size() + 4
                          : log_magic.size() + 8;
    bytes = log_header(partitions) + bytes.substr(std::min(old_header, bytes.size()));
    std::string tmp = path + ".repair";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())
              && ::fsync(fd) == 0;
    if (fd >= 0)
      ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
      ::unlink(tmp.c_str());
      return "error: cannot rewrite " + path;
    }
    note = "header rewritten for " + std::to_string(partitions) + " partitions; ";
  }
  auto scan = scan_log(bytes, [](log_record&) {});
  if (scan.end == scan_end::clean)
    return path + ": " + note + std::to_string(scan.records) + " records, no damage"
           + (note.empty() ? "; nothing to do" : "");
  if (::truncate(path.c_str(), static_cast<off_t>(scan.valid_bytes)) != 0)
    return "error: cannot truncate " + path;
  return path + ": " + note + "kept " + std::to_string(scan.records) + " records ("
         + std::to_string(scan.valid_bytes) + " bytes), cut "
         + std::to_string(bytes.size() - scan.valid_bytes) + " bytes after the damage";
}

std::string set_aside_data(const std::string& dir, const std::string& aside) {
  std::string to = dir + "/" + aside;
  if (::mkdir(to.c_str(), 0755) != 0 && errno != EEXIST)
    return "cannot make " + to + ": " + std::strerror(errno);
  std::vector<std::string> names{snapshot_file};
  if (auto* d = ::opendir(to.c_str())) { // what an earlier set-aside left goes
    while (auto* e = ::readdir(d))
      if (e->d_name[0] != '.')
        ::unlink((to + "/" + e->d_name).c_str());
    ::closedir(d);
  }
  for (auto gen : log_generations(dir))
    names.push_back(log_file_name(gen));
  for (const auto& name : names) {
    std::string from = dir + "/" + name;
    if (::rename(from.c_str(), (to + "/" + name).c_str()) != 0 && errno != ENOENT)
      return "cannot move " + from + " aside: " + std::strerror(errno);
  }
  return "";
}

} // namespace otkv::store

#include "store/journal.hpp"

#include <algorithm>
#include <cstring>

#include "store/crc32c.hpp"
#include "store/element_change.hpp"
#include "store/key_hash.hpp"
#include "store/le_bytes.hpp"

namespace otkv::store {

namespace {


/// Reads little-endian integers and byte strings; `ok` turns false on overrun.
struct reader {
  std::string_view in;
  size_t pos = 0;
  bool ok = true;

  template <class T>
  T get() {
    if (in.size() - pos < sizeof(T)) {
      ok = false;
      return T{};
    }
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(in[pos + i])) << (8 * i);
    pos += sizeof(T);
    return static_cast<T>(v);
  }

  std::string_view bytes(size_t n) {
    if (in.size() - pos < n) {
      ok = false;
      return {};
    }
    auto s = in.substr(pos, n);
    pos += n;
    return s;
  }
};


} // namespace

void encode_record(std::string& out, mutation op, uint32_t partition, uint64_t seq,
                   std::string_view key, std::string_view value, millis expire_at) {
  size_t start = out.size();
  out.append(8, '\0'); // length and CRC, filled in below
  out.push_back(static_cast<char>(op));
  put_int<uint32_t>(out, partition);
  put_int<uint64_t>(out, seq);
  put_bytes(out, key);
  put_bytes(out, value);
  put_int<int64_t>(out, expire_at);
  auto len = static_cast<uint32_t>(out.size() - start - 8);
  uint32_t crc = crc32c(out.data() + start + 8, len);
  std::string head;
  put_int<uint32_t>(head, len);
  put_int<uint32_t>(head, crc);
  std::memcpy(&out[start], head.data(), 8);
}

std::string log_header(uint32_t partitions) {
  std::string out(log_magic);
  put_int<uint32_t>(out, partitions);
  put_int<uint32_t>(out, crc32c(out.data(), out.size()));
  return out;
}

scan_result scan_log(std::string_view bytes, const std::function<void(log_record&)>& fn,
                     uint32_t* partitions) {
  scan_result res;
  if (partitions)
    *partitions = 0;
  bool v1 = bytes.substr(0, log_magic_v1.size()) == log_magic_v1;
  const size_t header = log_magic.size() + (v1 ? 4 : 8);
  if (bytes.size() < header) {
    // A crash while the header was written leaves a prefix of a header.
    size_t n = std::min(bytes.size(), log_magic.size());
    bool prefix = bytes.substr(0, n) == log_magic.substr(0, n)
                  || bytes.substr(0, n) == log_magic_v1.substr(0, n);
    res.end = bytes.empty() ? scan_end::clean : (prefix ? scan_end::torn : scan_end::corrupt);
    if (res.end == scan_end::corrupt)
      res.header_error = "not an OTKV op log";
    return res;
  }
  reader h{bytes, log_magic.size()};
  auto count = h.get<uint32_t>();
  if (!v1 && bytes.substr(0, log_magic.size()) != log_magic)
    res.header_error = "not an OTKV op log";
  else if (!v1 && h.get<uint32_t>() != crc32c(bytes.data(), log_magic.size() + 4))
    res.header_error = "header checksum mismatch";
  else if (count == 0 || count > max_partitions)
    res.header_error = "partition count " + std::to_string(count) + " is out of range 1.."
                       + std::to_string(max_partitions);
  if (!res.header_error.empty()) {
    res.end = scan_end::corrupt;
    return res;
  }
  if (partitions)
    *partitions = count;
  auto records = scan_records(bytes.substr(header), fn);
  records.valid_bytes += header;
  return records;
}

void encode_group(std::string& out, uint64_t records) {
  encode_record(out, mutation::group, 0, 0, {}, {}, static_cast<millis>(records));
}

scan_result scan_records(std::string_view bytes, const std::function<void(log_record&)>& fn) {
  scan_result res;
  size_t pos = 0;
  res.valid_bytes = pos;
  std::vector<log_record> group; // a group's records, held until its last one
  uint64_t group_left = 0;
  while (pos < bytes.size()) {
    reader head{bytes, pos};
    auto len = head.get<uint32_t>();
    auto crc = head.get<uint32_t>();
    if (!head.ok || bytes.size() - head.pos < len) {
      res.end = scan_end::torn; // the last record is incomplete (a group with it)
      return res;
    }
    auto payload = bytes.substr(head.pos, len);
    bool last = head.pos + len == bytes.size();
    reader r{payload};
    log_record rec;
    rec.op = static_cast<mutation>(r.get<uint8_t>());
    rec.partition = r.get<uint32_t>();
    rec.seq = r.get<uint64_t>();
    rec.key = std::string(r.bytes(r.get<uint32_t>()));
    rec.value = std::string(r.bytes(r.get<uint32_t>()));
    rec.expire_at = r.get<int64_t>();
    bool valid = crc32c(payload.data(), payload.size()) == crc && r.ok && r.pos == payload.size()
                 && rec.op >= mutation::put && rec.op <= mutation::element
                 && (rec.op != mutation::setrange || setrange_fits(rec))
                 && (rec.op != mutation::group || (group_left == 0 && rec.expire_at >= 0));
    if (!valid) {
      res.end = last ? scan_end::torn : scan_end::corrupt;
      return res;
    }
    pos = head.pos + len;
    if (rec.op == mutation::group) {
      group_left = static_cast<uint64_t>(rec.expire_at);
      group.clear();
    } else if (group_left > 0) {
      group.push_back(std::move(rec));
      --group_left;
    } else {
      fn(rec);
      ++res.records;
    }
    if (group_left == 0) { // not inside a group (any group just completed)
      for (auto& r : group)
        fn(r);
      res.records += group.size();
      group.clear();
      res.valid_bytes = pos;
    }
  }
  if (group_left > 0)
    res.end = scan_end::torn; // the log ends inside a group: none of it happened
  return res;
}

bool setrange_fits(const log_record& r) {
  if (r.expire_at < -1 - static_cast<int64_t>(max_value_size))
    return false;
  auto offset = static_cast<uint64_t>(setrange_offset(r.expire_at));
  return offset <= max_value_size && r.value.size() <= max_value_size - offset;
}

void journal_buffer::on_mutation(mutation op, std::string_view key, std::string_view value,
                                 int64_t at) {
  if (watches_ != nullptr && !watches_->empty()) {
    if (op == mutation::clear || op == mutation::image)
      watches_->touch_all();
    else
      watches_->touch(key);
  }
  ++seq_;
  if (keep_)
    encode_record(bytes_, op, partition_, seq_, key, value, at);
}

void journal_buffer::add_encoded(std::string_view records, uint64_t last_seq) {
  seq_ = last_seq;
  if (keep_)
    bytes_.append(records);
}

bool apply_element(partition& p, std::string_view key, std::string_view change) {
  auto type = change_type(change);
  if (type == value_type::string)
    return false;
  entry* e = p.find_for_change(key, key_hash(key), 0, true, type);
  if (e->type() != type)
    return false;
  return apply_change(*e->object(), change);
}

void apply_record(partition& p, const log_record& r) {
  switch (r.op) {
    case mutation::put:
      p.put(r.key, r.value, r.expire_at);
      break;
    case mutation::erase:
      p.erase(r.key, 0);
      break;
    case mutation::expire:
      if (auto* e = p.find(r.key, 0))
        p.set_expire(*e, r.expire_at);
      break;
    case mutation::clear:
      p.clear();
      break;
    case mutation::append:
      // Made on a live key (a new key is logged as a put). Absent here only if it had
      // expired by the time this recovery loaded the snapshot: so has the result.
      if (p.find(r.key, 0) != nullptr)
        p.append(r.key, r.value, 0);
      break;
    case mutation::image:
      load_partition_image(p, r.value);
      break;
    case mutation::setrange: {
      auto offset = static_cast<size_t>(setrange_offset(r.expire_at));
      if (r.expire_at < 0) // SETRANGE created the key: start from nothing
        p.erase(r.key, 0);
      else if (p.find(r.key, 0) == nullptr)
        break; // as for append
      p.set_range(r.key, offset, r.value, 0);
      break;
    }
    case mutation::group: // framing: scan_records never passes it on
      break;
    case mutation::object:
      if (auto o = decode_object(r.value))
        p.put_object(r.key, std::move(o), r.expire_at);
      break;
    case mutation::element:
      apply_element(p, r.key, r.value);
      break;
  }
}


std::string encode_partition_image(const partition& p, uint64_t seq, millis now) {
  std::string out;
  put_int<uint64_t>(out, seq);
  size_t count_at = out.size();
  put_int<uint64_t>(out, 0);
  uint64_t count = 0;
  p.for_each(now, [&](const entry& e) {
    put_image_entry(out, e);
    ++count;
  });
  std::string c;
  put_int<uint64_t>(c, count);
  std::memcpy(&out[count_at], c.data(), 8);
  return out;
}

std::string encode_snapshot(const std::vector<std::string>& images) {
  std::string out(snapshot_magic);
  put_int<uint32_t>(out, static_cast<uint32_t>(images.size()));
  for (const auto& img : images)
    out += img;
  put_int<uint32_t>(out, crc32c(out.data(), out.size()));
  return out;
}

namespace {

/// Reads one put_image_entry entry into `p` (if `keep(deadline)`); false if malformed.
bool read_image_entry(reader& r, partition& p, const std::function<bool(millis)>& keep) {
  auto key = r.bytes(r.get<uint32_t>());
  auto len = r.get<uint32_t>();
  if ((len & image_object_marker) == 0) {
    auto value = r.bytes(len);
    auto at = r.get<int64_t>();
    if (r.ok && keep(at))
      p.put(key, value, at);
    return r.ok;
  }
  auto bytes = r.bytes(static_cast<size_t>(r.get<uint64_t>()));
  auto at = r.get<int64_t>();
  if (!r.ok)
    return false;
  auto o = decode_object(bytes);
  if (!o || static_cast<uint32_t>(o->type()) != (len & ~image_object_marker)) {
    r.ok = false;
    return false;
  }
  if (keep(at))
    p.put_object(key, std::move(o), at);
  return true;
}

} // namespace

bool load_partition_image(partition& p, std::string_view image) {
  reader r{image};
  r.get<uint64_t>(); // the image's seq: the record carries it
  auto count = r.get<uint64_t>();
  p.clear();
  for (uint64_t k = 0; k < count && r.ok; ++k)
    read_image_entry(r, p, [](millis) { return true; });
  return r.ok && r.pos == image.size();
}

std::string decode_snapshot(std::string_view bytes, std::vector<partition>& parts,
                            std::vector<uint64_t>& seqs, millis now) {
  if (bytes.size() < snapshot_magic.size() + 8
      || (bytes.substr(0, 8) != snapshot_magic && bytes.substr(0, 8) != snapshot_magic_v1))
    return "not an OTKV snapshot";
  reader tail{bytes, bytes.size() - 4};
  if (crc32c(bytes.data(), bytes.size() - 4) != tail.get<uint32_t>())
    return "checksum mismatch";
  reader r{bytes.substr(0, bytes.size() - 4), snapshot_magic.size()};
  auto n = r.get<uint32_t>();
  if (n == 0 || n > 4096)
    return "bad partition count";
  parts = std::vector<partition>(n);
  seqs.assign(n, 0);
  auto live = [now](millis at) { return at == 0 || at > now; }; // expired while down: gone
  for (uint32_t i = 0; i < n && r.ok; ++i) {
    seqs[i] = r.get<uint64_t>();
    auto count = r.get<uint64_t>();
    for (uint64_t k = 0; k < count && r.ok; ++k)
      read_image_entry(r, parts[i], live);
  }
  if (!r.ok || r.pos != r.in.size())
    return "truncated or malformed";
  return {};
}

} // namespace otkv::store

#pragma once

// Length-prefixed strings packed one after another in a byte buffer: the compact form of
// small aggregates (Redis's listpack idea) and the serialised form of every aggregate
// (snapshots, op-log records). A length is a LEB128 varint: one byte below 128.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace otkv::store {

/// Appends `v` as a LEB128 varint (7 bits a byte, low first).
inline void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

/// The bytes put_varint(v) writes.
inline size_t varint_size(uint64_t v) noexcept {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

/// Appends `s` as a varint length and its bytes.
inline void put_packed(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s.data(), s.size());
}

/// Reads packed strings and varints from a buffer; `ok` turns false (for good) at the
/// first malformed or truncated one, which then reads as empty.
struct packed_reader {
  std::string_view in;
  size_t pos = 0;
  bool ok = true;

  bool done() const noexcept { return pos >= in.size(); }

  uint64_t varint() {
    uint64_t v = 0;
    for (unsigned shift = 0; ok; shift += 7) {
      if (pos >= in.size() || shift > 63) {
        ok = false;
        break;
      }
      auto b = static_cast<unsigned char>(in[pos++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0)
        return v;
    }
    return 0;
  }

  std::string_view string() {
    auto len = varint();
    if (!ok || len > in.size() - pos) {
      ok = false;
      return {};
    }
    auto s = in.substr(pos, len);
    pos += len;
    return s;
  }
};

} // namespace otkv::store

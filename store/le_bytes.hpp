#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace otkv::store {

/// Appends `v` little-endian (the op log's and the snapshot's integer encoding).
template <class T>
void put_int(std::string& out, T v) {
  char buf[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i)
    buf[i] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
  out.append(buf, sizeof(T));
}

/// Appends a u32 length, then the bytes.
inline void put_bytes(std::string& out, std::string_view s) {
  put_int<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out.append(s.data(), s.size());
}

} // namespace otkv::store

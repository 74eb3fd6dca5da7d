#pragma once

#include <cstdint>
#include <string_view>

namespace otkv::net {

/// Parses a whole string as a signed 64-bit decimal integer the way Redis's string2ll
/// does: optional '-', digits, no leading zeros or '+', no spaces, no overflow.
inline bool parse_int64(std::string_view s, int64_t& out) noexcept {
  if (s.empty() || s.size() > 20)
    return false;
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    if (s.size() == 1)
      return false;
    i = 1;
  }
  if (s[i] == '0')
    return s.size() == i + 1 && !negative ? (out = 0, true) : false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9')
      return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10)
      return false;
    v = v * 10 + d;
  }
  if (negative) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1)
      return false;
    out = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX))
      return false;
    out = static_cast<int64_t>(v);
  }
  return true;
}

} // namespace otkv::net

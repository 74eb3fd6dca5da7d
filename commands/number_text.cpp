#include "commands/number_text.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace otkv::cmd {

/// Reads a float as Redis's string2ld does: the whole text (shorter than
/// max_long_double_chars, no leading space); out of range only when it overflows or
/// underflows to zero (a denormal is taken); NaN refused.
bool parse_long_double(std::string_view s, long double& out) {
  if (s.empty() || s.size() >= max_long_double_chars
      || std::isspace(static_cast<unsigned char>(s[0])))
    return false;
  std::string text(s);
  char* end = nullptr;
  errno = 0;
  long double v = std::strtold(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == EINVAL || std::isnan(v)
      || (errno == ERANGE && (std::isinf(v) || std::fpclassify(v) == FP_ZERO)))
    return false;
  out = v;
  return true;
}

/// Writes a float as Redis's ld2string(LD_STR_HUMAN): `%.17Lf` in a
/// max_long_double_chars buffer (empty if it does not fit), trailing zeros after the
/// point cut, then the point; "-0" becomes "0". Every finite 80-bit long double fits.
std::string format_long_double(long double v) {
  std::string buf(max_long_double_chars, '\0');
  int n = std::snprintf(buf.data(), buf.size(), "%.17Lf", v);
  if (n < 0 || static_cast<size_t>(n) + 1 > buf.size())
    return {};
  buf.resize(static_cast<size_t>(n));
  if (buf.find('.') != std::string::npos) {
    while (buf.back() == '0')
      buf.pop_back();
    if (buf.back() == '.')
      buf.pop_back();
  }
  if (buf == "-0")
    buf = "0";
  return buf;
}

} // namespace otkv::cmd

#pragma once

// Numbers as Redis reads and writes them in values: long doubles (INCRBYFLOAT,
// HINCRBYFLOAT) and doubles (sorted-set scores).

#include <string>
#include <string_view>

namespace otkv::cmd {

/// Redis's MAX_LONG_DOUBLE_CHARS: the longest float text INCRBYFLOAT reads or writes.
constexpr size_t max_long_double_chars = 5 * 1024;

/// Reads a float as Redis's string2ld does: the whole text (shorter than
/// max_long_double_chars, no leading space); out of range only when it overflows or
/// underflows to zero (a denormal is taken); NaN refused.
bool parse_long_double(std::string_view s, long double& out);

/// Writes a float as Redis's ld2string(LD_STR_HUMAN): `%.17Lf`, trailing zeros after the
/// point cut, then the point; "-0" becomes "0". Empty if it does not fit.
std::string format_long_double(long double v);

} // namespace otkv::cmd

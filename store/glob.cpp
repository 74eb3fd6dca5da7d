#include "store/glob.hpp"

#include <cctype>

namespace otkv::store {

namespace {

char fold(char c, bool nocase) {
  return nocase ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
}

/// Matches a `[...]` class starting after '['; advances `p` past the closing ']'.
bool match_class(std::string_view pat, size_t& p, char c, bool nocase) {
  bool negate = p < pat.size() && pat[p] == '^';
  if (negate)
    ++p;
  bool found = false;
  while (p < pat.size() && pat[p] != ']') {
    if (pat[p] == '\\' && p + 1 < pat.size()) {
      ++p;
      if (fold(pat[p], nocase) == fold(c, nocase))
        found = true;
      ++p;
    } else if (p + 2 < pat.size() && pat[p + 1] == '-' && pat[p + 2] != ']') {
      char lo = fold(pat[p], nocase);
      char hi = fold(pat[p + 2], nocase);
      if (lo > hi)
        std::swap(lo, hi);
      char x = fold(c, nocase);
      if (x >= lo && x <= hi)
        found = true;
      p += 3;
    } else {
      if (fold(pat[p], nocase) == fold(c, nocase))
        found = true;
      ++p;
    }
  }
  if (p < pat.size())
    ++p; // skip ']'
  return negate ? !found : found;
}

} // namespace

bool glob_match(std::string_view pat, std::string_view str, bool nocase) {
  size_t p = 0, s = 0;
  // Backtracking point for the last '*': pattern position after it, text position.
  size_t star_p = std::string_view::npos, star_s = 0;
  while (s < str.size()) {
    if (p < pat.size()) {
      char pc = pat[p];
      if (pc == '*') {
        while (p < pat.size() && pat[p] == '*')
          ++p;
        if (p == pat.size())
          return true;
        star_p = p;
        star_s = s;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++s;
        continue;
      }
      if (pc == '[') {
        size_t q = p + 1;
        if (match_class(pat, q, str[s], nocase)) {
          p = q;
          ++s;
          continue;
        }
      } else {
        if (pc == '\\' && p + 1 < pat.size())
          pc = pat[++p];
        if (fold(pc, nocase) == fold(str[s], nocase)) {
          ++p;
          ++s;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos)
      return false;
    p = star_p;
    s = ++star_s;
  }
  while (p < pat.size() && pat[p] == '*')
    ++p;
  return p == pat.size();
}

} // namespace otkv::store

#include "net/request_parser.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "net/integer.hpp"

namespace otkv::net {

namespace {

/// Longest "*N" or "$N" header line accepted (Redis: PROTO_INLINE_MAX_SIZE).
constexpr size_t max_header_line = 64 * 1024;

/// Initial reservation for a bulk: a client cannot make us allocate what it only declares.
constexpr size_t max_bulk_reserve = 64 * 1024;

bool iequals(const std::string& a, const char* b) {
  size_t n = std::strlen(b);
  if (a.size() != n)
    return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i])
      return false;
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

} // namespace

request_parser::request_parser(const limits& lim) : limits_(lim) {}

parse_status request_parser::fail(std::string msg) {
  error_ = std::move(msg);
  return parse_status::error;
}

bool request_parser::read_line(const char*& pos, const char* end, size_t max, bool& too_long) {
  const char* nl = static_cast<const char*>(std::memchr(pos, '\n', static_cast<size_t>(end - pos)));
  const char* stop = nl ? nl : end;
  size_t n = static_cast<size_t>(stop - pos);
  if (line_.size() + n > max + 1) { // +1: a trailing '\r' does not count
    too_long = true;
    return false;
  }
  line_.append(pos, n);
  if (!nl) {
    pos = end;
    return false;
  }
  pos = nl + 1;
  if (!line_.empty() && line_.back() == '\r')
    line_.pop_back();
  if (line_.size() > max) {
    too_long = true;
    return false;
  }
  return true;
}

namespace {

/// The end of the header line at `pos` ("3" of "*3", whose '*' was read, or "$5"), if the
/// input holds it whole with its CRLF and within max_header_line bytes: [pos, result) is
/// the line, CR excluded; nullptr otherwise.
const char* header_end(const char* pos, const char* end) {
  auto avail = static_cast<size_t>(end - pos);
  const auto* nl = static_cast<const char*>(std::memchr(pos, '\n', std::min(avail, max_header_line + 2)));
  if (nl == nullptr || nl == pos || nl[-1] != '\r')
    return nullptr;
  return nl - 1;
}

} // namespace

bool request_parser::take_count(const char*& pos, const char* end) {
  const char* stop = header_end(pos, end);
  int64_t n = 0;
  if (stop == nullptr || !parse_int64(std::string_view(pos, static_cast<size_t>(stop - pos)), n)
      || n > static_cast<int64_t>(limits_.max_multibulk))
    return false; // the general path reads it, or names its error
  pos = stop + 2;
  if (n <= 0) { // "*0" and "*-1" are empty requests: skipped, as Redis does
    state_ = state::start;
    return true;
  }
  remaining_ = static_cast<size_t>(n);
  args_.clear();
  args_.reserve(std::min<size_t>(remaining_, 1024));
  declared_ = 0;
  state_ = state::bulk_line;
  return true;
}

bool request_parser::take_bulk(const char*& pos, const char* end) {
  const char* stop = header_end(pos, end);
  int64_t n = 0;
  if (stop == nullptr
      || !parse_int64(std::string_view(pos + 1, static_cast<size_t>(stop - pos - 1)), n) || n < 0
      || static_cast<uint64_t>(n) > limits_.max_bulk
      || declared_ + static_cast<size_t>(n) > limits_.max_query)
    return false;
  const char* data = stop + 2;
  auto len = static_cast<size_t>(n);
  if (static_cast<size_t>(end - data) < len + 2 || data[len] != '\r' || data[len + 1] != '\n')
    return false; // not all here yet (or no CRLF after it: the general path says so)
  declared_ += len;
  args_.emplace_back(data, len);
  pos = data + len + 2;
  return true;
}

parse_status request_parser::feed(const char*& pos, const char* end, arg_list& out) {
  while (pos < end) {
    switch (state_) {
      case state::start:
        line_.clear();
        if (*pos == '*') {
          ++pos;
          state_ = state::count_line;
        } else {
          state_ = state::inline_line;
        }
        break;
      case state::inline_line: {
        bool too_long = false;
        if (!read_line(pos, end, limits_.max_inline, too_long))
          return too_long ? fail("too big inline request") : parse_status::need_more;
        state_ = state::start;
        auto r = finish_inline(out);
        if (r != parse_status::need_more)
          return r;
        break; // an empty line: keep going
      }
      case state::count_line: {
        if (line_.empty() && take_count(pos, end))
          break;
        bool too_long = false;
        if (!read_line(pos, end, max_header_line, too_long))
          return too_long ? fail("too big mbulk count string") : parse_status::need_more;
        int64_t n = 0;
        if (!parse_int64(line_, n) || n > static_cast<int64_t>(limits_.max_multibulk))
          return fail("invalid multibulk length");
        if (n <= 0) { // "*0" and "*-1" are empty requests: skipped, as Redis does
          state_ = state::start;
          break;
        }
        remaining_ = static_cast<size_t>(n);
        args_.clear();
        args_.reserve(std::min<size_t>(remaining_, 1024));
        declared_ = 0;
        line_.clear();
        state_ = state::bulk_line;
        break;
      }
      case state::bulk_line: {
        if (line_.empty() && *pos != '$')
          return fail(std::string("expected '$', got '") + *pos + "'");
        if (line_.empty() && take_bulk(pos, end)) {
          if (--remaining_ > 0)
            break;
          state_ = state::start;
          out = std::move(args_);
          args_ = arg_list{};
          return parse_status::done;
        }
        bool too_long = false;
        if (!read_line(pos, end, max_header_line, too_long))
          return too_long ? fail("too big bulk count string") : parse_status::need_more;
        int64_t n = 0;
        if (line_.empty() || !parse_int64(std::string_view(line_).substr(1), n) || n < 0
            || static_cast<uint64_t>(n) > limits_.max_bulk)
          return fail("invalid bulk length");
        declared_ += static_cast<size_t>(n);
        if (declared_ > limits_.max_query)
          return fail("query buffer limit exceeded");
        bulk_len_ = static_cast<size_t>(n);
        args_.emplace_back();
        args_.back().reserve(std::min(bulk_len_, max_bulk_reserve));
        line_.clear();
        state_ = state::bulk_body;
        break;
      }
      case state::bulk_body: {
        std::string& arg = args_.back();
        if (arg.size() < bulk_len_) {
          size_t take = std::min(bulk_len_ - arg.size(), static_cast<size_t>(end - pos));
          arg.append(pos, take);
          pos += take;
          if (arg.size() < bulk_len_)
            return parse_status::need_more;
        }
        // The terminating CRLF is collected in line_ (0, 1 or 2 bytes seen).
        while (pos < end && line_.size() < 2)
          line_.push_back(*pos++);
        if (line_.size() < 2)
          return parse_status::need_more;
        if (line_ != "\r\n")
          return fail("expected CRLF after bulk data");
        line_.clear();
        if (--remaining_ > 0) {
          state_ = state::bulk_line;
          break;
        }
        state_ = state::start;
        out = std::move(args_);
        args_ = arg_list{};
        return parse_status::done;
      }
    }
  }
  // Input used up. A multibulk whose last bulk completed exactly at the end was
  // returned above; anything else needs more bytes.
  return parse_status::need_more;
}

parse_status request_parser::finish_inline(arg_list& out) {
  out.clear();
  if (!split_inline(line_, out))
    return fail("unbalanced quotes in request");
  line_.clear();
  if (out.empty())
    return parse_status::need_more;
  if (iequals(out[0], "post") || iequals(out[0], "host:"))
    return parse_status::abuse;
  return parse_status::done;
}

bool split_inline(const std::string& line, arg_list& out) {
  size_t i = 0, n = line.size();
  for (;;) {
    while (i < n && std::isspace(static_cast<unsigned char>(line[i])))
      ++i;
    if (i == n)
      return true;
    std::string cur;
    bool in_double = false, in_single = false, done = false;
    while (!done) {
      if (in_double) {
        if (i == n)
          return false; // unterminated quotes
        char c = line[i];
        if (c == '\\' && i + 3 < n && line[i + 1] == 'x' && hex_digit(line[i + 2]) >= 0
            && hex_digit(line[i + 3]) >= 0) {
          cur.push_back(static_cast<char>(hex_digit(line[i + 2]) * 16 + hex_digit(line[i + 3])));
          i += 3;
        } else if (c == '\\' && i + 1 < n) {
          ++i;
          switch (line[i]) {
            case 'n': cur.push_back('\n'); break;
            case 'r': cur.push_back('\r'); break;
            case 't': cur.push_back('\t'); break;
            case 'b': cur.push_back('\b'); break;
            case 'a': cur.push_back('\a'); break;
            default: cur.push_back(line[i]); break;
          }
        } else if (c == '"') {
          // A closing quote must be followed by a space or the end of the line.
          if (i + 1 < n && !std::isspace(static_cast<unsigned char>(line[i + 1])))
            return false;
          done = true;
        } else {
          cur.push_back(c);
        }
      } else if (in_single) {
        if (i == n)
          return false;
        char c = line[i];
        if (c == '\\' && i + 1 < n && line[i + 1] == '\'') {
          ++i;
          cur.push_back('\'');
        } else if (c == '\'') {
          if (i + 1 < n && !std::isspace(static_cast<unsigned char>(line[i + 1])))
            return false;
          done = true;
        } else {
          cur.push_back(c);
        }
      } else {
        if (i == n)
          break;
        char c = line[i];
        if (std::isspace(static_cast<unsigned char>(c)))
          done = true;
        else if (c == '"')
          in_double = true;
        else if (c == '\'')
          in_single = true;
        else
          cur.push_back(c);
      }
      if (i < n)
        ++i;
    }
    out.push_back(std::move(cur));
  }
}

} // namespace otkv::net

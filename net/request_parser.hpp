#pragma once

#include <string>
#include <vector>

#include "net/limits.hpp"

namespace otkv::net {

/// The arguments of one request: the command name first.
using arg_list = std::vector<std::string>;

/// What one call to request_parser::feed produced.
enum class parse_status {
  need_more, ///< all input consumed, no complete request yet
  done,      ///< one request is complete in `out`
  error,     ///< protocol error: reply `-ERR Protocol error: <error()>`, then close
  abuse,     ///< an HTTP request (POST / Host:) was sent: close without a reply
};

/// Incremental parser for RESP2 multibulk and inline requests. Input may arrive in
/// chunks of any size; partial state is kept between calls, so no caller buffer is
/// needed and large bulks are never rescanned.
class request_parser {
public:
  /// Creates a parser enforcing `lim` (the parser keeps a copy).
  explicit request_parser(const limits& lim = limits{});

  /// Replaces the limits (for example once a client authenticates).
  void set_limits(const limits& lim) { limits_ = lim; }

  /// Consumes bytes from [pos, end) and advances `pos`. Stops after one complete
  /// request (then `out` holds its arguments) or when the input is used up.
  parse_status feed(const char*& pos, const char* end, arg_list& out);

  /// The text of the last protocol error.
  const std::string& error() const noexcept { return error_; }

  /// Whether a request has begun but is not complete yet.
  bool mid_request() const noexcept { return state_ != state::start; }

  /// Bytes the bulk being read still needs, with its CRLF (0 when not inside a bulk's
  /// data): the least the request needs before it can complete.
  size_t bulk_remaining() const noexcept {
    return state_ == state::bulk_body ? bulk_len_ - args_.back().size() + 2 - line_.size() : 0;
  }

private:
  enum class state { start, inline_line, count_line, bulk_line, bulk_body };

  parse_status fail(std::string msg);
  bool read_line(const char*& pos, const char* end, size_t max, bool& too_long);
  parse_status finish_inline(arg_list& out);
  parse_status start_bulk();
  /// Fast paths for a header, or a whole bulk, that the input holds complete and valid
  /// (small pipelined requests): read in place, not gathered in line_. False leaves
  /// everything as it was, for the general path.
  bool take_count(const char*& pos, const char* end);
  bool take_bulk(const char*& pos, const char* end);

  limits limits_;
  state state_ = state::start;
  std::string line_;      // partial line (inline command or a "*N" / "$N" header)
  arg_list args_;         // arguments collected so far
  size_t remaining_ = 0;  // bulks still expected in the current multibulk
  size_t bulk_len_ = 0;   // length of the bulk being read
  size_t declared_ = 0;   // total bytes declared by the current request
  std::string error_;
};

/// Splits an inline command line into arguments the way Redis does (sdssplitargs):
/// whitespace separates, "double quotes" accept \n \r \t \b \a \\ \" \xHH escapes,
/// 'single quotes' accept \'. Returns false on unbalanced quotes.
bool split_inline(const std::string& line, arg_list& out);

} // namespace otkv::net

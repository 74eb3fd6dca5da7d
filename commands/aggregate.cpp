#include "commands/aggregate.hpp"

#include <cerrno>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "commands/errors.hpp"
#include "net/integer.hpp"

namespace otkv::cmd {

net::reply wrong_type_reply() {
  return err::wrong_type();
}

size_t note_change(op_context& ctx, std::string_view key, const store::object& o,
                   const store::change_builder& change) {
  ctx.data.note_change(key, change.bytes());
  size_t left = o.size();
  if (left == 0)
    ctx.data.erase(key, ctx.now); // frees `o`
  return left;
}

size_t apply_and_note(op_context& ctx, std::string_view key, store::object& o,
                      const store::change_builder& change) {
  store::apply_change(o, change.bytes());
  return note_change(ctx, key, o, change);
}

net::reply parse_scan_options(const net::arg_list& args, scan_options& o) {
  const auto& c = args[2];
  char* end = nullptr;
  errno = 0;
  o.cursor = std::strtoull(c.c_str(), &end, 10);
  if (c.empty() || end != c.c_str() + c.size() || errno == ERANGE || c[0] == '-')
    return err::invalid_cursor();
  for (size_t i = 3; i < args.size(); i += 2) {
    if (i + 1 >= args.size())
      return err::syntax();
    if (iequals(args[i], "count")) {
      int64_t n = 0;
      if (!net::parse_int64(args[i + 1], n))
        return err::not_integer();
      if (n < 1)
        return err::syntax();
      o.count = static_cast<size_t>(n);
    } else if (iequals(args[i], "match")) {
      o.pattern = args[i + 1];
    } else {
      return err::syntax();
    }
  }
  return net::reply::ok();
}

std::mt19937_64& random_source() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

net::reply parse_mpop(const net::arg_list& args, size_t count_at, const char* const ends[2],
                      mpop_request& req) {
  int64_t n = 0;
  if (!net::parse_int64(args[count_at], n) || n < 1)
    return err::numkeys_not_positive();
  if (n >= static_cast<int64_t>(args.size() - count_at - 1))
    return err::syntax();
  req.first_key = count_at + 1;
  req.end_key = req.first_key + static_cast<size_t>(n);
  const auto& where = args[req.end_key];
  if (iequals(where, ends[0]))
    req.max = false;
  else if (iequals(where, ends[1]))
    req.max = true;
  else
    return err::syntax();
  bool counted = false;
  for (size_t j = req.end_key + 1; j < args.size(); ++j) {
    if (counted || !iequals(args[j], "count") || j + 1 >= args.size())
      return err::syntax();
    counted = true;
    if (!net::parse_int64(args[++j], req.count) || req.count < 1)
      return err::count_not_positive();
  }
  return net::reply::ok();
}

net::reply parse_block_timeout(const std::string& text, uint64_t& ms) {
  // As Redis's getTimeoutFromObjectOrReply: a long double, in seconds, rounded up to ms.
  long double seconds = 0;
  char* end = nullptr;
  errno = 0;
  if (!text.empty() && !std::isspace(static_cast<unsigned char>(text[0])))
    seconds = std::strtold(text.c_str(), &end);
  if (end == nullptr || *end != '\0' || errno == ERANGE || std::isnan(seconds))
    return err::timeout_not_float();
  long double millis = std::ceil(seconds * 1000.0L);
  if (millis < 0)
    return err::timeout_negative();
  if (millis > static_cast<long double>(int64_t{1} << 52)) // past any deadline: Redis's range
    return err::timeout_out_of_range();
  ms = static_cast<uint64_t>(millis);
  return net::reply::ok();
}

} // namespace otkv::cmd

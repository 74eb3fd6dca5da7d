#include "commands/aggregate.hpp"

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

} // namespace otkv::cmd

// The bitmap family: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO — bit
// operations on string values, bit 0 being the most significant bit of the first byte (as
// Redis). A change writes the bytes it touched with partition::set_range, so the op log
// holds the changed bytes, not the whole value. register_bit_family adds the rows.

#include <algorithm>
#include <limits>

#include "commands/command_table.hpp"
#include "commands/dispatch.hpp"
#include "commands/errors.hpp"
#include "net/integer.hpp"

namespace otkv::cmd {

namespace {

/// 128-bit arithmetic for the fields' overflow checks (a GCC extension, marked as one).
__extension__ typedef __int128 int128;

/// The highest bit a string can hold (512 MiB of bytes), as Redis's proto-max-bulk-len.
constexpr uint64_t max_bit = uint64_t{512} * 1024 * 1024 * 8 - 1;

/// The live string at `key`, nullptr if missing; `wrong` when it holds another type.
const store::entry* string_at(op_context& ctx, const std::string& key, bool& wrong) {
  auto* e = ctx.data.find(key, ctx.now);
  wrong = e != nullptr && e->type() != store::value_type::string;
  return wrong ? nullptr : e;
}

/// A bit offset argument (0 … max_bit).
bool parse_offset(const std::string& text, uint64_t& out) {
  int64_t v = 0;
  if (!net::parse_int64(text, v) || v < 0 || static_cast<uint64_t>(v) > max_bit)
    return false;
  out = static_cast<uint64_t>(v);
  return true;
}

int bit_at(std::string_view s, uint64_t bit) {
  uint64_t byte = bit >> 3;
  if (byte >= s.size())
    return 0;
  return (static_cast<unsigned char>(s[byte]) >> (7 - (bit & 7))) & 1;
}

/// SETBIT key offset 0|1 → the bit's old value; the string grows with zero bytes.
net::reply op_setbit(op_context& ctx, const net::arg_list& args) {
  uint64_t offset = 0;
  if (!parse_offset(args[2], offset))
    return err::bit_offset();
  if (args[3] != "0" && args[3] != "1")
    return err::bit_value();
  bool wrong = false;
  auto* e = string_at(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  std::string_view v = e ? e->value() : std::string_view();
  int old = bit_at(v, offset);
  uint64_t byte_at = offset >> 3;
  auto byte = static_cast<unsigned char>(byte_at < v.size() ? v[byte_at] : 0);
  auto mask = static_cast<unsigned char>(1u << (7 - (offset & 7)));
  byte = args[3] == "1" ? (byte | mask) : (byte & ~mask);
  if (!e || byte_at >= v.size() || static_cast<unsigned char>(v[byte_at]) != byte)
    ctx.data.set_range(args[1], byte_at, std::string(1, static_cast<char>(byte)), ctx.now);
  return net::reply::integer(old);
}

/// GETBIT key offset → the bit (0 past the end or without key).
net::reply op_getbit(op_context& ctx, const net::arg_list& args) {
  uint64_t offset = 0;
  if (!parse_offset(args[2], offset))
    return err::bit_offset();
  bool wrong = false;
  auto* e = string_at(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  return net::reply::integer(e ? bit_at(e->value(), offset) : 0);
}

/// The bit range [first, last] that BITCOUNT / BITPOS's start, end and unit select in a
/// string of `len` bytes; false when it is empty.
bool bit_range(int64_t start, int64_t end, bool bits, size_t len, uint64_t& first,
               uint64_t& last) {
  int64_t total = static_cast<int64_t>(len) * (bits ? 8 : 1);
  if (start < 0)
    start += total;
  if (end < 0)
    end += total;
  start = std::max<int64_t>(start, 0);
  end = std::max<int64_t>(end, 0);
  end = std::min(end, total - 1);
  if (start > end)
    return false;
  first = static_cast<uint64_t>(bits ? start : start * 8);
  last = static_cast<uint64_t>(bits ? end : end * 8 + 7);
  return true;
}

/// Parses BITCOUNT / BITPOS's [start end [BYTE|BIT]] from args[at]; an error reply or ok.
net::reply parse_range(const net::arg_list& args, size_t at, bool end_optional, int64_t& start,
                       int64_t& end, bool& bits, bool& end_given) {
  end_given = false;
  bits = false;
  if (!net::parse_int64(args[at], start))
    return err::not_integer();
  if (args.size() > at + 1) {
    if (!net::parse_int64(args[at + 1], end))
      return err::not_integer();
    end_given = true;
  } else if (!end_optional) {
    return err::syntax();
  }
  if (args.size() > at + 2) {
    if (iequals(args[at + 2], "bit"))
      bits = true;
    else if (!iequals(args[at + 2], "byte"))
      return err::syntax();
  }
  if (args.size() > at + 3)
    return err::syntax();
  return net::reply::ok();
}

/// BITCOUNT key [start end [BYTE|BIT]] → the number of set bits in the range.
net::reply op_bitcount(op_context& ctx, const net::arg_list& args) {
  bool wrong = false;
  auto* e = string_at(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  int64_t start = 0, end = -1;
  bool bits = false, end_given = false;
  if (args.size() > 2) {
    auto r = parse_range(args, 2, false, start, end, bits, end_given);
    if (r.is_error())
      return r;
  }
  if (!e)
    return net::reply::integer(0);
  auto v = e->value();
  if (args.size() > 2 && start < 0 && end < 0 && start > end)
    return net::reply::integer(0);
  uint64_t first = 0, last = 0;
  if (!bit_range(start, end, bits, v.size(), first, last))
    return net::reply::integer(0);
  int64_t n = 0;
  uint64_t b = first;
  for (; b <= last && (b & 7) != 0; ++b)
    n += bit_at(v, b);
  for (; b + 7 <= last; b += 8)
    n += __builtin_popcount(static_cast<unsigned char>(v[b >> 3]));
  for (; b <= last; ++b)
    n += bit_at(v, b);
  return net::reply::integer(n);
}

/// BITPOS key 0|1 [start [end [BYTE|BIT]]] → the first bit of that value in the range, -1
/// if none (looking for 0 without an end: the bit after the string, as Redis).
net::reply op_bitpos(op_context& ctx, const net::arg_list& args) {
  int64_t bit = 0;
  if (!net::parse_int64(args[2], bit))
    return err::not_integer();
  if (bit != 0 && bit != 1)
    return err::bit_argument();
  int64_t start = 0, end = -1;
  bool bits = false, end_given = false;
  if (args.size() > 3) {
    auto r = parse_range(args, 3, true, start, end, bits, end_given);
    if (r.is_error())
      return r;
  }
  bool wrong = false;
  auto* e = string_at(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  if (!e)
    return net::reply::integer(bit ? -1 : 0);
  auto v = e->value();
  uint64_t first = 0, last = 0;
  if (!bit_range(start, end, bits, v.size(), first, last))
    return net::reply::integer(-1);
  unsigned char skip = bit ? 0x00 : 0xff; // bytes that cannot hold the bit sought
  for (uint64_t b = first; b <= last;) {
    if ((b & 7) == 0 && b + 7 <= last && static_cast<unsigned char>(v[b >> 3]) == skip) {
      b += 8;
      continue;
    }
    if (bit_at(v, b) == bit)
      return net::reply::integer(static_cast<int64_t>(b));
    ++b;
  }
  if (bit == 0 && !end_given)
    return net::reply::integer(static_cast<int64_t>(last + 1));
  return net::reply::integer(-1);
}

/// BITOP AND|OR|XOR|NOT destkey key [key …] → the result's length (keys in one partition).
net::reply op_bitop(op_context& ctx, const net::arg_list& args) {
  const auto& op = args[1];
  bool is_not = iequals(op, "not");
  if (!is_not && !iequals(op, "and") && !iequals(op, "or") && !iequals(op, "xor"))
    return err::syntax();
  if (is_not && args.size() != 4)
    return err::bitop_not_sources();
  std::vector<std::string_view> sources;
  size_t len = 0;
  for (size_t i = 3; i < args.size(); ++i) {
    bool wrong = false;
    auto* e = string_at(ctx, args[i], wrong);
    if (wrong)
      return err::wrong_type();
    sources.push_back(e ? e->value() : std::string_view());
    len = std::max(len, sources.back().size());
  }
  std::string out(len, '\0');
  for (size_t j = 0; j < len; ++j) {
    auto byte_of = [&](size_t k) {
      return j < sources[k].size() ? static_cast<unsigned char>(sources[k][j]) : 0;
    };
    unsigned char r = byte_of(0);
    if (is_not)
      r = static_cast<unsigned char>(~r);
    for (size_t k = 1; k < sources.size(); ++k) {
      if (iequals(op, "and"))
        r &= byte_of(k);
      else if (iequals(op, "or"))
        r |= byte_of(k);
      else
        r ^= byte_of(k);
    }
    out[j] = static_cast<char>(r);
  }
  if (out.empty())
    ctx.data.erase(args[2], ctx.now);
  else
    ctx.data.put(args[2], out, 0);
  return net::reply::integer(static_cast<int64_t>(len));
}

/// A BITFIELD field type: signed or unsigned, 1 … 64 (unsigned: 63) bits.
struct field_type {
  bool is_signed = false;
  unsigned bits = 0;
};

bool parse_type(const std::string& text, field_type& t) {
  if (text.size() < 2 || (text[0] != 'i' && text[0] != 'I' && text[0] != 'u' && text[0] != 'U'))
    return false;
  int64_t n = 0;
  if (!net::parse_int64(text.substr(1), n))
    return false;
  t.is_signed = text[0] == 'i' || text[0] == 'I';
  if (n < 1 || n > (t.is_signed ? 64 : 63))
    return false;
  t.bits = static_cast<unsigned>(n);
  return true;
}

/// A BITFIELD offset: N bits, or #N fields of the type's width.
bool parse_field_offset(const std::string& text, const field_type& t, uint64_t& out) {
  bool scaled = !text.empty() && text[0] == '#';
  int64_t n = 0;
  if (!net::parse_int64(scaled ? text.substr(1) : text, n) || n < 0)
    return false;
  int128 bit = scaled ? static_cast<int128>(n) * t.bits : n;
  if (bit + t.bits - 1 > static_cast<int128>(max_bit))
    return false;
  out = static_cast<uint64_t>(bit);
  return true;
}

/// The field at `offset` (bits past the string read as 0), as a signed value when the
/// type is.
int128 read_field(std::string_view s, uint64_t offset, const field_type& t) {
  uint64_t raw = 0;
  for (unsigned i = 0; i < t.bits; ++i)
    raw = (raw << 1) | static_cast<uint64_t>(bit_at(s, offset + i));
  if (t.is_signed && t.bits < 64 && (raw >> (t.bits - 1)) & 1)
    return static_cast<int128>(raw) - (static_cast<int128>(1) << t.bits);
  if (t.is_signed && t.bits == 64)
    return static_cast<int64_t>(raw);
  return raw;
}

enum class overflow { wrap, sat, fail };

/// Fits `v` into the type as the overflow rule says; false (FAIL) when it cannot.
bool fit(int128& v, const field_type& t, overflow rule) {
  int128 lo = t.is_signed ? -(static_cast<int128>(1) << (t.bits - 1)) : 0;
  int128 hi = t.is_signed ? (static_cast<int128>(1) << (t.bits - 1)) - 1
                            : (static_cast<int128>(1) << t.bits) - 1;
  if (v >= lo && v <= hi)
    return true;
  if (rule == overflow::fail)
    return false;
  if (rule == overflow::sat) {
    v = v < lo ? lo : hi;
    return true;
  }
  int128 span = static_cast<int128>(1) << t.bits;
  v = ((v - lo) % span + span) % span + lo; // two's complement wrap
  return true;
}

/// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset n]
/// [OVERFLOW WRAP|SAT|FAIL] … → one reply per GET / SET / INCRBY (null where FAIL stopped
/// it); BITFIELD_RO (`read_only`) takes GET only.
net::reply bitfield_generic(op_context& ctx, const net::arg_list& args, bool read_only) {
  struct op {
    char kind; // 'g', 's', 'i'
    field_type type;
    uint64_t offset = 0;
    int64_t value = 0;
    overflow rule = overflow::wrap;
  };
  std::vector<op> ops;
  overflow rule = overflow::wrap;
  bool writes = false;
  for (size_t i = 2; i < args.size();) {
    const auto& sub = args[i];
    if (iequals(sub, "overflow") && i + 1 < args.size()) {
      if (iequals(args[i + 1], "wrap"))
        rule = overflow::wrap;
      else if (iequals(args[i + 1], "sat"))
        rule = overflow::sat;
      else if (iequals(args[i + 1], "fail"))
        rule = overflow::fail;
      else
        return err::bitfield_overflow();
      i += 2;
      continue;
    }
    bool get = iequals(sub, "get");
    bool set = iequals(sub, "set"), incr = iequals(sub, "incrby");
    if (!get && !set && !incr)
      return err::syntax();
    if (i + (get ? 3 : 4) > args.size()) // the subcommand's words
      return err::syntax();
    if (read_only && !get)
      return err::bitfield_ro();
    op o{get ? 'g' : set ? 's' : 'i', {}, 0, 0, rule};
    if (!parse_type(args[i + 1], o.type))
      return err::bitfield_type();
    if (!parse_field_offset(args[i + 2], o.type, o.offset))
      return err::bit_offset();
    if (!get && !net::parse_int64(args[i + 3], o.value))
      return err::not_integer();
    writes = writes || !get;
    ops.push_back(o);
    i += get ? 3 : 4;
  }
  bool wrong = false;
  auto* e = string_at(ctx, args[1], wrong);
  if (wrong)
    return err::wrong_type();
  std::string value = e ? std::string(e->value()) : std::string();
  if (writes) { // as Redis: the string first grows to hold the highest field written
    uint64_t highest = 0;
    for (const auto& o : ops)
      if (o.kind != 'g')
        highest = std::max(highest, (o.offset + o.type.bits - 1) >> 3);
    if (!e || value.size() <= highest) {
      size_t from = value.size();
      value.resize(highest + 1, '\0');
      ctx.data.set_range(args[1], from, std::string_view(value).substr(from), ctx.now);
    }
  }
  std::vector<net::reply> out;
  for (const auto& o : ops) {
    int128 old = read_field(value, o.offset, o.type);
    if (o.kind == 'g') {
      out.push_back(net::reply::integer(static_cast<int64_t>(old)));
      continue;
    }
    // As Redis: an unsigned field's SET value is read as an unsigned 64-bit number (-5 is
    // 2^64 - 5, which saturates to the maximum).
    int128 set_value = o.type.is_signed ? static_cast<int128>(o.value)
                                          : static_cast<int128>(static_cast<uint64_t>(o.value));
    int128 next = o.kind == 's' ? set_value : old + o.value;
    if (!fit(next, o.type, o.rule)) {
      out.push_back(net::reply::null());
      continue;
    }
    // Write the field's bits, then the bytes they touch.
    uint64_t first_byte = o.offset >> 3, last_byte = (o.offset + o.type.bits - 1) >> 3;
    if (value.size() <= last_byte)
      value.resize(last_byte + 1, '\0');
    auto raw = static_cast<uint64_t>(next);
    for (unsigned k = 0; k < o.type.bits; ++k) {
      uint64_t bit = o.offset + k;
      auto mask = static_cast<unsigned char>(1u << (7 - (bit & 7)));
      auto& byte = reinterpret_cast<unsigned char&>(value[bit >> 3]);
      if ((raw >> (o.type.bits - 1 - k)) & 1)
        byte |= mask;
      else
        byte &= static_cast<unsigned char>(~mask);
    }
    ctx.data.set_range(args[1], first_byte,
                       std::string_view(value).substr(first_byte, last_byte - first_byte + 1),
                       ctx.now);
    out.push_back(net::reply::integer(static_cast<int64_t>(o.kind == 's' ? old : next)));
  }
  return net::reply::array(std::move(out));
}

net::reply op_bitfield(op_context& ctx, const net::arg_list& args) {
  return bitfield_generic(ctx, args, false);
}

net::reply op_bitfield_ro(op_context& ctx, const net::arg_list& args) {
  return bitfield_generic(ctx, args, true);
}

} // namespace

void register_bit_family(command_registry& table) {
  using namespace shorthand;
  // clang-format off
  table.insert(table.end(), {
    // name         arity flags     keys        route handler          connection merge     group     summary
    {"setbit",        4,  W,        1,  1, 1,   K,  op_setbit,         nullptr,  nullptr,   "bitmap", "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist."},
    {"getbit",        3,  R | F,    1,  1, 1,   K,  op_getbit,         nullptr,  nullptr,   "bitmap", "Returns a bit value by offset."},
    {"bitcount",     -2,  R,        1,  1, 1,   K,  op_bitcount,       nullptr,  nullptr,   "bitmap", "Counts the number of set bits (population counting) in a string."},
    {"bitpos",       -3,  R,        1,  1, 1,   K,  op_bitpos,         nullptr,  nullptr,   "bitmap", "Finds the first set (1) or clear (0) bit in a string."},
    {"bitop",        -4,  W | ONE,  2, -1, 1,   KS, op_bitop,          nullptr,  merge_ok,  "bitmap", "Performs bitwise operations on multiple strings, and stores the result (keys in one partition)."},
    {"bitfield",     -2,  W,        1,  1, 1,   K,  op_bitfield,       nullptr,  nullptr,   "bitmap", "Performs arbitrary bitfield integer operations on strings."},
    {"bitfield_ro",  -2,  R | F,    1,  1, 1,   K,  op_bitfield_ro,    nullptr,  nullptr,   "bitmap", "Performs arbitrary read-only bitfield integer operations on strings."},
  });
  // clang-format on
}

} // namespace otkv::cmd

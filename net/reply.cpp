#include "net/reply.hpp"

#include <algorithm>
#include <charconv>

namespace otkv::net {

namespace {

/// Status and error lines may not contain CR or LF; they are replaced by spaces.
void append_line(std::string& out, char prefix, const std::string& text) {
  out.push_back(prefix);
  size_t start = out.size();
  out += text;
  for (size_t i = start; i < out.size(); ++i)
    if (out[i] == '\r' || out[i] == '\n')
      out[i] = ' ';
  out += "\r\n";
}

/// Writes `prefix`, `n` and CRLF at `p` (room for 24 bytes); returns the end.
char* write_header(char* p, char prefix, size_t n) {
  *p++ = prefix;
  p = std::to_chars(p, p + 20, n).ptr;
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

} // namespace

void append_bulk(std::string& out, std::string_view data) {
  char head[header_room];
  char* end = write_header(head, '$', data.size());
  size_t need = out.size() + static_cast<size_t>(end - head) + data.size() + 2;
  if (need > out.capacity()) // grown once, not once per piece
    out.reserve(std::max(need, 2 * out.capacity()));
  out.append(head, end);
  out.append(data.data(), data.size());
  out.append("\r\n", 2);
}

array_builder::array_builder(size_t reserve) {
  out_.reserve(header_room + reserve);
  out_.assign(header_room, '\0');
}

reply array_builder::finish(size_t n) {
  char head[header_room];
  char* end = write_header(head, '*', n);
  auto len = static_cast<size_t>(end - head);
  out_.replace(0, header_room, head, len);
  return reply::raw(std::move(out_));
}

reply encoded_bulk(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  append_bulk(out, data);
  return reply::raw(std::move(out));
}

void append_integer(std::string& out, int64_t n) {
  char buf[header_room];
  buf[0] = ':';
  char* end = std::to_chars(buf + 1, buf + 21, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(buf, end);
}

void encode(const reply& r, std::string& out) {
  switch (r.type) {
    case reply::kind::status: append_line(out, '+', r.text); break;
    case reply::kind::error: append_line(out, '-', r.text); break;
    case reply::kind::integer: append_integer(out, r.number); break;
    case reply::kind::bulk: append_bulk(out, r.text); break;
    case reply::kind::null: out += "$-1\r\n"; break;
    case reply::kind::null_array: out += "*-1\r\n"; break;
    case reply::kind::raw: out += r.text; break;
    case reply::kind::array:
      char head[header_room];
      out.append(head, write_header(head, '*', r.items.size()));
      for (const auto& item : r.items)
        encode(item, out);
      break;
  }
}

std::string encode(const reply& r) {
  std::string out;
  encode(r, out);
  return out;
}

} // namespace otkv::net

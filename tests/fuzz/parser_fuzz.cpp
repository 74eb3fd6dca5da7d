// Fuzz target: the request parser. Input bytes are parsed whole and again in chunks whose
// sizes come from the input; both must give the same requests and the same ending, and
// nothing may crash or exceed a limit.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "net/request_parser.hpp"

namespace {

struct outcome {
  std::vector<otkv::net::arg_list> requests;
  otkv::net::parse_status last = otkv::net::parse_status::need_more;
  std::string error;
};

outcome parse(const std::string& input, size_t chunk, const otkv::net::limits& lim) {
  otkv::net::request_parser p(lim);
  outcome out;
  for (size_t off = 0; off < input.size(); off += chunk) {
    size_t n = std::min(chunk, input.size() - off);
    const char* pos = input.data() + off;
    const char* end = pos + n;
    while (pos < end) {
      otkv::net::arg_list args;
      auto st = p.feed(pos, end, args);
      if (st == otkv::net::parse_status::done) {
        // Inline requests are bounded by the line length, multibulk ones by the count.
        if (args.empty() || args.size() > std::max(lim.max_multibulk, lim.max_inline))
          std::abort();
        for (auto& a : args)
          if (a.size() > lim.max_bulk && a.size() > lim.max_inline)
            std::abort();
        out.requests.push_back(std::move(args));
      } else if (st != otkv::net::parse_status::need_more) {
        out.last = st;
        out.error = p.error();
        return out;
      }
    }
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  size_t chunk = 1 + data[0] % 17;
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  otkv::net::limits lim;
  lim.max_inline = 256;
  lim.max_bulk = 128;
  lim.max_multibulk = 16;
  lim.max_query = 1024;
  auto whole = parse(input, input.size() == 0 ? 1 : input.size(), lim);
  auto split = parse(input, chunk, lim);
  if (whole.requests != split.requests || whole.last != split.last || whole.error != split.error)
    std::abort();
  return 0;
}

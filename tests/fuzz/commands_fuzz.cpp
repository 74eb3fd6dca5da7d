// Fuzz target: command execution. Each input line is an inline request run through the
// same resolve → split → partition → merge path as the server, on 4 partitions with a
// clock that the input moves. Every change is journaled; at the end the journal is
// replayed into fresh partitions, which must hold exactly the same keys and values.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "../unit/commands/harness.hpp"
#include "net/request_parser.hpp"
#include "store/journal.hpp"

namespace {

std::map<std::string, std::pair<std::string, int64_t>> contents(
  std::vector<otkv::store::partition>& parts, int64_t now) {
  std::map<std::string, std::pair<std::string, int64_t>> out;
  for (auto& p : parts)
    p.for_each(now, [&](const otkv::store::entry& e) {
      out[std::string(e.key())] = {std::string(e.value()), e.expire_at()};
    });
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  otkv::test::harness h(4);
  h.server_.counters.stats.slowlog_threshold_us = 0; // every command goes through the slow log too
  h.server_.counters.stats.slowlog_max_len = 8;
  std::vector<otkv::store::journal_buffer> journals;
  for (uint32_t i = 0; i < 4; ++i)
    journals.emplace_back(i, 0);
  for (uint32_t i = 0; i < 4; ++i)
    h.parts_[i].set_sink(&journals[i]);
  std::string text(reinterpret_cast<const char*>(data), size);
  size_t pos = 0;
  int commands = 0;
  while (pos < text.size() && commands < 64) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    otkv::net::arg_list args;
    if (!otkv::net::split_inline(line, args) || args.empty())
      continue;
    if (otkv::cmd::iequals(args[0], "debug") || otkv::cmd::iequals(args[0], "shutdown"))
      continue;
    // SETRANGE may legitimately allocate up to 512 MiB (as in Redis): keep offsets small.
    if (otkv::cmd::iequals(args[0], "setrange") && args.size() > 2 && args[2].size() > 6)
      continue;
    if (args[0] == "TICK") { // the clock moves on
      h.now += 250;
      h.sweep(3);
      continue;
    }
    auto reply = h.run(args);
    if (reply.empty() && !otkv::cmd::iequals(args[0], "quit"))
      std::abort();
    ++commands;
  }
  std::vector<otkv::store::partition> replayed(4);
  for (uint32_t i = 0; i < 4; ++i) {
    std::string log = otkv::store::log_header(4) + journals[i].take();
    auto scan = otkv::store::scan_log(log, [&](otkv::store::log_record& r) {
      otkv::store::apply_record(replayed[r.partition], r);
    });
    if (scan.end != otkv::store::scan_end::clean)
      std::abort();
  }
  if (contents(h.parts_, h.now) != contents(replayed, h.now))
    std::abort();
  return 0;
}

#pragma once

#include <cstddef>

namespace otkv::net {

/// Size limits the request parser enforces (Redis's defaults).
struct limits {
  /// Longest inline command line, newline excluded (Redis: 64 KiB).
  size_t max_inline = 64 * 1024;
  /// Largest single bulk argument (Redis proto-max-bulk-len: 512 MiB).
  size_t max_bulk = 512ull * 1024 * 1024;
  /// Most elements in one multibulk request (Redis: 1024 × 1024 for inline-length checks).
  size_t max_multibulk = 1024 * 1024;
  /// Most bytes one request may declare in total (Redis client-query-buffer-limit: 1 GiB).
  size_t max_query = 1024ull * 1024 * 1024;
};

/// Limits for a client that has not authenticated yet (Redis, CVE-2021-32675).
inline limits unauthenticated_limits(limits l) {
  l.max_multibulk = l.max_multibulk < 10 ? l.max_multibulk : 10;
  l.max_bulk = l.max_bulk < 16 * 1024 ? l.max_bulk : 16 * 1024;
  return l;
}

} // namespace otkv::net

#pragma once

#include <chrono>

#include "store/partition.hpp"

namespace otkv {

/// Wall-clock milliseconds since the Unix epoch (expiry deadlines are absolute).
inline store::millis now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace otkv

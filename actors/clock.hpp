#pragma once

#include <chrono>

#include "store/partition.hpp"

namespace otkv {

/// Wall-clock milliseconds since the Unix epoch: for expiry deadlines (absolute, as in
/// Redis) and times shown to people. Never for timeouts: the wall clock can step.
inline store::millis now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// Monotonic milliseconds (an arbitrary origin): for timeouts and deadlines of requests,
/// idle clients and the shutdown drain, which a step of the wall clock must not move.
inline store::millis steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

} // namespace otkv

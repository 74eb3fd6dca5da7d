#pragma once

#include <cstddef>
#include <cstdint>

namespace otkv::store {

/// CRC-32C (Castagnoli) of `n` bytes, continuing from `crc` (0 to start).
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0) noexcept;

} // namespace otkv::store

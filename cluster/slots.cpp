#include "cluster/slots.hpp"

#include <array>

namespace otkv::cluster {

namespace {

/// The CRC16-XMODEM table, built once: entry b is the CRC of the byte b.
constexpr std::array<uint16_t, 256> make_table() {
  std::array<uint16_t, 256> t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b << 8;
    for (int i = 0; i < 8; ++i)
      crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1;
    t[b] = static_cast<uint16_t>(crc);
  }
  return t;
}

constexpr auto table = make_table();

} // namespace

uint16_t crc16(std::string_view data) noexcept {
  uint16_t crc = 0;
  for (unsigned char c : data)
    crc = static_cast<uint16_t>((crc << 8) ^ table[((crc >> 8) ^ c) & 0xff]);
  return crc;
}

} // namespace otkv::cluster

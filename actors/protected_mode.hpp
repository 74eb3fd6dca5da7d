#pragma once

#include <string>

namespace otkv {

/// Whether `addr` (as CAF reports a peer: "127.0.0.1", "::1", "::ffff:127.0.0.1") is a
/// loopback address.
inline bool is_loopback(const std::string& addr) {
  auto v4 = addr.rfind("::ffff:", 0) == 0 ? addr.substr(7) : addr;
  return v4.rfind("127.", 0) == 0 || addr == "::1" || addr == "0:0:0:0:0:0:0:1";
}

/// Protected mode (as Redis): with it on and no password set, only loopback clients are
/// served.
inline bool protected_mode_denies(bool protected_mode, bool has_password,
                                  const std::string& remote_addr) {
  return protected_mode && !has_password && !is_loopback(remote_addr);
}

/// The reply a refused client gets before the connection closes.
inline constexpr const char* protected_mode_error =
  "-DENIED OTKV is running in protected mode because protected mode is enabled and no "
  "password is set. In this mode connections are only accepted from the loopback "
  "interface. To accept other clients, either 1) set a password with --requirepass, or "
  "2) restart with --protected-mode no, on a trusted network only.\r\n";

} // namespace otkv

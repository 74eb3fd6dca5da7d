#pragma once

// Redis's error replies, word for word, so clients recognise them.

#include <cstring>
#include <string>
#include <string_view>

#include "net/reply.hpp"
#include "net/request_parser.hpp"

namespace otkv::cmd::err {

/// `-ERR syntax error`
inline net::reply syntax() { return net::reply::error("ERR syntax error"); }

/// `-ERR value is not an integer or out of range`
inline net::reply not_integer() {
  return net::reply::error("ERR value is not an integer or out of range");
}

/// `-ERR wrong number of arguments for 'name' command`
inline net::reply arity(std::string_view name) {
  return net::reply::error("ERR wrong number of arguments for '" + std::string(name)
                           + "' command");
}

/// `-ERR invalid expire time in 'name' command`
inline net::reply expire_time(std::string_view name) {
  return net::reply::error("ERR invalid expire time in '" + std::string(name) + "' command");
}

/// `-ERR unknown subcommand 'sub'. Try NAME HELP.`
inline net::reply unknown_subcommand(std::string_view sub, std::string_view name) {
  std::string upper(name);
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return net::reply::error("ERR unknown subcommand '" + std::string(sub) + "'. Try " + upper
                           + " HELP.");
}

/// `-MISCONF Errors writing to the AOF file: …`: writes are refused while the op log
/// cannot be written (Redis's text).
inline net::reply misconf(int errnum) {
  return net::reply::error(std::string("MISCONF Errors writing to the AOF file: ")
                           + std::strerror(errnum));
}

/// `-ERR unknown command 'name', with args beginning with: 'a' 'b' ` (Redis 7 text).
inline net::reply unknown_command(const net::arg_list& args) {
  std::string msg = "ERR unknown command '" + args[0].substr(0, 128)
                    + "', with args beginning with: ";
  for (size_t i = 1; i < args.size() && msg.size() < 256; ++i)
    msg += "'" + args[i].substr(0, 128) + "' ";
  return net::reply::error(std::move(msg));
}

} // namespace otkv::cmd::err

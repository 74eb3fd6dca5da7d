#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace otkv::net {

/// A RESP2 reply value. `raw` holds bytes that are already RESP-encoded, so a reply
/// encoded where it was made can travel on without being encoded again.
struct reply {
  enum class kind : uint8_t { status, error, integer, bulk, null, array, null_array, raw };

  kind type = kind::null;
  int64_t number = 0;
  std::string text;         ///< status / error text (without the prefix), bulk data, raw bytes
  std::vector<reply> items; ///< array elements

  /// `+OK`.
  static reply ok() { return status("OK"); }
  /// A simple string, `+text`.
  static reply status(std::string text) { return make(kind::status, std::move(text)); }
  /// An error, `-text`; `text` starts with the code, e.g. "ERR syntax error".
  static reply error(std::string text) { return make(kind::error, std::move(text)); }
  /// An integer, `:n`.
  static reply integer(int64_t n) {
    reply r;
    r.type = kind::integer;
    r.number = n;
    return r;
  }
  /// A bulk string, `$len` + data.
  static reply bulk(std::string data) { return make(kind::bulk, std::move(data)); }
  /// The null bulk string, `$-1`.
  static reply null() { return reply{}; }
  /// An array of replies.
  static reply array(std::vector<reply> items) {
    reply r;
    r.type = kind::array;
    r.items = std::move(items);
    return r;
  }
  /// The null array, `*-1`.
  static reply null_array() { return make(kind::null_array, {}); }
  /// Bytes that are already a complete RESP reply.
  static reply raw(std::string bytes) { return make(kind::raw, std::move(bytes)); }

  /// Whether this is an error reply.
  bool is_error() const noexcept { return type == kind::error; }

private:
  static reply make(kind k, std::string text) {
    reply r;
    r.type = k;
    r.text = std::move(text);
    return r;
  }
};

/// Appends the RESP2 encoding of `r` to `out`.
void encode(const reply& r, std::string& out);

/// Returns the RESP2 encoding of `r`.
std::string encode(const reply& r);

/// The bulk string `data` already encoded (a raw reply): made straight from the stored
/// bytes, with one copy, when the reply goes to a connection as it is.
reply encoded_bulk(std::string_view data);

/// Appends `$len\r\ndata\r\n` to `out`.
void append_bulk(std::string& out, std::string_view data);

/// Appends `:n\r\n` to `out`.
void append_integer(std::string& out, int64_t n);

/// The most bytes a RESP length header (`*n\r\n`, `$n\r\n`) takes.
constexpr size_t header_room = 24;

/// Writes a RESP array whose length is known only at its end, in one buffer: its items
/// are appended (encoded) to body(), then finish() puts the header in front.
class array_builder {
public:
  /// `reserve`: the bytes the items are expected to take.
  explicit array_builder(size_t reserve = 0);
  /// Where the encoded items go.
  std::string& body() noexcept { return out_; }
  /// The array of `n` items as a raw reply; the builder is empty afterwards.
  reply finish(size_t n);

private:
  std::string out_; // header_room bytes kept for the header, then the items
};

} // namespace otkv::net

#pragma once

// A small client of etcd's v3 JSON gateway (HTTP/1.1 on etcd's client port): the calls a
// replication chain's coordinator needs (docs/replication.md, "Failover"): leases, keys
// under a prefix, and a compare-and-put on a key's revision. Blocking, one connection per
// call, each call bounded by a timeout. Plain C++.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace otkv::cluster {

/// A key of etcd with its value and revisions.
struct etcd_kv {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0;
};

/// See the file comment. Every call returns its failure as a value and sets error().
class etcd_client {
public:
  /// The etcd at `host`:`port`; each call gives up after `timeout_ms`.
  etcd_client(std::string host, uint16_t port, int timeout_ms = 1000);

  /// Grants a lease of `ttl_s` seconds: its id, or 0 on failure.
  int64_t grant(int64_t ttl_s);
  /// Renews lease `id`: its TTL in seconds, 0 if it expired already, -1 on failure.
  int64_t keepalive(int64_t id);
  /// Puts `key` = `value` (attached to lease `lease` unless 0). False on failure.
  bool put(const std::string& key, const std::string& value, int64_t lease = 0);
  /// Puts `key` = `value` if the key's mod revision is `mod_revision` (0: if the key does
  /// not exist) and none of `absent` exists. 1: done, 0: a condition failed, -1: failure.
  int put_if(const std::string& key, const std::string& value, int64_t mod_revision,
             const std::vector<std::string>& absent = {});
  /// The keys starting with `prefix`, in key order, into `out`. False on failure.
  bool range_prefix(const std::string& prefix, std::vector<etcd_kv>& out);

  /// Why the last call failed.
  const std::string& error() const { return error_; }

  /// POSTs `body` (JSON) to `path`; the response body into `response`. False on failure
  /// (no answer in time, or a status other than 200).
  bool post(const std::string& path, const std::string& body, std::string& response);

private:
  std::string host_;
  uint16_t port_;
  int timeout_ms_;
  std::string error_;
};

/// Base64 (RFC 4648, with padding), as the gateway carries keys and values.
std::string base64_encode(std::string_view in);
/// Decodes base64; false if `in` is not base64.
bool base64_decode(std::string_view in, std::string& out);

/// The end of etcd's range of every key starting with `prefix` (the prefix with its
/// last byte below 0xff incremented).
std::string prefix_end(std::string prefix);

/// Splits an HTTP/1.1 response into its status code and body (Content-Length, chunked,
/// or to the end). Returns the status, or -1 if `raw` is not a whole response.
int parse_http_response(std::string_view raw, std::string& body);

} // namespace otkv::cluster

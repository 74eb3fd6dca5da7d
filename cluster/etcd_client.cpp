#include "cluster/etcd_client.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace otkv::cluster {

namespace {

using json = nlohmann::json;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// etcd's gateway writes 64-bit numbers as strings; absent fields are 0.
int64_t number(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end())
    return 0;
  if (it->is_number_integer())
    return it->get<int64_t>();
  if (it->is_string())
    return std::strtoll(it->get<std::string>().c_str(), nullptr, 10);
  return 0;
}

/// A file descriptor closed when it goes.
struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

/// Waits until `fd` is ready for `events` or `deadline` (steady ms) passes.
bool wait_for(int fd, short events, int64_t deadline) {
  for (;;) {
    auto left = deadline - now_ms();
    if (left <= 0)
      return false;
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc > 0)
      return true;
    if (rc < 0 && errno != EINTR)
      return false;
  }
}

constexpr const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

} // namespace

etcd_client::etcd_client(std::string host, uint16_t port, int timeout_ms)
  : host_(std::move(host)), port_(port), timeout_ms_(timeout_ms) {}

bool etcd_client::post(const std::string& path, const std::string& body, std::string& response) {
  int64_t deadline = now_ms() + timeout_ms_;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &found) != 0
      || found == nullptr) {
    error_ = "cannot resolve " + host_;
    return false;
  }
  fd_guard sock;
  sock.fd = ::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                     found->ai_protocol);
  int rc = sock.fd < 0 ? -1 : ::connect(sock.fd, found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  if (sock.fd < 0 || (rc != 0 && errno != EINPROGRESS)) {
    error_ = std::string("cannot connect to etcd: ") + std::strerror(errno);
    return false;
  }
  int err = 0;
  socklen_t len = sizeof(err);
  if (!wait_for(sock.fd, POLLOUT, deadline)
      || ::getsockopt(sock.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    error_ = "cannot connect to etcd at " + host_ + ":" + std::to_string(port_);
    return false;
  }
  std::string request = "POST " + path + " HTTP/1.1\r\nHost: " + host_ + ":"
                        + std::to_string(port_)
                        + "\r\nContent-Type: application/json\r\nConnection: close\r\n"
                          "Content-Length: "
                        + std::to_string(body.size()) + "\r\n\r\n" + body;
  for (size_t sent = 0; sent < request.size();) {
    if (!wait_for(sock.fd, POLLOUT, deadline)) {
      error_ = "etcd did not take the request in time";
      return false;
    }
    auto n = ::send(sock.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      error_ = std::string("etcd: ") + std::strerror(errno);
      return false;
    }
    sent += n > 0 ? static_cast<size_t>(n) : 0;
  }
  std::string raw;
  char buf[4096];
  for (;;) {
    if (!wait_for(sock.fd, POLLIN, deadline)) {
      error_ = "no answer from etcd within " + std::to_string(timeout_ms_) + " ms";
      return false;
    }
    auto n = ::recv(sock.fd, buf, sizeof(buf), 0);
    if (n == 0)
      break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR)
        continue;
      error_ = std::string("etcd: ") + std::strerror(errno);
      return false;
    }
    raw.append(buf, static_cast<size_t>(n));
    if (raw.size() > (size_t{16} << 20)) {
      error_ = "etcd's answer is over 16 MiB";
      return false;
    }
  }
  int status = parse_http_response(raw, response);
  if (status != 200) {
    error_ = status < 0 ? "etcd's answer is cut short"
                        : "etcd answered " + std::to_string(status) + ": " + response;
    return false;
  }
  return true;
}

int64_t etcd_client::grant(int64_t ttl_s) {
  std::string out;
  if (!post("/v3/lease/grant", json{{"TTL", ttl_s}}.dump(), out))
    return 0;
  auto j = json::parse(out, nullptr, false);
  int64_t id = j.is_object() ? number(j, "ID") : 0;
  if (id == 0)
    error_ = "etcd granted no lease: " + out;
  return id;
}

int64_t etcd_client::keepalive(int64_t id) {
  std::string out;
  if (!post("/v3/lease/keepalive", json{{"ID", std::to_string(id)}}.dump(), out))
    return -1;
  // One message of the stream: {"result": {..., "ID", "TTL"}}; no TTL: expired.
  auto j = json::parse(out, nullptr, false);
  if (!j.is_object() || !j.contains("result") || !j["result"].is_object()) {
    error_ = "etcd's keepalive answer is not understood: " + out;
    return -1;
  }
  return number(j["result"], "TTL");
}

bool etcd_client::put(const std::string& key, const std::string& value, int64_t lease) {
  json body{{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0)
    body["lease"] = std::to_string(lease);
  std::string out;
  return post("/v3/kv/put", body.dump(), out);
}

int etcd_client::put_if(const std::string& key, const std::string& value,
                        int64_t mod_revision, const std::vector<std::string>& absent) {
  json compare = json::array();
  compare.push_back(mod_revision == 0
                      ? json{{"key", base64_encode(key)}, {"target", "CREATE"},
                             {"create_revision", "0"}}
                      : json{{"key", base64_encode(key)}, {"target", "MOD"},
                             {"mod_revision", std::to_string(mod_revision)}});
  for (const auto& k : absent)
    compare.push_back(json{{"key", base64_encode(k)}, {"target", "CREATE"},
                           {"create_revision", "0"}});
  json body{{"compare", compare},
            {"success", json::array({json{{"request_put",
                                           {{"key", base64_encode(key)},
                                            {"value", base64_encode(value)}}}}})}};
  std::string out;
  if (!post("/v3/kv/txn", body.dump(), out))
    return -1;
  auto j = json::parse(out, nullptr, false);
  if (!j.is_object()) {
    error_ = "etcd's txn answer is not JSON";
    return -1;
  }
  return j.value("succeeded", false) ? 1 : 0;
}

bool etcd_client::range_prefix(const std::string& prefix, std::vector<etcd_kv>& out) {
  json body{{"key", base64_encode(prefix)}, {"range_end", base64_encode(prefix_end(prefix))}};
  std::string text;
  if (!post("/v3/kv/range", body.dump(), text))
    return false;
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) {
    error_ = "etcd's range answer is not JSON";
    return false;
  }
  out.clear();
  if (!j.contains("kvs"))
    return true;
  for (const auto& kv : j["kvs"]) {
    etcd_kv item;
    if (!base64_decode(kv.value("key", ""), item.key)
        || !base64_decode(kv.value("value", ""), item.value)) {
      error_ = "etcd's range answer holds bad base64";
      return false;
    }
    item.create_revision = number(kv, "create_revision");
    item.mod_revision = number(kv, "mod_revision");
    item.lease = number(kv, "lease");
    out.push_back(std::move(item));
  }
  return true;
}

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint32_t{static_cast<uint8_t>(in[i])} << 16)
                 | (uint32_t{static_cast<uint8_t>(in[i + 1])} << 8)
                 | static_cast<uint8_t>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6)
      out += b64[(v >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t{static_cast<uint8_t>(in[i])} << 16;
    if (i + 1 < in.size())
      v |= uint32_t{static_cast<uint8_t>(in[i + 1])} << 8;
    out += b64[(v >> 18) & 63];
    out += b64[(v >> 12) & 63];
    out += i + 1 < in.size() ? b64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 != 0)
    return false;
  uint32_t v = 0;
  int bits = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '=') { // padding: only at the end, at most two
      if (i + 2 < in.size() || (i + 1 < in.size() && in[i + 1] != '='))
        return false;
      break;
    }
    const char* at = std::strchr(b64, c);
    if (c == '\0' || at == nullptr)
      return false;
    v = (v << 6) | static_cast<uint32_t>(at - b64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  return true;
}

std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last < 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0'); // every key
}

int parse_http_response(std::string_view raw, std::string& body) {
  auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string_view::npos)
    return -1;
  auto space = raw.find(' ');
  int status = std::atoi(std::string(raw.substr(space + 1, 3)).c_str());
  std::string head(raw.substr(0, head_end));
  for (auto& c : head)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto rest = raw.substr(head_end + 4);
  body.clear();
  if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
    for (;;) {
      auto line_end = rest.find("\r\n");
      if (line_end == std::string_view::npos)
        return -1;
      size_t size = std::strtoul(std::string(rest.substr(0, line_end)).c_str(), nullptr, 16);
      rest.remove_prefix(line_end + 2);
      if (size == 0) // then trailers, if any, and an empty line
        return rest.rfind("\r\n") != std::string_view::npos
                   && (rest.size() == 2 || rest.find("\r\n\r\n") != std::string_view::npos)
                 ? status
                 : -1;
      if (rest.size() < size + 2)
        return -1;
      body.append(rest.substr(0, size));
      rest.remove_prefix(size + 2);
    }
  }
  if (auto at = head.find("\r\ncontent-length:"); at != std::string::npos) {
    size_t size = std::strtoul(head.c_str() + at + 17, nullptr, 10);
    if (rest.size() < size)
      return -1;
    body.assign(rest.substr(0, size));
    return status;
  }
  body.assign(rest);
  return status;
}

} // namespace otkv::cluster

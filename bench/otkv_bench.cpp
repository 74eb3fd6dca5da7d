// otkv-bench: a RESP load generator for OTKV and Redis alike.
//
// Each thread drives its share of the connections over non-blocking sockets. A
// connection sends `--pipeline` requests at once and sends the next batch when all
// their replies arrived (closed loop, like redis-benchmark); each request's latency is
// from its batch's send to its reply. Latencies go into a log-linear histogram.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

/// Options, with redis-benchmark-like defaults.
struct options {
  std::string host = "127.0.0.1";
  int port = 7379;
  int connections = 50;
  int threads = 2;
  int pipeline = 1;
  long requests = 0;      ///< total requests; 0 = run for `duration`
  double duration = 5.0;  ///< seconds measured
  double warmup = 1.0;    ///< seconds run before measuring
  int set_percent = 50;   ///< the rest are GETs
  long keyspace = 100000;
  bool zipf = false;
  double zipf_s = 0.99;
  bool sequential = false; ///< keys 0,1,2,… (for loading)
  int value_size = 3;
  bool json = false;
};

/// Log-linear latency histogram (nanoseconds): 2^e buckets split 128 ways, ~1% error.
class histogram {
public:
  histogram() : counts_(64 * sub, 0) {}
  void record(uint64_t ns) {
    ++counts_[index(ns)];
    ++total_;
    max_ = std::max(max_, ns);
  }
  void merge(const histogram& o) {
    for (size_t i = 0; i < counts_.size(); ++i)
      counts_[i] += o.counts_[i];
    total_ += o.total_;
    max_ = std::max(max_, o.max_);
  }
  uint64_t total() const { return total_; }
  uint64_t max() const { return max_; }
  /// The value at percentile p (0..100), as the upper edge of its bucket.
  uint64_t percentile(double p) const {
    if (total_ == 0)
      return 0;
    auto want = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total_)));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= want && counts_[i] > 0)
        return std::min(upper(i), max_);
    }
    return max_;
  }

private:
  static constexpr int sub = 128;
  static size_t index(uint64_t v) {
    if (v < sub)
      return v;
    int e = 63 - __builtin_clzll(v); // v in [2^e, 2^(e+1))
    int shift = e - 7;
    return static_cast<size_t>((e - 6) * sub) + ((v >> shift) - sub);
  }
  static uint64_t upper(size_t i) {
    if (i < sub)
      return i;
    size_t e = i / sub + 6;
    uint64_t m = i % sub + sub;
    return ((m + 1) << (e - 7)) - 1;
  }
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

/// Length of the first complete RESP reply in [p, p+n), or 0 if incomplete.
size_t reply_length(const char* p, size_t n, bool& error) {
  const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
  if (!nl)
    return 0;
  size_t head = static_cast<size_t>(nl - p) + 1;
  switch (p[0]) {
    case '-':
      error = true;
      return head;
    case '+':
    case ':':
      return head;
    case '$': {
      long len = std::strtol(p + 1, nullptr, 10);
      if (len < 0)
        return head;
      size_t total = head + static_cast<size_t>(len) + 2;
      return total <= n ? total : 0;
    }
    case '*': {
      long count = std::strtol(p + 1, nullptr, 10);
      size_t off = head;
      for (long i = 0; i < count; ++i) {
        size_t len = reply_length(p + off, n - off, error);
        if (len == 0)
          return 0;
        off += len;
      }
      return off;
    }
    default:
      std::cerr << "otkv-bench: unexpected reply byte '" << p[0] << "'\n";
      std::exit(1);
  }
}

/// Picks keys: uniform, zipf (precomputed CDF) or sequential.
class key_picker {
public:
  key_picker(const options& o, unsigned seed) : opts_(o), rng_(seed), uniform_(0, o.keyspace - 1) {}
  static void build_zipf(const options& o, std::vector<double>& cdf) {
    cdf.resize(static_cast<size_t>(o.keyspace));
    double sum = 0;
    for (long i = 0; i < o.keyspace; ++i)
      cdf[static_cast<size_t>(i)] = (sum += 1.0 / std::pow(static_cast<double>(i + 1), o.zipf_s));
    for (auto& c : cdf)
      c /= sum;
  }
  long next(const std::vector<double>& cdf, std::atomic<long>& seq) {
    if (opts_.sequential)
      return seq.fetch_add(1) % opts_.keyspace;
    if (opts_.zipf) {
      double u = std::uniform_real_distribution<double>(0, 1)(rng_);
      return static_cast<long>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
    }
    return uniform_(rng_);
  }
  bool is_set() { return std::uniform_int_distribution<int>(0, 99)(rng_) < opts_.set_percent; }

private:
  const options& opts_;
  std::mt19937_64 rng_;
  std::uniform_int_distribution<long> uniform_;
};

struct conn_state {
  int fd = -1;
  std::string in;
  int outstanding = 0;
  clock_type::time_point sent;
};

struct shared_run {
  options opts;
  std::vector<double> zipf_cdf;
  std::atomic<long> seq{0};
  std::atomic<long> issued{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> measuring{false};
};

struct thread_result {
  histogram hist;
  uint64_t errors = 0;
};

int connect_to(const options& o) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  ::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::perror("otkv-bench: connect");
    std::exit(1);
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

void append_command(std::string& out, bool set, long key, const std::string& value) {
  char keybuf[32];
  int klen = std::snprintf(keybuf, sizeof(keybuf), "key:%012ld", key);
  if (set) {
    out += "*3\r\n$3\r\nSET\r\n$" + std::to_string(klen) + "\r\n";
    out.append(keybuf, static_cast<size_t>(klen));
    out += "\r\n$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
  } else {
    out += "*2\r\n$3\r\nGET\r\n$" + std::to_string(klen) + "\r\n";
    out.append(keybuf, static_cast<size_t>(klen));
    out += "\r\n";
  }
}

void run_thread(shared_run& run, int nconns, unsigned seed, thread_result& result) {
  const options& o = run.opts;
  key_picker picker(o, seed);
  std::string value(static_cast<size_t>(o.value_size), 'x');
  std::vector<conn_state> conns(static_cast<size_t>(nconns));
  for (auto& c : conns)
    c.fd = connect_to(o);
  std::vector<pollfd> pfds(conns.size());
  std::string out;
  char buf[65536];
  auto send_batch = [&](conn_state& c) {
    if (o.requests > 0 && run.issued.fetch_add(o.pipeline) >= o.requests) {
      c.outstanding = -1; // done
      return;
    }
    out.clear();
    for (int i = 0; i < o.pipeline; ++i)
      append_command(out, picker.is_set(), picker.next(run.zipf_cdf, run.seq), value);
    c.sent = clock_type::now();
    size_t off = 0;
    while (off < out.size()) {
      auto n = ::send(c.fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        std::perror("otkv-bench: send");
        std::exit(1);
      }
      off += static_cast<size_t>(n);
    }
    c.outstanding = o.pipeline;
  };
  for (auto& c : conns)
    send_batch(c);
  while (!run.stop.load(std::memory_order_relaxed)) {
    size_t active = 0;
    for (size_t i = 0; i < conns.size(); ++i) {
      pfds[i].fd = conns[i].outstanding > 0 ? conns[i].fd : -1;
      pfds[i].events = POLLIN;
      active += conns[i].outstanding > 0;
    }
    if (active == 0)
      break;
    if (::poll(pfds.data(), pfds.size(), 100) <= 0)
      continue;
    for (size_t i = 0; i < conns.size(); ++i) {
      if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      auto& c = conns[i];
      auto n = ::recv(c.fd, buf, sizeof(buf), 0);
      if (n <= 0) {
        std::cerr << "otkv-bench: server closed the connection\n";
        std::exit(1);
      }
      c.in.append(buf, static_cast<size_t>(n));
      size_t off = 0;
      auto now = clock_type::now();
      bool measuring = run.measuring.load(std::memory_order_relaxed);
      for (;;) {
        bool error = false;
        size_t len = reply_length(c.in.data() + off, c.in.size() - off, error);
        if (len == 0)
          break;
        off += len;
        --c.outstanding;
        if (measuring) {
          result.hist.record(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.sent).count()));
          result.errors += error;
        }
      }
      c.in.erase(0, off);
      if (c.outstanding == 0)
        send_batch(c);
    }
  }
  for (auto& c : conns)
    ::close(c.fd);
}

void usage() {
  std::cout << "Usage: otkv-bench [options]\n"
               "  --host H --port P        server (default 127.0.0.1:7379)\n"
               "  --connections N          connections (default 50)\n"
               "  --threads N              client threads (default 2)\n"
               "  --pipeline N             requests in flight per connection (default 1)\n"
               "  --requests N             stop after N requests (default: run --duration)\n"
               "  --duration S --warmup S  measured seconds (5) after warm-up seconds (1)\n"
               "  --set-percent N          SETs in the mix, the rest GETs (default 50)\n"
               "  --keyspace N             distinct keys (default 100000)\n"
               "  --distribution D         uniform | zipf | sequential (default uniform)\n"
               "  --zipf-s S               zipf exponent (default 0.99)\n"
               "  --value-size N           bytes per value (default 3)\n"
               "  --json                   print one JSON object\n";
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "otkv-bench: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--host") o.host = next();
    else if (a == "--port") o.port = std::stoi(next());
    else if (a == "--connections") o.connections = std::stoi(next());
    else if (a == "--threads") o.threads = std::stoi(next());
    else if (a == "--pipeline") o.pipeline = std::stoi(next());
    else if (a == "--requests") o.requests = std::stol(next());
    else if (a == "--duration") o.duration = std::stod(next());
    else if (a == "--warmup") o.warmup = std::stod(next());
    else if (a == "--set-percent") o.set_percent = std::stoi(next());
    else if (a == "--keyspace") o.keyspace = std::stol(next());
    else if (a == "--distribution") {
      auto d = next();
      o.zipf = d == "zipf";
      o.sequential = d == "sequential";
      if (!o.zipf && !o.sequential && d != "uniform") {
        std::cerr << "otkv-bench: unknown distribution " << d << "\n";
        return 2;
      }
    } else if (a == "--zipf-s") o.zipf_s = std::stod(next());
    else if (a == "--value-size") o.value_size = std::stoi(next());
    else if (a == "--json") o.json = true;
    else if (a == "--help" || a == "-h") { usage(); return 0; }
    else { std::cerr << "otkv-bench: unknown option " << a << "\n"; return 2; }
  }
  if (o.connections < 1 || o.threads < 1 || o.pipeline < 1 || o.keyspace < 1) {
    std::cerr << "otkv-bench: connections, threads, pipeline and keyspace must be positive\n";
    return 2;
  }
  o.threads = std::min(o.threads, o.connections);
  shared_run run;
  run.opts = o;
  if (o.zipf)
    key_picker::build_zipf(o, run.zipf_cdf);
  std::vector<thread_result> results(static_cast<size_t>(o.threads));
  std::vector<std::thread> threads;
  if (o.requests > 0)
    run.measuring = true;
  auto start = clock_type::now();
  for (int t = 0; t < o.threads; ++t) {
    int n = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    threads.emplace_back(run_thread, std::ref(run), n, 12345u + static_cast<unsigned>(t),
                         std::ref(results[static_cast<size_t>(t)]));
  }
  if (o.requests == 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
    run.measuring = true;
    start = clock_type::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(o.duration));
    run.measuring = false;
    run.stop = true;
  }
  for (auto& t : threads)
    t.join();
  double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  if (o.requests == 0)
    secs = o.duration;
  histogram all;
  uint64_t errors = 0;
  for (auto& r : results) {
    all.merge(r.hist);
    errors += r.errors;
  }
  double ops = static_cast<double>(all.total()) / secs;
  auto us = [&](double p) { return static_cast<double>(all.percentile(p)) / 1000.0; };
  if (o.json) {
    std::printf("{\"requests\": %lu, \"errors\": %lu, \"seconds\": %.3f, \"ops_per_sec\": %.1f, "
                "\"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, "
                "\"max_us\": %.1f}\n",
                static_cast<unsigned long>(all.total()), static_cast<unsigned long>(errors), secs,
                ops, us(50), us(90), us(99), us(99.9), static_cast<double>(all.max()) / 1000.0);
  } else {
    std::printf("%lu requests in %.2f s, %lu errors: %.0f ops/s\n"
                "latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
                static_cast<unsigned long>(all.total()), secs, static_cast<unsigned long>(errors),
                ops, us(50), us(90), us(99), us(99.9), static_cast<double>(all.max()) / 1000.0);
  }
  return errors > 0 ? 3 : 0;
}

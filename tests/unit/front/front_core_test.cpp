// The front-end core on its own: a fake host stands in for the workers and the
// supervisor, and the test passes the clocks in, so timeouts are exact and a step of the
// wall clock can be injected.

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "actors/front_core.hpp"
#include "commands/dispatch.hpp"
#include "cluster/slots.hpp"
#include "store/key_hash.hpp"

using namespace otkv;

namespace {

/// Records what the core asks for; runs batches on plain partitions when told.
struct fake_host : front_host {
  std::vector<std::shared_ptr<const work_batch>> sent;
  std::vector<uint32_t> restarts;
  std::vector<uint64_t> dropped;
  std::vector<store::partition> parts;

  explicit fake_host(uint32_t partitions) : parts(partitions) {}

  void send_batch(std::shared_ptr<const work_batch> batch) override { sent.push_back(batch); }
  void restart_worker(uint32_t p) override { restarts.push_back(p); }
  void over_output_limit(front_session& s) override { dropped.push_back(s.client.id); }
  std::vector<std::tuple<uint32_t, uint64_t, uint64_t>> unblocked; ///< partition, conn, seq
  void unblock(uint32_t p, uint64_t conn, uint64_t seq) override {
    unblocked.emplace_back(p, conn, seq);
  }

  /// What a worker would answer to `batch`.
  done_batch run(const work_batch& batch, store::millis now) {
    done_batch d{batch.partition, batch.id, {}};
    for (const auto& item : batch.items) {
      cmd::op_context ctx{parts[batch.partition], now, batch.partition, item.encode, item.hash};
      auto r = cmd::run_on_partition(*item.cmd, ctx, item.args);
      if (item.encode)
        r = net::reply::raw(net::encode(r));
      d.items.push_back({item.conn, item.seq, item.part, std::move(r), 1000});
    }
    return d;
  }
};

struct fixture {
  explicit fixture(uint32_t partitions = 4)
    : host(partitions), core(host, server, partitions), s(core.open<front_session>(1)) {
    core.settings.request_timeout_ms = 500;
    core.settings.request_attempts = 2;
  }
  /// Submits `args` at wall-clock `wall` and monotonic `t`; returns its sequence number.
  uint64_t submit(net::arg_list args, store::millis wall, store::millis t) {
    uint64_t seq = s.next_seq();
    core.submit(s, std::move(args), wall, t);
    return seq;
  }
  /// What the core reports as ready since the last call.
  std::vector<std::pair<uint64_t, uint64_t>> touched() {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    core.take_touched(out);
    return out;
  }
  /// The reply of request `seq` if it is ready, else "".
  std::string reply(uint64_t seq) {
    auto* slot = s.slot(seq);
    return slot != nullptr && slot->ready ? slot->reply.text : std::string();
  }
  cmd::server_context server;
  fake_host host;
  front_core core;
  front_session& s;
};

constexpr store::millis wall = 1'700'000'000'000; // the wall clock at the start
constexpr store::millis t0 = 10'000;              // the monotonic clock at the start
constexpr store::millis hour = 3'600'000;

} // namespace

TEST_CASE("a request a worker never answers gets -TIMEOUT on the monotonic clock, "
          "whatever the wall clock does", "[front_core]") {
  fixture f;
  auto seq = f.submit({"GET", "k"}, wall, t0);
  f.core.dispatch(wall, t0);
  REQUIRE(f.host.sent.size() == 1);
  uint32_t p = f.host.sent[0]->partition;

  f.core.tick(t0 + 499);
  CHECK(f.host.restarts.empty());
  f.core.tick(t0 + 500); // the first attempt is overdue: a fresh worker
  CHECK(f.host.restarts == std::vector<uint32_t>{p});

  // The wall clock steps back an hour just as the fresh worker arrives: nothing moves.
  f.core.worker_replaced(p, wall - hour, t0 + 520);
  REQUIRE(f.host.sent.size() == 2);
  CHECK(f.host.sent[1] == f.host.sent[0]); // the same batch, resent
  f.core.tick(t0 + 1019);
  CHECK(f.reply(seq).empty());
  f.core.tick(t0 + 1020); // the second attempt is overdue too: out of attempts
  CHECK(f.reply(seq)
        == "-TIMEOUT request to partition " + std::to_string(p) + " timed out after 2 attempts\r\n");
  CHECK(f.server.counters.partition_counters[p].timeouts == 1);
  CHECK(f.server.counters.partition_counters[p].resends == 1);
  CHECK(f.server.counters.partition_counters[p].restarts == 1);
}

TEST_CASE("a wall-clock step forward does not time out a healthy batch", "[front_core]") {
  fixture f;
  auto set = f.submit({"SET", "k", "v"}, wall, t0);
  f.core.dispatch(wall, t0);
  // A day later on the wall clock, 100 ms later on the monotonic one, the worker answers.
  f.core.tick(t0 + 100);
  auto done = f.host.run(*f.host.sent[0], wall + 24 * hour);
  f.core.on_done(done, wall + 24 * hour);
  CHECK(f.reply(set) == "+OK\r\n");
  CHECK(f.host.restarts.empty());
  for (store::millis t = t0; t <= t0 + 5000; t += 50)
    f.core.tick(t);
  CHECK(f.host.restarts.empty());
  CHECK(f.reply(set) == "+OK\r\n");
}

TEST_CASE("with no fresh worker ever, the final deadline still answers", "[front_core]") {
  fixture f;
  auto seq = f.submit({"GET", "k"}, wall, t0);
  f.core.dispatch(wall, t0);
  f.core.tick(t0 + 500);
  CHECK(f.host.restarts.size() == 1); // asked once; the supervisor never answers
  f.core.tick(t0 + 1999);
  CHECK(f.reply(seq).empty());
  f.core.tick(t0 + f.core.settings.final_deadline_ms()); // 2 × 500 + 1000
  CHECK(f.reply(seq).rfind("-TIMEOUT request to partition", 0) == 0);
}

TEST_CASE("replies are released in request order", "[front_core]") {
  fixture f;
  // Two keys on different partitions.
  std::string a = "a", b = "b";
  while (store::partition_of(b, 4) == store::partition_of(a, 4))
    b += "b";
  auto first = f.submit({"SET", a, "1"}, wall, t0);
  auto second = f.submit({"SET", b, "2"}, wall, t0);
  f.core.dispatch(wall, t0);
  REQUIRE(f.host.sent.size() == 2);
  auto batch_of = [&](const std::string& key) {
    for (auto& sent : f.host.sent)
      if (sent->partition == store::partition_of(key, 4))
        return sent;
    return f.host.sent[0];
  };
  auto later = f.host.run(*batch_of(b), wall);
  f.core.on_done(later, wall);
  CHECK(f.reply(second) == "+OK\r\n");
  CHECK(f.touched().empty()); // ready, but the first is not: nothing to write
  auto earlier = f.host.run(*batch_of(a), wall);
  f.core.on_done(earlier, wall);
  auto touched = f.touched();
  REQUIRE(touched.size() == 1);
  CHECK(touched[0].second == first);
}

TEST_CASE("a split request is merged in key order whatever order its parts come in",
          "[front_core]") {
  fixture f;
  f.submit({"MSET", "k1", "v1", "k2", "v2", "k3", "v3", "k4", "v4", "k5", "v5"}, wall, t0);
  f.core.dispatch(wall, t0);
  for (auto& b : f.host.sent) {
    auto d = f.host.run(*b, wall);
    f.core.on_done(d, wall);
  }
  f.host.sent.clear();
  auto seq = f.submit({"MGET", "k5", "nope", "k1", "k3", "k2", "k4"}, wall, t0);
  f.core.dispatch(wall, t0);
  REQUIRE(f.host.sent.size() > 1);
  for (auto i = f.host.sent.rbegin(); i != f.host.sent.rend(); ++i) {
    auto d = f.host.run(**i, wall);
    f.core.on_done(d, wall);
  }
  CHECK(f.reply(seq)
        == "*6\r\n$2\r\nv5\r\n$-1\r\n$2\r\nv1\r\n$2\r\nv3\r\n$2\r\nv2\r\n$2\r\nv4\r\n");
  CHECK(f.server.counters.total_commands == 2);
}

TEST_CASE("a connection command's effect holds its slot until the front answers it",
          "[front_core]") {
  fixture f;
  REQUIRE(f.core.submit(f.s, {"CONFIG", "SET", "maxclients", "10"}, wall, t0));
  auto fx = f.core.take_effect();
  CHECK(fx.effect.what == cmd::effect::kind::config_set);
  auto ping = f.submit({"PING"}, wall, t0);
  CHECK(f.reply(ping) == "+PONG\r\n");
  CHECK(f.touched().empty()); // PONG waits behind CONFIG SET
  f.core.answer(f.s, fx.seq, net::reply::error("ERR refused here"));
  CHECK(f.reply(fx.seq) == "-ERR refused here\r\n");
  CHECK(f.touched().size() == 1);
}

TEST_CASE("refused requests are answered at once and never reach a worker", "[front_core]") {
  fixture f;
  auto unknown = f.submit({"NOPE"}, wall, t0);
  auto arity = f.submit({"GET"}, wall, t0);
  auto cross = f.submit({"RENAME", "a", "bb"}, wall, t0);
  f.s.client.authenticated = false;
  auto noauth = f.submit({"GET", "k"}, wall, t0);
  f.core.dispatch(wall, t0);
  CHECK(f.host.sent.empty());
  CHECK(f.reply(unknown).rfind("-ERR unknown command 'NOPE'", 0) == 0);
  CHECK(f.reply(arity) == "-ERR wrong number of arguments for 'get' command\r\n");
  bool same = store::partition_of("a", 4) == store::partition_of("bb", 4);
  if (!same)
    CHECK(f.reply(cross) == "-CROSSSLOT Keys in request don't hash to the same slot\r\n");
  CHECK(f.reply(noauth) == "-NOAUTH Authentication required.\r\n");
}

TEST_CASE("a session over its output limit is handed to the front end to drop",
          "[front_core]") {
  fixture f;
  f.submit({"GET", "k"}, wall, t0);
  f.core.dispatch(wall, t0);
  auto d = f.host.run(*f.host.sent[0], wall);
  d.items[0].over_limit = true;
  f.core.on_done(d, wall);
  CHECK(f.host.dropped == std::vector<uint64_t>{1});
}

TEST_CASE("results for a closed session are dropped", "[front_core]") {
  fixture f;
  f.submit({"GET", "k"}, wall, t0);
  f.core.dispatch(wall, t0);
  f.s.closed = true;
  auto d = f.host.run(*f.host.sent[0], wall);
  f.core.on_done(d, wall);
  CHECK(f.touched().empty());
  size_t gone = 0;
  f.core.reap([&](front_session&) { ++gone; });
  CHECK(gone == 1);
  CHECK(f.core.find(1) == nullptr);
}

TEST_CASE("a key is hashed once: its hash travels to the worker, except for a hash tag",
          "[front_core]") {
  fixture f;
  auto set_plain = f.submit({"SET", "plain", "1"}, wall, t0);
  auto set_tagged = f.submit({"SET", "user:{42}:name", "2"}, wall, t0);
  f.core.dispatch(wall, t0);
  for (auto& b : f.host.sent)
    for (auto& item : b->items) {
      if (item.args[1] == "plain")
        CHECK(item.hash == store::key_hash("plain")); // partition and bucket: one hash
      else
        CHECK(item.hash == 0); // the partition came from the tag; the bucket needs the key
    }
  for (auto& b : f.host.sent) {
    auto d = f.host.run(*b, wall);
    f.core.on_done(d, wall);
  }
  CHECK(f.reply(set_plain) == "+OK\r\n");
  CHECK(f.reply(set_tagged) == "+OK\r\n");
  f.host.sent.clear();
  auto get_plain = f.submit({"GET", "plain"}, wall, t0);
  auto get_tagged = f.submit({"GET", "user:{42}:name"}, wall, t0);
  f.core.dispatch(wall, t0);
  for (auto& b : f.host.sent) {
    auto d = f.host.run(*b, wall);
    f.core.on_done(d, wall);
  }
  CHECK(f.reply(get_plain) == "$1\r\n1\r\n");
  CHECK(f.reply(get_tagged) == "$1\r\n2\r\n");
}

TEST_CASE("with several shards a server-wide command runs again over every shard's sum",
          "[front_core][shards]") {
  fixture f;
  f.server.info.shards = 3;
  f.server.info.client_list = [] { return std::string("id=1 io-thread=0\n"); };
  // CLIENT LIST: the handler asks for the other shards' clients first.
  REQUIRE(f.core.submit(f.s, {"CLIENT", "LIST"}, wall, t0));
  auto fx = f.core.take_effect();
  REQUIRE(fx.effect.what == cmd::effect::kind::gather);
  CHECK(f.reply(fx.seq).empty());
  auto sum = std::make_unique<cmd::server_counters>();
  sum->other_clients = "id=7 io-thread=1\nid=9 io-thread=2\n";
  f.core.rerun(f.s, fx.seq, std::move(fx.effect.args), std::move(sum), wall, t0);
  CHECK(f.reply(fx.seq) == "$51\r\nid=1 io-thread=0\nid=7 io-thread=1\nid=9 io-thread=2\n\r\n");
  // INFO (a route::all command) gathers before it goes to the partitions, and its merge
  // reports the sum, not this shard's counters.
  f.server.counters.total_commands = 5;
  REQUIRE(f.core.submit(f.s, {"INFO", "stats"}, wall, t0));
  fx = f.core.take_effect();
  REQUIRE(fx.effect.what == cmd::effect::kind::gather);
  CHECK(f.host.sent.empty());
  sum = std::make_unique<cmd::server_counters>();
  cmd::add_counters(*sum, f.server.counters);
  sum->total_commands += 1000; // the other shards'
  f.core.rerun(f.s, fx.seq, std::move(fx.effect.args), std::move(sum), wall, t0);
  f.core.dispatch(wall, t0);
  REQUIRE(f.host.sent.size() == 4); // one part per partition
  for (auto& b : f.host.sent) {
    auto d = f.host.run(*b, wall);
    f.core.on_done(d, wall);
  }
  CHECK(f.reply(fx.seq).find("total_commands_processed:1006\r\n") != std::string::npos);
  CHECK(f.server.counters.total_commands == 6); // its own count is untouched
  // CONFIG RESETSTAT resets here and asks the other shards to.
  REQUIRE(f.core.submit(f.s, {"CONFIG", "RESETSTAT"}, wall, t0));
  CHECK(f.core.take_effect().effect.what == cmd::effect::kind::reset_stats);
  CHECK(f.server.counters.total_commands == 0);
}

TEST_CASE("a single shard never gathers", "[front_core][shards]") {
  fixture f;
  CHECK_FALSE(f.core.submit(f.s, {"SLOWLOG", "LEN"}, wall, t0));
  CHECK(f.reply(0) == ":0\r\n");
  CHECK_FALSE(f.core.submit(f.s, {"SLOWLOG", "RESET"}, wall, t0));
}

namespace {

/// A host that runs batches itself while `free` says so (as a broker that can take the
/// partition's token).
struct inline_host : fake_host {
  using fake_host::fake_host;
  bool free = true;
  size_t ran = 0;
  bool run_here(const work_batch& batch, done_batch& out) override {
    if (!free)
      return false;
    ++ran;
    out = run(batch, 0);
    return true;
  }
};

} // namespace

TEST_CASE("a batch the front end runs itself is answered at dispatch, in order with the "
          "batches in flight", "[front_core][shards]") {
  cmd::server_context server;
  inline_host host(1);
  front_core core(host, server, 1);
  auto& s = core.open<front_session>(1);
  core.submit(s, {"SET", "k", "1"}, wall, t0);
  core.dispatch(wall, t0);
  CHECK(host.ran == 1);
  CHECK(host.sent.empty());
  CHECK(s.queue.front().ready);
  CHECK(server.counters.stats.counters.at(cmd::find_command("set") - cmd::command_table().data())
          .calls == 1);
  // The partition is busy: the next batch goes to the worker...
  host.free = false;
  core.submit(s, {"INCR", "k"}, wall, t0);
  core.dispatch(wall, t0);
  REQUIRE(host.sent.size() == 1);
  // ...and while it is in flight, later batches follow it there, even with the
  // partition free again, so the INCRs apply in request order.
  host.free = true;
  core.submit(s, {"INCR", "k"}, wall, t0);
  core.dispatch(wall, t0);
  CHECK(host.ran == 1);
  REQUIRE(host.sent.size() == 2);
  for (auto& b : host.sent) {
    auto d = host.run(*b, wall);
    core.on_done(d, wall);
  }
  CHECK(s.slot(1)->reply.text == ":2\r\n");
  CHECK(s.slot(2)->reply.text == ":3\r\n");
  // Nothing in flight: the front end runs the next batch itself again.
  core.submit(s, {"GET", "k"}, wall, t0);
  core.dispatch(wall, t0);
  CHECK(host.ran == 2);
  CHECK(s.slot(3)->reply.text == "$1\r\n3\r\n");
}

namespace {

/// A front end of node 0 of a two-node cluster (2 partitions each): targets 2 and 3 are
/// the other node's partitions, reachable while `up`.
struct cluster_host : fake_host {
  bool up = true;
  cluster_host() : fake_host(4) {}
  bool reachable(uint32_t target) override { return target < 2 || up; }
};

/// A key whose slot the other node (ordinal 1) serves, with slots 8192+ its own.
std::string remote_key() {
  for (int i = 0;; ++i)
    if (cluster::key_slot("k" + std::to_string(i)) >= 8192)
      return "k" + std::to_string(i);
}

} // namespace

TEST_CASE("a forwarded request: counted when answered, -CLUSTERDOWN when its node goes "
          "down, never resent from here", "[front_core][cluster]") {
  std::vector<std::atomic<uint16_t>> ordinals(cluster::slot_count);
  for (uint32_t s = 0; s < cluster::slot_count; ++s)
    ordinals[s].store(s >= 8192 ? 1 : 0);
  cmd::key_router router(2);
  router.nodes = 2;
  router.slot_ordinal = ordinals.data();
  cmd::server_context server;
  cluster_host host;
  front_core core(host, server, router);
  auto& s = core.open<front_session>(1);
  auto key = remote_key();

  // Answered: counted like any request (commandstats).
  core.submit(s, {"SET", key, "v"}, wall, t0);
  core.dispatch(wall, t0);
  REQUIRE(host.sent.size() == 1);
  CHECK(host.sent[0]->partition >= 2);
  auto done = host.run(*host.sent[0], wall);
  core.on_done(done, wall);
  REQUIRE(s.slot(0)->ready);
  CHECK(s.slot(0)->reply.text == "+OK\r\n");
  auto set = cmd::find_command("set") - &cmd::command_table()[0];
  CHECK(server.counters.stats.counters[static_cast<size_t>(set)].calls == 1);

  // Its node goes down while it is on its way: -CLUSTERDOWN at the next tick, no resend.
  core.submit(s, {"GET", key}, wall, t0 + 10);
  core.dispatch(wall, t0 + 10);
  REQUIRE(host.sent.size() == 2);
  core.tick(t0 + 20);
  CHECK_FALSE(s.slot(1)->ready);
  host.up = false;
  core.tick(t0 + 30);
  REQUIRE(s.slot(1)->ready);
  CHECK(s.slot(1)->reply.text == "-CLUSTERDOWN The cluster is down\r\n");
  CHECK(host.restarts.empty());
  CHECK(host.sent.size() == 2);

  // While it is down, its requests are answered at once; this node's are served.
  core.submit(s, {"GET", key}, wall, t0 + 40);
  core.submit(s, {"GET", "local"}, wall, t0 + 40);
  core.dispatch(wall, t0 + 40);
  CHECK(s.slot(2)->ready);
  CHECK(host.sent.size() == 3); // the local GET only
  CHECK(host.sent.back()->partition < 2);
}

TEST_CASE("a request its worker parks waits without a deadline until the worker answers it",
          "[front_core][blocking]") {
  fixture f;
  auto seq = f.submit({"BLPOP", "q", "0"}, wall, t0);
  auto later = f.submit({"GET", "k"}, wall, t0);
  f.core.dispatch(wall, t0);
  REQUIRE(f.host.sent.size() >= 1);
  // The worker parks the BLPOP: its item says so and its reply means nothing.
  done_batch parked = f.host.run(*f.host.sent[0], wall);
  for (auto& item : parked.items)
    if (item.seq == seq)
      item.blocked = true;
  f.core.on_done(parked, wall);
  for (size_t i = 1; i < f.host.sent.size(); ++i) {
    auto d = f.host.run(*f.host.sent[i], wall);
    f.core.on_done(d, wall);
  }
  CHECK(f.reply(seq).empty());
  CHECK(f.server.counters.blocked_clients == 1);
  // Far past every request deadline: still waiting, no -TIMEOUT, no fresh worker.
  f.core.tick(t0 + hour);
  CHECK(f.reply(seq).empty());
  CHECK(f.host.restarts.empty());
  CHECK(f.touched().empty()); // the GET behind it waits for it, in order
  // The worker answers it later, in a batch of id 0.
  done_batch woken{f.host.sent[0]->partition, 0, {}};
  woken.items.push_back({1, seq, 0, net::reply::raw("*2\r\n$1\r\nq\r\n$1\r\nv\r\n")});
  f.core.on_done(woken, wall);
  CHECK(f.reply(seq) == "*2\r\n$1\r\nq\r\n$1\r\nv\r\n");
  CHECK(f.reply(later) == "$-1\r\n");
  CHECK(f.server.counters.blocked_clients == 0);
}

TEST_CASE("a closing session's parked requests are withdrawn from their workers",
          "[front_core][blocking]") {
  fixture f;
  auto seq = f.submit({"BZPOPMIN", "z", "0"}, wall, t0);
  f.core.dispatch(wall, t0);
  REQUIRE(f.host.sent.size() == 1);
  done_batch parked = f.host.run(*f.host.sent[0], wall);
  parked.items[0].blocked = true;
  f.core.on_done(parked, wall);
  CHECK(front_core::only_blocked(f.s)); // a shutdown does not wait for it
  f.s.closed = true;
  f.core.reap([](front_session&) {});
  using withdrawn = std::vector<std::tuple<uint32_t, uint64_t, uint64_t>>;
  CHECK(f.host.unblocked == withdrawn{{f.host.sent[0]->partition, 1, seq}});
  CHECK(f.server.counters.blocked_clients == 0);
}

TEST_CASE("a request parked for a session that closed, or answered already, is withdrawn",
          "[front_core][blocking]") {
  fixture f;
  auto seq = f.submit({"BLPOP", "q", "0"}, wall, t0);
  f.core.dispatch(wall, t0);
  f.core.tick(t0 + hour); // no answer in time: -TIMEOUT, while the worker parks it
  CHECK(f.reply(seq).rfind("-TIMEOUT", 0) == 0);
  done_batch parked = f.host.run(*f.host.sent[0], wall);
  parked.items[0].blocked = true;
  f.core.on_done(parked, wall);
  using withdrawn = std::vector<std::tuple<uint32_t, uint64_t, uint64_t>>;
  CHECK(f.host.unblocked == withdrawn{{f.host.sent[0]->partition, 1, seq}});
  CHECK(f.server.counters.blocked_clients == 0);
}

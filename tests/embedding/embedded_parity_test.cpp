// Every command of the command table through the embedding API answers what it answers
// over TCP: two in-memory stores get the same sequence of requests, one through
// execute_atom, the other through a socket to the TCP front end it opened (listen_atom).
// Where an answer cannot be the same (ids, clocks, random picks), it must have the same
// shape; where an effect cannot apply to an embedded store, the embedded answer is an
// error saying so. A command added to the table without a request here fails the test.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "commands/dispatch.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include <otkv/otkv.hpp>

#include "commands/command.hpp"
#include "net/reply.hpp"

namespace {

/// A blocking loopback client that reads whole RESP2 replies.
class resp_client {
public:
  explicit resp_client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    timeval tv{10, 0}; // bounded: a missing reply fails the test instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~resp_client() { ::close(fd_); }

  /// Sends `args` as a RESP multibulk request; returns the reply's bytes.
  std::string run(const std::vector<std::string>& args) {
    std::string req = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args)
      req += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    REQUIRE(::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
    size_t pos = 0;
    std::string out;
    read_reply(pos);
    out = buf_.substr(0, pos);
    buf_.erase(0, pos);
    return out;
  }

private:
  /// Makes sure buf_ holds at least `n` bytes.
  void need(size_t n) {
    char chunk[16384];
    while (buf_.size() < n) {
      auto got = ::recv(fd_, chunk, sizeof(chunk), 0);
      REQUIRE(got > 0);
      buf_.append(chunk, static_cast<size_t>(got));
    }
  }
  /// The line starting at `pos` (without CRLF); moves `pos` past it.
  std::string line(size_t& pos) {
    size_t end;
    while ((end = buf_.find("\r\n", pos)) == std::string::npos)
      need(buf_.size() + 1);
    auto text = buf_.substr(pos, end - pos);
    pos = end + 2;
    return text;
  }
  /// Moves `pos` past one whole reply.
  void read_reply(size_t& pos) {
    need(pos + 1);
    char type = buf_[pos];
    auto text = line(pos);
    if (type == '$') {
      auto len = std::stoll(text.substr(1));
      if (len >= 0) {
        need(pos + static_cast<size_t>(len) + 2);
        pos += static_cast<size_t>(len) + 2;
      }
    } else if (type == '*') {
      auto n = std::stoll(text.substr(1));
      for (long long i = 0; i < n; ++i)
        read_reply(pos);
    }
  }
  int fd_ = -1;
  std::string buf_;
};

/// How the two answers to a request must compare.
enum class expect {
  same,           ///< byte for byte
  same_shape,     ///< both succeed with the same RESP type (ids, clocks, random picks)
  embedded_error, ///< the effect cannot apply to an embedded store: an error saying so
};

struct step {
  std::vector<std::string> args;
  expect how = expect::same;
};

/// The requests, in order; later ones see what earlier ones wrote. Keys in {t} share a
/// partition (the commands that need all their keys in one).
std::vector<step> script() {
  auto far = std::to_string(4'000'000'000LL); // a deadline in 2096, in seconds
  return {
    {{"SET", "k", "v"}},
    {{"GET", "k"}},
    {{"GET", "missing"}},
    {{"MSET", "a", "1", "b", "2", "c", "3"}},
    {{"MGET", "a", "b", "nope", "c"}},
    {{"INCR", "n"}},
    {{"DECR", "n"}},
    {{"INCRBY", "n", "5"}},
    {{"DECRBY", "n", "2"}},
    {{"INCR", "k"}},
    {{"INCRBYFLOAT", "f", "1.5"}},
    {{"APPEND", "k", "xyz"}},
    {{"STRLEN", "k"}},
    {{"GETDEL", "a"}},
    {{"GETSET", "b", "9"}},
    {{"GETEX", "k", "PX", "100000"}},
    {{"SETNX", "c", "1"}},
    {{"SETEX", "s", "100", "v"}},
    {{"PSETEX", "p", "100000", "v"}},
    {{"GETRANGE", "k", "0", "1"}},
    {{"SETRANGE", "k", "1", "ZZ"}},
    {{"MSETNX", "{t}1", "x", "{t}2", "y"}},
    {{"RENAME", "{t}1", "{t}3"}},
    {{"RENAMENX", "{t}3", "{t}2"}},
    {{"COPY", "{t}2", "{t}4"}},
    {{"RENAME", "a", "zz"}},
    {{"DEL", "b", "nope"}},
    {{"EXISTS", "k", "c", "nope"}},
    {{"HSET", "h", "f", "1", "g", "2"}},
    {{"HMSET", "h", "i", "3"}},
    {{"HSETNX", "h", "f", "9"}},
    {{"HGET", "h", "f"}},
    {{"HMGET", "h", "f", "nope"}},
    {{"HGETALL", "h"}},
    {{"HKEYS", "h"}},
    {{"HVALS", "h"}},
    {{"HEXISTS", "h", "g"}},
    {{"HLEN", "h"}},
    {{"HSTRLEN", "h", "f"}},
    {{"HINCRBY", "h", "f", "4"}},
    {{"HINCRBYFLOAT", "h", "f", "0.5"}},
    {{"HRANDFIELD", "h", "2"}, expect::same_shape},
    {{"HSCAN", "h", "0"}},
    {{"HDEL", "h", "i", "nope"}},
    {{"HGET", "k", "f"}}, // a string: WRONGTYPE both ways
    {{"RPUSH", "{t}l", "a", "b", "c", "b"}},
    {{"LPUSH", "{t}l", "z"}},
    {{"LPUSHX", "{t}l", "y"}},
    {{"RPUSHX", "nolist", "y"}},
    {{"LRANGE", "{t}l", "0", "-1"}},
    {{"LLEN", "{t}l"}},
    {{"LINDEX", "{t}l", "1"}},
    {{"LSET", "{t}l", "0", "Y"}},
    {{"LINSERT", "{t}l", "BEFORE", "c", "x"}},
    {{"LPOS", "{t}l", "b", "COUNT", "0"}},
    {{"LREM", "{t}l", "1", "b"}},
    {{"LPOP", "{t}l"}},
    {{"RPOP", "{t}l", "1"}},
    {{"LMOVE", "{t}l", "{t}m", "LEFT", "RIGHT"}},
    {{"RPOPLPUSH", "{t}l", "{t}m"}},
    {{"LMPOP", "2", "{t}none", "{t}m", "RIGHT", "COUNT", "1"}},
    {{"RPUSH", "{t}b", "1", "2", "3", "4", "5"}},
    {{"BLPOP", "{t}none", "{t}b", "0"}},
    {{"BRPOP", "{t}b", "0"}},
    {{"BLMOVE", "{t}b", "{t}m", "LEFT", "LEFT", "0"}},
    {{"BRPOPLPUSH", "{t}b", "{t}m", "0"}},
    {{"BLMPOP", "0.5", "1", "{t}none", "LEFT"}}, // times out: a null array
    {{"LTRIM", "{t}l", "0", "0"}},
    {{"SADD", "{t}s", "1", "2", "3"}},
    {{"SADD", "{t}r", "2", "3", "4"}},
    {{"SADD", "other", "3", "9"}},
    {{"SREM", "{t}s", "1", "nope"}},
    {{"SMEMBERS", "{t}s"}},
    {{"SISMEMBER", "{t}s", "2"}},
    {{"SMISMEMBER", "{t}s", "2", "7"}},
    {{"SCARD", "{t}s"}},
    {{"SINTER", "{t}s", "{t}r", "other"}},
    {{"SUNION", "{t}s", "other"}},
    {{"SDIFF", "{t}r", "{t}s"}},
    {{"SINTERSTORE", "{t}d", "{t}s", "{t}r"}},
    {{"SUNIONSTORE", "{t}d", "{t}s", "{t}r"}},
    {{"SDIFFSTORE", "{t}d", "{t}r", "{t}s"}},
    {{"SINTERCARD", "2", "{t}s", "{t}r"}},
    {{"SMOVE", "{t}r", "{t}s", "4"}},
    {{"SSCAN", "{t}s", "0"}},
    {{"SRANDMEMBER", "{t}s", "2"}, expect::same_shape},
    {{"SPOP", "{t}s"}, expect::same_shape},
    {{"OBJECT", "ENCODING", "{t}r"}},
    {{"OBJECT", "REFCOUNT", "{t}r"}},
    {{"OBJECT", "HELP"}},
    {{"MEMORY", "USAGE", "{t}r"}},
    {{"MEMORY", "HELP"}},
    {{"ZADD", "{t}z", "1", "a", "2", "b", "3", "c"}},
    {{"ZINCRBY", "{t}z", "0.5", "a"}},
    {{"ZSCORE", "{t}z", "a"}},
    {{"ZMSCORE", "{t}z", "a", "nope"}},
    {{"ZCARD", "{t}z"}},
    {{"ZCOUNT", "{t}z", "(1", "+inf"}},
    {{"ZLEXCOUNT", "{t}z", "-", "+"}},
    {{"ZRANK", "{t}z", "b"}},
    {{"ZREVRANK", "{t}z", "b"}},
    {{"ZRANGE", "{t}z", "0", "-1", "WITHSCORES"}},
    {{"ZRANGEBYSCORE", "{t}z", "1", "2"}},
    {{"ZREVRANGEBYSCORE", "{t}z", "+inf", "2"}},
    {{"ZRANGEBYLEX", "{t}z", "-", "+"}},
    {{"ZREVRANGEBYLEX", "{t}z", "+", "-"}},
    {{"ZREVRANGE", "{t}z", "0", "0"}},
    {{"ZRANGESTORE", "{t}z2", "{t}z", "0", "1"}},
    {{"ZUNION", "2", "{t}z", "{t}r", "WEIGHTS", "2", "1", "WITHSCORES"}},
    {{"ZINTER", "2", "{t}z", "{t}z2", "AGGREGATE", "MAX"}},
    {{"ZDIFF", "2", "{t}z", "{t}z2", "WITHSCORES"}},
    {{"ZINTERCARD", "2", "{t}z", "{t}z2", "LIMIT", "1"}},
    {{"ZUNIONSTORE", "{t}z3", "2", "{t}z", "{t}r"}},
    {{"ZINTERSTORE", "{t}z3", "2", "{t}z", "{t}z2"}},
    {{"ZDIFFSTORE", "{t}z3", "2", "{t}z", "{t}z2"}},
    {{"ZMPOP", "2", "{t}none", "{t}z3", "MAX"}},
    {{"ZADD", "{t}bz", "1", "a", "2", "b", "3", "c"}},
    {{"BZPOPMIN", "{t}bz", "0"}},
    {{"BZPOPMAX", "{t}bz", "0"}},
    {{"BZMPOP", "0", "1", "{t}bz", "MIN", "COUNT", "2"}},
    {{"ZRANDMEMBER", "{t}z"}, expect::same_shape},
    {{"ZSCAN", "{t}z", "0"}},
    {{"ZREMRANGEBYSCORE", "{t}z2", "-inf", "1.5"}},
    {{"ZREMRANGEBYRANK", "{t}z2", "0", "0"}},
    {{"ZREMRANGEBYLEX", "{t}z2", "-", "+"}},
    {{"ZPOPMIN", "{t}z"}},
    {{"ZPOPMAX", "{t}z", "1"}},
    {{"ZREM", "{t}z", "b", "nope"}},
    {{"SETBIT", "{t}bits", "9", "1"}},
    {{"GETBIT", "{t}bits", "9"}},
    {{"BITCOUNT", "{t}bits"}},
    {{"BITPOS", "{t}bits", "1"}},
    {{"BITOP", "NOT", "{t}nbits", "{t}bits"}},
    {{"BITFIELD", "{t}bits", "INCRBY", "u8", "0", "5", "GET", "i4", "#1"}},
    {{"BITFIELD_RO", "{t}bits", "GET", "u8", "8"}},
    {{"LCS", "{t}bits", "{t}nbits", "LEN"}},
    {{"TYPE", "{t}r"}},
    {{"KEYS", "{t}*"}, expect::same_shape},
    {{"CLUSTER", "KEYSLOT", "{t}1"}},
    {{"CLUSTER", "INFO"}}, // not a cluster: the same error both ways
    {{"CLUSTER", "COUNTKEYSINSLOT", "15891"}},
    {{"CLUSTER", "GETKEYSINSLOT", "15891", "10"}, expect::same_shape},
    {{"CLUSTER", "MOVESLOTS", "0", "1", "x"}}, // not a cluster: the same error both ways
    {{"CLUSTER", "DUMPSLOTS", "0", "1"}},     // a slot move's steps: refused to clients
    {{"CLUSTER", "PUTKEYS", "k", "v", "0"}},
    {{"CLUSTER", "DROPSLOTS", "0", "1"}},
    {{"EXEC"}},    // without MULTI: the same error both ways
    {{"DISCARD"}},
    {{"MULTI"}, expect::embedded_error}, // no partition reservations here
    {{"WATCH", "k"}, expect::embedded_error},
    {{"UNWATCH"}},
    {{"EVAL", "return 1", "-1"}}, // a bad key count: the same error both ways
    {{"EVAL", "return 1", "0"}, expect::embedded_error}, // no partition reservations here
    {{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"}, expect::embedded_error},
    {{"EVAL_RO", "return 1", "0"}, expect::embedded_error},
    {{"EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"}, expect::embedded_error},
    {{"SCRIPT", "LOAD", "return 1"}, expect::embedded_error}, // no script cache here
    {{"READONLY"}},
    {{"READWRITE"}},
    {{"ASKING"}},
    {{"EXPIRE", "k", "100"}},
    {{"PEXPIRE", "k", "100000"}},
    {{"EXPIREAT", "k", far}},
    {{"PEXPIREAT", "c", far + "000"}},
    {{"EXPIRETIME", "k"}},
    {{"PEXPIRETIME", "c"}},
    {{"TTL", "k"}, expect::same_shape},
    {{"PTTL", "c"}, expect::same_shape},
    {{"PERSIST", "k"}},
    {{"TOUCH", "k", "c", "nope"}},
    {{"UNLINK", "c"}},
    {{"TYPE", "k"}},
    {{"TYPE", "nope"}},
    {{"SCAN", "0", "COUNT", "1000"}, expect::same_shape},
    {{"RANDOMKEY"}, expect::same_shape},
    {{"DBSIZE"}},
    {{"INFO", "keyspace"}},
    {{"INFO", "server"}, expect::same_shape},
    {{"PING"}},
    {{"PING", "hello"}},
    {{"ECHO", "hi"}},
    {{"SELECT", "0"}},
    {{"SELECT", "1"}},
    {{"HELLO"}, expect::same_shape},
    {{"HELLO", "3"}},
    {{"AUTH", "secret"}},
    {{"CLIENT", "SETNAME", "app"}},
    {{"CLIENT", "GETNAME"}},
    {{"CLIENT", "ID"}, expect::same_shape},
    {{"CLIENT", "LIST"}, expect::same_shape},
    {{"COMMAND", "COUNT"}},
    {{"COMMAND", "DOCS", "get"}},
    {{"CONFIG", "GET", "request-timeout-ms"}},
    {{"CONFIG", "SET", "request-timeout-ms", "600"}},
    {{"CONFIG", "SET", "maxclients", "100"}, expect::embedded_error},
    {{"CONFIG", "SET", "no-such-option", "5"}},
    {{"CONFIG", "RESETSTAT"}},
    {{"TIME"}, expect::same_shape},
    {{"DEBUG", "SLEEP-PARTITION", "0", "10"}},
    {{"SAVE"}},
    {{"BGSAVE"}},
    {{"LASTSAVE"}},
    {{"SLOWLOG", "RESET"}},
    {{"SLOWLOG", "GET", "0"}},
    {{"NOSUCHCOMMAND", "x"}},
    {{"GET"}},
    {{"FLUSHDB"}},
    {{"SET", "k", "v"}},
    {{"FLUSHALL"}},
    {{"DBSIZE"}},
    // Last: these end a connection (or the TCP front end) over TCP.
    {{"QUIT"}, expect::embedded_error},
    {{"SHUTDOWN", "NOSAVE"}, expect::embedded_error},
  };
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  otkv::store_actor embedded; ///< asked through execute_atom
  otkv::store_actor served;   ///< asked over TCP
  uint16_t port = 0;

  static caf::actor_system_config& with_middleman(caf::actor_system_config& c) {
    c.load<caf::io::middleman>();
    return c;
  }

  fixture() : sys(with_middleman(cfg)), self(sys) {
    otkv::store_config c;
    c.partitions = 4;
    embedded = otkv::spawn_store(sys, c);
    served = otkv::spawn_store(sys, c);
    self->request(served, std::chrono::seconds(10), otkv::listen_atom_v, std::string("127.0.0.1"),
                  uint16_t{0})
      .receive([&](uint16_t p) { port = p; }, [&](caf::error& e) { FAIL(to_string(e)); });
  }

  ~fixture() {
    for (auto& s : {embedded, served}) {
      self->send_exit(s, caf::exit_reason::user_shutdown);
      self->wait_for(s);
    }
  }

  std::string run_embedded(std::vector<std::string> args) {
    std::string out = "no reply";
    self->request(embedded, std::chrono::seconds(10), otkv::execute_atom_v, std::move(args))
      .receive([&](otkv::net::reply& r) { out = otkv::net::encode(r); },
               [&](caf::error& e) { out = "CAF " + to_string(e); });
    return out;
  }
};

} // namespace

TEST_CASE("every command answers through the embedding API what it answers over TCP",
          "[embedding]") {
  fixture f;
  REQUIRE(f.port != 0);
  resp_client tcp(f.port);
  std::set<std::string> covered;
  for (const auto& s : script()) {
    INFO("request: " << s.args[0] << (s.args.size() > 1 ? " " + s.args[1] : std::string()));
    otkv::net::reply refused;
    if (auto* c = otkv::cmd::resolve(s.args, refused)) // "cluster|countkeysinslot" too
      covered.insert(std::string(c->name));
    auto local = f.run_embedded(s.args);
    REQUIRE(!local.empty());
    if (s.how == expect::embedded_error) {
      CHECK(local.rfind("-ERR", 0) == 0);
      CHECK(local.find("does not apply to an embedded store") != std::string::npos);
      if (s.args[0] == "QUIT") // over TCP it is done: +OK, then the connection closes
        CHECK(resp_client(f.port).run(s.args) == "+OK\r\n");
      continue; // SHUTDOWN would stop the TCP front end: its TCP side is tested elsewhere
    }
    auto remote = tcp.run(s.args);
    if (s.how == expect::same) {
      CHECK(local == remote);
    } else {
      CHECK(local[0] == remote[0]);
      CHECK(local[0] != '-');
    }
  }
  // Every command in the table was asked.
  std::vector<std::string> missing;
  for (const auto& c : otkv::cmd::command_table())
    if (covered.count(std::string(c.name)) == 0)
      missing.emplace_back(c.name);
  INFO("commands without a request in script(): " << missing.size());
  for (const auto& name : missing)
    UNSCOPED_INFO(name);
  CHECK(missing.empty());
}

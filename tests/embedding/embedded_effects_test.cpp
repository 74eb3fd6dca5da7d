// Connection commands with effects beyond their reply (CONFIG SET, SAVE, BGSAVE, SHUTDOWN,
// QUIT) through the embedding API: each is performed, or answered with an error saying why
// it does not apply to an embedded store; none is acknowledged without its effect.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <otkv/otkv.hpp>

namespace {

/// An embedded store, in a temporary data directory when `with_dir`.
struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  otkv::store_actor store;
  std::string dir;

  explicit fixture(bool with_dir) {
    otkv::store_config c;
    c.partitions = 2;
    if (with_dir) {
      char tmpl[] = "/tmp/otkv-effects-XXXXXX";
      REQUIRE(::mkdtemp(tmpl) != nullptr);
      dir = c.dir = tmpl;
      c.save_interval = 0;
    }
    store = otkv::spawn_store(sys, c);
  }

  ~fixture() {
    self->send_exit(store, caf::exit_reason::user_shutdown);
    self->wait_for(store);
    if (!dir.empty())
      std::system(("rm -rf " + dir).c_str());
  }

  otkv::net::reply run(std::vector<std::string> args) {
    otkv::net::reply out = otkv::net::reply::error("no reply");
    self->request(store, std::chrono::seconds(30), otkv::execute_atom_v, std::move(args))
      .receive([&](otkv::net::reply& r) { out = std::move(r); },
               [&](caf::error& e) { out = otkv::net::reply::error("CAF " + to_string(e)); });
    return out;
  }
};

bool exists(const std::string& path) {
  struct stat sb {};
  return ::stat(path.c_str(), &sb) == 0;
}

} // namespace

TEST_CASE("CONFIG SET through the embedding API applies or refuses", "[embedding][effects]") {
  fixture f{false};
  auto r = f.run({"CONFIG", "SET", "no-such-option", "5"}); // before: +OK
  REQUIRE(r.is_error());
  CHECK(r.text == "ERR Unknown option or number of arguments for CONFIG SET - 'no-such-option'");
  r = f.run({"CONFIG", "SET", "request-timeout-ms", "abc"});
  REQUIRE(r.is_error());
  CHECK(r.text.rfind("ERR CONFIG SET failed (possibly related to argument 'request-timeout-ms')", 0)
        == 0);
  r = f.run({"CONFIG", "SET", "maxclients", "10"}); // a TCP front end's setting
  REQUIRE(r.is_error());
  CHECK(r.text.find("does not apply to an embedded store") != std::string::npos);
  // All or nothing: the valid first pair is not applied either.
  r = f.run({"CONFIG", "SET", "request-attempts", "3", "maxclients", "10"});
  CHECK(r.is_error());
  auto before = f.run({"CONFIG", "GET", "request-attempts"});
  REQUIRE(before.items.size() == 2);
  CHECK(before.items[1].text == "2");
  r = f.run({"CONFIG", "SET", "request-attempts", "3"});
  CHECK(r.type == otkv::net::reply::kind::status);
  auto got = f.run({"CONFIG", "GET", "request-attempts"});
  REQUIRE(got.items.size() == 2);
  CHECK(got.items[1].text == "3");
}

TEST_CASE("CONFIG GET through the embedding API describes the store", "[embedding][effects]") {
  fixture f{true};
  auto got = f.run({"CONFIG", "GET", "partitions", "dir", "appendonly"});
  REQUIRE(got.items.size() == 6);
  CHECK(got.items[1].text == "2");
  CHECK(got.items[3].text == f.dir);
  CHECK(got.items[5].text == "yes");
}

TEST_CASE("A data directory that cannot be used is refused", "[embedding]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  otkv::store_config c;
  c.dir = "/proc/version/otkv"; // below a file
  CHECK_THROWS_WITH(otkv::spawn_store(sys, c),
                    Catch::Contains("cannot create data directory /proc/version"));
}

TEST_CASE("SAVE through the embedding API writes a snapshot", "[embedding][effects]") {
  fixture f{true};
  CHECK(f.run({"SET", "k", "v"}).type == otkv::net::reply::kind::status);
  CHECK(f.run({"LASTSAVE"}).number == 0);
  auto r = f.run({"SAVE"}); // before: +OK, and no snapshot
  CHECK(r.type == otkv::net::reply::kind::status);
  CHECK(exists(f.dir + "/snapshot.otkv"));
  // LASTSAVE follows (the snapshot actor's announcement may arrive just after the reply).
  int64_t last = 0;
  for (int i = 0; i < 100 && last == 0; ++i)
    last = f.run({"LASTSAVE"}).number;
  CHECK(last > 0);
}

TEST_CASE("Without a data directory SAVE and BGSAVE say snapshots are off", "[embedding][effects]") {
  fixture f{false};
  for (const char* cmd : {"SAVE", "BGSAVE"}) {
    auto r = f.run({cmd});
    REQUIRE(r.is_error());
    CHECK(r.text == "ERR snapshots are off: the store has no data directory");
  }
}

TEST_CASE("SHUTDOWN and QUIT are refused, and the store keeps serving", "[embedding][effects]") {
  fixture f{false};
  auto r = f.run({"SHUTDOWN"}); // before: an empty reply, and the store kept serving
  REQUIRE(r.is_error());
  CHECK(r.text.find("SHUTDOWN does not apply to an embedded store") != std::string::npos);
  r = f.run({"QUIT"});
  REQUIRE(r.is_error());
  CHECK(r.text.find("no connection to close") != std::string::npos);
  CHECK(f.run({"SET", "k", "v"}).type == otkv::net::reply::kind::status);
  CHECK(f.run({"GET", "k"}).text == "v");
}

// The example from docs/embedding.md: an application that runs an OTKV store inside its
// own actor system, uses it through the typed handle, then opens its TCP port too.
// Exits 0 when every reply is what Redis would answer.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include <otkv/otkv.hpp>

namespace {

int failures = 0;

/// Sends `request` to 127.0.0.1:port and returns the first reply bytes.
std::string tcp_roundtrip(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0
      && ::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
    char buf[256];
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0)
      out.assign(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

void expect(bool ok, const std::string& what) {
  std::cout << (ok ? "ok   " : "FAIL ") << what << "\n";
  failures += ok ? 0 : 1;
}

} // namespace

int main() {
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>(); // only needed for listen_atom
  caf::actor_system sys{cfg};

  otkv::store_config store_cfg;
  store_cfg.partitions = 4; // memory only: no dir given
  otkv::store_actor store = otkv::spawn_store(sys, store_cfg);

  caf::scoped_actor self{sys};
  auto timeout = std::chrono::seconds(5);
  auto call = [&](auto... xs) {
    otkv::net::reply out = otkv::net::reply::error("no reply");
    self->request(store, timeout, xs...)
      .receive([&](otkv::net::reply& r) { out = std::move(r); },
               [&](caf::error& e) { out = otkv::net::reply::error(to_string(e)); });
    return out;
  };

  expect(call(caf::put_atom_v, std::string("greeting"), std::string("hello")).text == "OK",
         "SET greeting hello");
  expect(call(caf::get_atom_v, std::string("greeting")).text == "hello", "GET greeting");
  expect(call(otkv::exists_atom_v, std::string("greeting")).number == 1, "EXISTS greeting");
  expect(call(otkv::expire_atom_v, std::string("greeting"), int64_t{60}).number == 1,
         "EXPIRE greeting 60");
  auto incr = call(otkv::execute_atom_v, std::vector<std::string>{"INCRBY", "n", "5"});
  expect(incr.number == 5, "INCRBY n 5");
  auto mget = call(otkv::execute_atom_v,
                   std::vector<std::string>{"MGET", "greeting", "n", "missing"});
  expect(mget.items.size() == 3 && mget.items[1].text == "5"
           && mget.items[2].type == otkv::net::reply::kind::null,
         "MGET across partitions");
  expect(call(otkv::execute_atom_v, std::vector<std::string>{"NOSUCH"}).is_error(),
         "unknown command is an error reply");
  expect(call(caf::delete_atom_v, std::string("greeting")).number == 1, "DEL greeting");

  // The same store over TCP, on a port the OS picks.
  uint16_t port = 0;
  self->request(store, timeout, otkv::listen_atom_v, std::string("127.0.0.1"), uint16_t{0})
    .receive([&](uint16_t p) { port = p; }, [&](caf::error&) {});
  expect(port != 0, "listen on 127.0.0.1:" + std::to_string(port));
  expect(tcp_roundtrip(port, "GET n\r\n") == "$1\r\n5\r\n", "GET n over TCP");

  self->send_exit(store, caf::exit_reason::user_shutdown);
  self->wait_for(store);
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

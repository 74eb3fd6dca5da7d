// The transaction commands (docs/transactions.md). MULTI opens a transaction; the front
// end then queues every command but these (front_core::submit), answering +QUEUED, or an
// error that makes EXEC abort; EXEC asks the front end to run the queued commands as one
// step, with every partition they touch reserved; DISCARD drops them.

#include "commands/command_table.hpp"
#include "commands/errors.hpp"

namespace otkv::cmd {

namespace {

net::reply conn_multi(client_context& client, net::arg_list&) {
  if (client.tx.active)
    return err::multi_nested();
  client.tx = transaction_state{};
  client.tx.active = true;
  return net::reply::ok();
}

net::reply conn_exec(client_context& client, net::arg_list&) {
  if (!client.tx.active)
    return err::exec_without_multi();
  if (client.tx.failed) {
    client.tx = transaction_state{};
    client.watch = watch_state{};
    return err::execabort();
  }
  client.pending.what = effect::kind::exec; // the front end runs client.tx and answers
  return net::reply::null_array();
}

net::reply conn_discard(client_context& client, net::arg_list&) {
  if (!client.tx.active)
    return err::discard_without_multi();
  client.tx = transaction_state{};
  client.watch = watch_state{};
  return net::reply::ok();
}

net::reply conn_watch(client_context& client, net::arg_list&) {
  if (client.tx.active)
    return err::watch_inside_multi();
  client.pending.what = effect::kind::watch; // the front end registers the keys
  return net::reply::ok();
}

net::reply conn_unwatch(client_context& client, net::arg_list&) {
  client.watch = watch_state{}; // the tables forget the flag once nobody holds it
  return net::reply::ok();
}

} // namespace

bool runs_inside_multi(const command& c) {
  return c.on_connection == conn_multi || c.on_connection == conn_exec
         || c.on_connection == conn_discard || c.on_connection == conn_watch
         || c.name == "quit";
}

void register_transaction_family(command_registry& table) {
  using namespace shorthand;
  // clang-format off
  table.insert(table.end(), {
    // name     arity flags  keys      route handler  connection     merge    group          summary
    {"multi",    1,   F | L, 0, 0, 0,  C,    nullptr, conn_multi,    nullptr, "transactions", "Starts a transaction."},
    {"exec",     1,   L,     0, 0, 0,  C,    nullptr, conn_exec,     nullptr, "transactions", "Executes all commands in a transaction."},
    {"discard",  1,   F | L, 0, 0, 0,  C,    nullptr, conn_discard,  nullptr, "transactions", "Discards a transaction."},
    {"watch",   -2,   F | L, 1, -1, 1, C,    nullptr, conn_watch,    nullptr, "transactions", "Monitors changes to keys to determine the execution of a transaction."},
    {"unwatch",  1,   F | L, 0, 0, 0,  C,    nullptr, conn_unwatch,  nullptr, "transactions", "Forgets about watched keys of a transaction."},
  });
  // clang-format on
}

} // namespace otkv::cmd

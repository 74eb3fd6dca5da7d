// The server family: INFO and the connection commands (PING, HELLO, AUTH, CLIENT, COMMAND,
// CONFIG, DEBUG, SAVE, SLOWLOG, SHUTDOWN …), run on the connection;
// register_server_family adds one table row per command.

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "commands/command_table.hpp"
#include "commands/dispatch.hpp"
#include "commands/errors.hpp"
#include "net/integer.hpp"
#include "store/glob.hpp"
#include "store/key_hash.hpp"

namespace otkv::cmd {

namespace {

/// PING [message] → +PONG, or the message as a bulk.
net::reply conn_ping(client_context&, net::arg_list& args) {
  if (args.size() > 2)
    return err::arity("ping");
  return args.size() == 2 ? net::reply::bulk(args[1]) : net::reply::status("PONG");
}

/// ECHO message → the message.
net::reply conn_echo(client_context&, net::arg_list& args) {
  return net::reply::bulk(args[1]);
}

/// QUIT → +OK, then the connection closes.
net::reply conn_quit(client_context& client, net::arg_list&) {
  client.pending.what = effect::kind::close;
  return net::reply::ok();
}

/// SELECT index → +OK for database 0; OTKV has one database.
net::reply conn_select(client_context&, net::arg_list& args) {
  int64_t db = 0;
  if (!net::parse_int64(args[1], db))
    return err::not_integer();
  return db == 0 ? net::reply::ok() : err::db_index();
}

/// TIME → [unix seconds, microseconds].
net::reply conn_time(client_context&, net::arg_list&) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  return net::reply::array({net::reply::bulk(std::to_string(us / 1000000)),
                            net::reply::bulk(std::to_string(us % 1000000))});
}

/// One COMMAND INFO entry, in Redis 7's ten-element layout.
net::reply command_info(const command& c) {
  std::vector<net::reply> flags;
  auto add = [&](uint32_t f, const char* name) {
    if (c.flags & f)
      flags.push_back(net::reply::status(name));
  };
  add(flag::write, "write");
  add(flag::readonly, "readonly");
  add(flag::admin, "admin");
  add(flag::noauth, "no_auth");
  add(flag::loading, "loading");
  add(flag::stale, "stale");
  add(flag::fast, "fast");
  add(flag::blocking, "blocking");
  // As Redis: a numkeys command's keys are movable; its fixed range is its destination.
  bool movable = movable_keys(c), dest = c.last_key == dest_numkeys_last;
  if (movable)
    flags.push_back(net::reply::status("movablekeys"));
  int first = movable && !dest ? 0 : c.first_key, last = movable ? first : c.last_key;
  int step = movable && !dest ? 0 : c.key_step;
  std::vector<net::reply> categories;
  categories.push_back(net::reply::status("@" + std::string(c.group)));
  return net::reply::array({net::reply::bulk(std::string(c.name)), net::reply::integer(c.arity),
                            net::reply::array(std::move(flags)), net::reply::integer(first),
                            net::reply::integer(last), net::reply::integer(step),
                            net::reply::array(std::move(categories)), net::reply::array({}),
                            net::reply::array({}), net::reply::array({})});
}

/// One COMMAND DOCS entry: name followed by its doc map (a flat array in RESP2).
void command_docs(const command& c, std::vector<net::reply>& out) {
  out.push_back(net::reply::bulk(std::string(c.name)));
  out.push_back(net::reply::array({net::reply::bulk("summary"),
                                   net::reply::bulk(std::string(c.summary)),
                                   net::reply::bulk("since"), net::reply::bulk("1.0.0"),
                                   net::reply::bulk("group"),
                                   net::reply::bulk(std::string(c.group))}));
}

/// COMMAND [COUNT | LIST | INFO name… | DOCS name… | HELP] → command metadata.
net::reply conn_command(client_context&, net::arg_list& args) {
  // Rows of subcommands ("cluster|getkeysinslot") are listed under their command.
  std::vector<const command*> table;
  for (const auto& c : command_table())
    if (c.name.find('|') == std::string_view::npos)
      table.push_back(&c);
  std::vector<net::reply> out;
  if (args.size() == 1) {
    for (const auto* c : table)
      out.push_back(command_info(*c));
    return net::reply::array(std::move(out));
  }
  const auto& sub = args[1];
  if (iequals(sub, "count") && args.size() == 2)
    return net::reply::integer(static_cast<int64_t>(table.size()));
  if (iequals(sub, "list") && args.size() == 2) {
    for (const auto* c : table)
      out.push_back(net::reply::bulk(std::string(c->name)));
    return net::reply::array(std::move(out));
  }
  if (iequals(sub, "info")) {
    if (args.size() == 2)
      for (const auto* c : table)
        out.push_back(command_info(*c));
    for (size_t i = 2; i < args.size(); ++i) {
      const command* c = find_command(args[i]);
      out.push_back(c ? command_info(*c) : net::reply::null_array());
    }
    return net::reply::array(std::move(out));
  }
  if (iequals(sub, "docs")) {
    if (args.size() == 2)
      for (const auto* c : table)
        command_docs(*c, out);
    for (size_t i = 2; i < args.size(); ++i)
      if (const command* c = find_command(args[i]))
        command_docs(*c, out);
    return net::reply::array(std::move(out));
  }
  if (iequals(sub, "help") && args.size() == 2)
    return net::reply::array({net::reply::status("COMMAND [COUNT|LIST|INFO name...|DOCS name...]")});
  return err::unknown_subcommand(sub, "command");
}

/// Whether a client name is acceptable (Redis: printable ASCII, no spaces).
bool valid_client_name(const std::string& name) {
  for (unsigned char c : name)
    if (c < '!' || c > '~')
      return false;
  return true;
}

std::string client_info_line(const client_context& c) {
  std::string s = "id=" + std::to_string(c.id) + " addr=" + c.addr + " laddr=" + c.laddr
                  + " name=" + c.name + " age=" + std::to_string((c.now - c.created_ms) / 1000)
                  + " db=0 lib-name=" + c.lib_name + " lib-ver=" + c.lib_ver + "\n";
  return s;
}

/// CLIENT SETNAME|GETNAME|SETINFO|ID|INFO|LIST|NO-EVICT|NO-TOUCH|HELP.
net::reply conn_client(client_context& client, net::arg_list& args) {
  const auto& sub = args[1];
  if (iequals(sub, "setname") && args.size() == 3) {
    if (!valid_client_name(args[2]))
      return err::client_name();
    client.name = args[2];
    return net::reply::ok();
  }
  if (iequals(sub, "getname") && args.size() == 2)
    return client.name.empty() ? net::reply::null() : net::reply::bulk(client.name);
  if (iequals(sub, "setinfo") && args.size() == 4) {
    if (!valid_client_name(args[3]))
      return err::client_info_value(args[2]);
    if (iequals(args[2], "lib-name"))
      client.lib_name = args[3];
    else if (iequals(args[2], "lib-ver"))
      client.lib_ver = args[3];
    else
      return err::unrecognized_option(args[2]);
    return net::reply::ok();
  }
  if (iequals(sub, "id") && args.size() == 2)
    return net::reply::integer(static_cast<int64_t>(client.id));
  if (iequals(sub, "info") && args.size() == 2)
    return net::reply::bulk(client_info_line(client));
  if (iequals(sub, "list") && args.size() == 2) {
    if (needs_gather(client)) { // the other shards' clients too
      client.pending.what = effect::kind::gather;
      return net::reply::ok();
    }
    if (!client.info || !client.info->client_list)
      return net::reply::bulk(client_info_line(client));
    return net::reply::bulk(client.info->client_list()
                            + (client.counters ? client.counters->other_clients : ""));
  }
  if ((iequals(sub, "no-evict") || iequals(sub, "no-touch")) && args.size() == 3)
    return net::reply::ok();
  if (iequals(sub, "help") && args.size() == 2)
    return net::reply::array({net::reply::status(
      "CLIENT SETNAME|GETNAME|SETINFO|ID|INFO|LIST|NO-EVICT|NO-TOUCH")});
  return err::unknown_subcommand(sub, "client");
}

/// Compares a given password with the secret in time that depends only on the
/// secret's length, not on where they differ.
bool constant_time_equal(const std::string& given, const std::string& secret) {
  unsigned char diff = given.size() != secret.size() ? 1 : 0;
  for (size_t i = 0; i < secret.size(); ++i)
    diff |= static_cast<unsigned char>((i < given.size() ? given[i] : 0) ^ secret[i]);
  return diff == 0;
}

/// Checks `user`/`password` (user "default" is the only one) and marks the client.
net::reply authenticate(client_context& client, const std::string& user,
                        const std::string& password) {
  const server_info* s = client.info;
  if (s == nullptr || s->requirepass.empty())
    return err::auth_not_configured();
  if (!iequals(user, "default") || !constant_time_equal(password, s->requirepass)) {
    client.pending.what = effect::kind::auth_failed;
    return err::wrongpass();
  }
  client.authenticated = true;
  return net::reply::ok();
}

/// HELLO [protover [AUTH user password] [SETNAME name]] → the server's description (RESP2 only).
net::reply conn_hello(client_context& client, net::arg_list& args) {
  if (args.size() >= 2) {
    int64_t ver = 0;
    if (!net::parse_int64(args[1], ver))
      return err::protocol_version();
    if (ver != 2)
      return err::noproto();
    for (size_t i = 2; i < args.size(); ++i) {
      if (iequals(args[i], "setname") && i + 1 < args.size()) {
        if (!valid_client_name(args[i + 1]))
          return err::client_name();
        client.name = args[++i];
      } else if (iequals(args[i], "auth") && i + 2 < args.size()) {
        auto r = authenticate(client, args[i + 1], args[i + 2]);
        if (r.is_error())
          return r;
        i += 2;
      } else {
        return err::hello_option(args[i]);
      }
    }
  }
  if (!client.authenticated)
    return err::hello_noauth();
  std::string version = client.info ? client.info->version : "";
  return net::reply::array(
    {net::reply::bulk("server"), net::reply::bulk("otkv"), net::reply::bulk("version"),
     net::reply::bulk(version), net::reply::bulk("proto"), net::reply::integer(2),
     net::reply::bulk("id"), net::reply::integer(static_cast<int64_t>(client.id)),
     net::reply::bulk("mode"), net::reply::bulk("standalone"), net::reply::bulk("role"),
     net::reply::bulk("master"), net::reply::bulk("modules"), net::reply::array({})});
}

/// AUTH [user] password → +OK, or -WRONGPASS (or an error when no password is set).
net::reply conn_auth(client_context& client, net::arg_list& args) {
  if (args.size() > 3)
    return err::syntax();
  return args.size() == 2 ? authenticate(client, "default", args[1])
                          : authenticate(client, args[1], args[2]);
}

/// CONFIG GET pattern [pattern …] → flat array of matching name, value pairs.
net::reply conn_config(client_context& client, net::arg_list& args) {
  if (iequals(args[1], "get") && args.size() >= 3) {
    std::vector<net::reply> out;
    if (client.info)
      for (const auto& [name, value] : client.info->config)
        for (size_t i = 2; i < args.size(); ++i)
          if (store::glob_match(args[i], name, true)) {
            out.push_back(net::reply::bulk(name));
            out.push_back(net::reply::bulk(value));
            break;
          }
    return net::reply::array(std::move(out));
  }
  if (iequals(args[1], "set") && args.size() >= 4 && args.size() % 2 == 0) {
    client.pending.what = effect::kind::config_set;
    for (size_t i = 2; i + 1 < args.size(); i += 2)
      client.pending.config.emplace_back(to_lower(args[i]), args[i + 1]);
    return net::reply::ok(); // the front end applies the change and answers instead
  }
  if (iequals(args[1], "resetstat") && args.size() == 2) {
    if (client.counters)
      reset_counters(*client.counters, false);
    if (client.info && client.info->shards > 1) // and the other shards' counters
      client.pending.what = effect::kind::reset_stats;
    return net::reply::ok();
  }
  if (iequals(args[1], "get") || iequals(args[1], "resetstat") || iequals(args[1], "set"))
    return err::arity("config|" + to_lower(args[1]));
  return err::unknown_subcommand(args[1], "config");
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] → no reply; the server drains, flushes the op
/// log, takes a snapshot with SAVE (or by default when the op log is off and snapshots
/// are on, unless NOSAVE), and exits.
net::reply conn_shutdown(client_context& client, net::arg_list& args) {
  bool save = false, nosave = false;
  for (size_t i = 1; i < args.size(); ++i) {
    if (iequals(args[i], "save"))
      save = true;
    else if (iequals(args[i], "nosave"))
      nosave = true;
    else if (!iequals(args[i], "now") && !iequals(args[i], "force"))
      return err::syntax();
  }
  if (save && nosave)
    return err::syntax();
  client.pending.what = effect::kind::shutdown;
  client.pending.save = save     ? effect::save_choice::save
                        : nosave ? effect::save_choice::nosave
                                 : effect::save_choice::configured;
  return net::reply::raw({});
}

/// DEBUG PARTITION-OF key | SLEEP-PARTITION p ms | CRASH-PARTITION p | DROP-PARTITION p n
/// → the key's partition, or +OK once the fault is handed to the worker.
net::reply conn_debug(client_context& client, net::arg_list& args) {
  const server_info* s = client.info;
  if (s == nullptr || !s->debug_enabled)
    return err::debug_disabled();
  const auto& sub = args[1];
  if (iequals(sub, "partition-of") && args.size() == 3)
    return net::reply::integer(store::partition_of(args[2], s->partitions));
  auto partition_arg = [&](uint32_t& p) {
    int64_t v = 0;
    if (!net::parse_int64(args[2], v) || v < 0 || v >= static_cast<int64_t>(s->partitions))
      return false;
    p = static_cast<uint32_t>(v);
    return true;
  };
  fault_request f;
  int64_t value = 0;
  if (iequals(sub, "sleep-partition") && args.size() == 4)
    f.what = fault_request::kind::sleep;
  else if (iequals(sub, "crash-partition") && args.size() == 3)
    f.what = fault_request::kind::crash;
  else if (iequals(sub, "drop-partition") && args.size() == 4)
    f.what = fault_request::kind::drop;
  else
    return err::unknown_subcommand(sub, "debug");
  if (!partition_arg(f.partition))
    return err::no_such_partition();
  if (args.size() == 4) {
    if (!net::parse_int64(args[3], value) || value < 0 || value > 3600000)
      return err::not_integer();
    f.value = static_cast<uint64_t>(value);
  }
  client.pending.what = effect::kind::fault;
  client.pending.fault = f;
  return net::reply::ok();
}

/// SAVE → +OK once a snapshot is on disk (the broker answers when it is).
net::reply conn_save(client_context& client, net::arg_list&) {
  client.pending.what = effect::kind::save;
  return net::reply::ok();
}

/// BGSAVE [SCHEDULE] → +Background saving started; the snapshot is taken meanwhile.
net::reply conn_bgsave(client_context& client, net::arg_list& args) {
  if (args.size() > 2 || (args.size() == 2 && !iequals(args[1], "schedule")))
    return err::syntax();
  client.pending.what = effect::kind::bgsave;
  return net::reply::status("Background saving started");
}

/// LASTSAVE → Unix time of the last successful snapshot (0 if none yet).
net::reply conn_lastsave(client_context& client, net::arg_list&) {
  return net::reply::integer(client.counters ? client.counters->last_save_ms / 1000 : 0);
}

/// SLOWLOG GET [count] | LEN | RESET | HELP: the commands that ran at least
/// slowlog-log-slower-than microseconds, newest first.
net::reply conn_slowlog(client_context& client, net::arg_list& args) {
  static command_stats none;
  auto& stats = client.counters ? client.counters->stats : none;
  const auto& sub = args[1];
  if ((iequals(sub, "get") || iequals(sub, "len")) && args.size() <= 3 && needs_gather(client)) {
    client.pending.what = effect::kind::gather; // every shard's slow log
    return net::reply::ok();
  }
  if (iequals(sub, "get") && args.size() <= 3) {
    int64_t count = 10;
    if (args.size() == 3 && (!net::parse_int64(args[2], count) || count < -1))
      return err::slowlog_count();
    size_t n = count == -1 ? stats.slowlog.size()
                           : std::min(stats.slowlog.size(), static_cast<size_t>(count));
    std::vector<net::reply> out;
    for (size_t i = 0; i < n; ++i) {
      const auto& e = stats.slowlog[i];
      std::vector<net::reply> words;
      for (const auto& a : e.args)
        words.push_back(net::reply::bulk(a));
      out.push_back(net::reply::array(
        {net::reply::integer(static_cast<int64_t>(e.id)), net::reply::integer(e.unix_time),
         net::reply::integer(static_cast<int64_t>(e.duration_us)),
         net::reply::array(std::move(words)), net::reply::bulk(e.client_addr),
         net::reply::bulk(e.client_name)}));
    }
    return net::reply::array(std::move(out));
  }
  if (iequals(sub, "len") && args.size() == 2)
    return net::reply::integer(static_cast<int64_t>(stats.slowlog.size()));
  if (iequals(sub, "reset") && args.size() == 2) {
    stats.slowlog.clear();
    if (client.info && client.info->shards > 1) { // and the other shards' slow logs
      client.pending.what = effect::kind::reset_stats;
      client.pending.slowlog_only = true;
    }
    return net::reply::ok();
  }
  if (iequals(sub, "help") && args.size() == 2)
    return net::reply::array(
      {net::reply::status("SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"),
       net::reply::status("GET [<count>]"),
       net::reply::status("    Return top <count> entries from the slowlog (default: 10, -1 "
                          "mean all)."),
       net::reply::status("    Entries are made of:"),
       net::reply::status("    id, timestamp, time in microseconds, arguments array, client "
                          "IP and port,"),
       net::reply::status("    client name"),
       net::reply::status("LEN"),
       net::reply::status("    Return the length of the slowlog."),
       net::reply::status("RESET"),
       net::reply::status("    Reset the slowlog."),
       net::reply::status("HELP"),
       net::reply::status("    Print this help.")});
  if (iequals(sub, "get") || iequals(sub, "len") || iequals(sub, "reset"))
    return err::arity("slowlog|" + to_lower(sub));
  return err::unknown_subcommand(sub, "slowlog");
}

/// Whether INFO with `args` shows `section`: named, or in "all"/"everything", or in
/// the default set (no argument, or "default"), which leaves out the per-command ones.
bool wants(const net::arg_list& args, std::string_view section) {
  bool in_default = section != "commandstats" && section != "latencystats";
  if (args.size() == 1)
    return in_default;
  for (size_t i = 1; i < args.size(); ++i)
    if (iequals(args[i], section) || iequals(args[i], "all") || iequals(args[i], "everything")
        || (in_default && iequals(args[i], "default")))
      return true;
  return false;
}

/// A number with `decimals` digits after the point.
std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

void field(std::string& out, std::string_view name, const std::string& value) {
  out.append(name.data(), name.size());
  out += ':';
  out += value;
  out += "\r\n";
}

void field(std::string& out, std::string_view name, uint64_t value) {
  field(out, name, std::to_string(value));
}

/// Internal part of INFO → [keys, keys with a deadline, keys expired so far].
net::reply op_partition_stats(op_context& ctx, const net::arg_list&) {
  return net::reply::array({net::reply::integer(static_cast<int64_t>(ctx.data.size())),
                            net::reply::integer(static_cast<int64_t>(ctx.data.expiring())),
                            net::reply::integer(static_cast<int64_t>(ctx.data.expired_keys()))});
}

/// INFO [section …] → bulk text with the server, clients, stats and keyspace sections;
/// `fanout.results` holds each partition's [keys, expiring, expired].
net::reply merge_info(client_context& client, fanout& f) {
  uint64_t keys = 0, expiring = 0, expired = 0;
  for (const auto& r : f.results) {
    if (r.items.size() != 3)
      continue;
    keys += static_cast<uint64_t>(r.items[0].number);
    expiring += static_cast<uint64_t>(r.items[1].number);
    expired += static_cast<uint64_t>(r.items[2].number);
  }
  server_context none; // a front end without a server: nothing to report
  const server_info& s = client.info ? *client.info : none.info;
  const server_counters& counts = client.counters ? *client.counters : none.counters;
  std::string out;
  const auto& args = f.args;
  if (wants(args, "server")) {
    int64_t uptime = (client.now - s.started_ms) / 1000;
    out += "# Server\r\n";
    field(out, "redis_version", "7.0.0");
    field(out, "otkv_version", s.version);
    field(out, "redis_mode", "standalone");
    field(out, "os", "Linux");
    field(out, "arch_bits", "64");
    field(out, "multiplexing_api", "epoll");
    field(out, "process_id", static_cast<uint64_t>(s.pid));
    field(out, "tcp_port", s.port);
    field(out, "uptime_in_seconds", static_cast<uint64_t>(uptime));
    field(out, "uptime_in_days", static_cast<uint64_t>(uptime / 86400));
    field(out, "executable", s.executable);
    field(out, "config_file", s.config_file);
    field(out, "partitions", s.partitions);
    out += "\r\n";
  }
  if (wants(args, "clients")) {
    out += "# Clients\r\n";
    field(out, "connected_clients", counts.connected_clients);
    field(out, "blocked_clients", counts.blocked_clients);
    out += "\r\n";
  }
  if (wants(args, "stats")) {
    out += "# Stats\r\n";
    field(out, "total_connections_received", counts.total_connections);
    field(out, "total_commands_processed", counts.total_commands);
    field(out, "total_net_input_bytes", counts.net_input_bytes);
    field(out, "total_net_output_bytes", counts.net_output_bytes);
    field(out, "rejected_connections", counts.rejected_connections);
    field(out, "expired_keys", expired);
    out += "\r\n";
  }
  if (wants(args, "persistence")) {
    out += "# Persistence\r\n";
    field(out, "loading", "0");
    field(out, "rdb_last_save_time", static_cast<uint64_t>(counts.last_save_ms / 1000));
    field(out, "rdb_last_bgsave_status", counts.last_save_ok ? "ok" : "err");
    field(out, "aof_enabled", s.aof_enabled ? "1" : "0");
    field(out, "aof_last_write_status",
          s.log_error && s.log_error->load(std::memory_order_relaxed) != 0 ? "err" : "ok");
    field(out, "otkv_appendfsync", s.appendfsync);
    field(out, "otkv_recovery", s.recovery_summary);
    out += "\r\n";
  }
  if (wants(args, "partitions")) {
    out += "# Partitions\r\n";
    partition_stats total, forwarded; // forwarded: to other nodes' partitions (a cluster)
    for (size_t i = 0; i < counts.partition_counters.size(); ++i) {
      const auto& p = counts.partition_counters[i];
      if (i >= s.partitions) {
        forwarded.requests += p.requests;
        forwarded.timeouts += p.timeouts;
        continue;
      }
      out += "partition" + std::to_string(i) + ":requests=" + std::to_string(p.requests)
             + ",timeouts=" + std::to_string(p.timeouts) + ",resends=" + std::to_string(p.resends)
             + ",restarts=" + std::to_string(p.restarts)
             + ",last_restart=" + std::to_string(p.last_restart_ms / 1000) + "\r\n";
      total.requests += p.requests;
      total.timeouts += p.timeouts;
      total.resends += p.resends;
      total.restarts += p.restarts;
    }
    field(out, "total_partition_requests", total.requests);
    field(out, "total_partition_timeouts", total.timeouts);
    field(out, "total_partition_resends", total.resends);
    field(out, "total_worker_restarts", total.restarts);
    if (s.cluster) {
      field(out, "total_forwarded_requests", forwarded.requests);
      field(out, "total_forwarded_failures", forwarded.timeouts);
    }
    out += "\r\n";
  }
  if (wants(args, "commandstats")) {
    out += "# Commandstats\r\n";
    const auto& table = command_table();
    for (size_t i = 0; i < table.size() && i < counts.stats.counters.size(); ++i) {
      const auto& k = counts.stats.counters[i];
      if (k.calls == 0 && k.rejected_calls == 0 && k.failed_calls == 0)
        continue;
      double us = static_cast<double>(k.ns) / 1000.0;
      out += "cmdstat_" + std::string(table[i].name) + ":calls=" + std::to_string(k.calls)
             + ",usec=" + std::to_string(k.ns / 1000) + ",usec_per_call="
             + fixed(k.calls > 0 ? us / static_cast<double>(k.calls) : 0.0, 2)
             + ",rejected_calls=" + std::to_string(k.rejected_calls)
             + ",failed_calls=" + std::to_string(k.failed_calls) + "\r\n";
    }
    out += "\r\n";
  }
  if (wants(args, "latencystats")) {
    out += "# Latencystats\r\n";
    const auto& table = command_table();
    for (size_t i = 0; i < table.size() && i < counts.stats.counters.size(); ++i) {
      const auto& h = counts.stats.counters[i].latency;
      if (!h || h->count() == 0)
        continue;
      auto us = [&](double p) { return fixed(static_cast<double>(h->percentile(p)) / 1000.0, 3); };
      out += "latency_percentiles_usec_" + std::string(table[i].name) + ":p50=" + us(50)
             + ",p99=" + us(99) + ",p99.9=" + us(99.9) + "\r\n";
    }
    out += "\r\n";
  }
  if (wants(args, "replication")) {
    out += "# Replication\r\n";
    if (s.cluster && s.cluster->replicated())
      out += s.cluster->replication_info();
    else
      out += "role:master\r\nconnected_slaves:0\r\n";
    out += "\r\n";
  }
  if (wants(args, "cluster")) {
    out += "# Cluster\r\n";
    out += cluster_info_section(s);
    out += "\r\n";
  }
  if (wants(args, "keyspace")) {
    out += "# Keyspace\r\n";
    if (keys > 0)
      out += "db0:keys=" + std::to_string(keys) + ",expires=" + std::to_string(expiring)
             + ",avg_ttl=0\r\n";
  }
  return net::reply::bulk(std::move(out));
}

} // namespace

void register_server_family(command_registry& table) {
  using namespace shorthand;
  // clang-format off
  table.insert(table.end(), {
    // name        arity flags     keys       route handler         connection      merge          group          summary
    {"info",       -1,  SW,        0,  0, 0,  NODE, op_partition_stats, nullptr,     merge_info,    "server",     "Returns information and statistics about the server."},
    {"ping",       -1,  F,         0,  0, 0,  C,   nullptr,         conn_ping,      nullptr,       "connection", "Returns the server's liveliness response."},
    {"echo",        2,  F,         0,  0, 0,  C,   nullptr,         conn_echo,      nullptr,       "connection", "Returns the given string."},
    {"quit",       -1,  N | F,     0,  0, 0,  C,   nullptr,         conn_quit,      nullptr,       "connection", "Closes the connection."},
    {"select",      2,  L | F,     0,  0, 0,  C,   nullptr,         conn_select,    nullptr,       "connection", "Changes the selected database."},
    {"hello",      -1,  N | F,     0,  0, 0,  C,   nullptr,         conn_hello,     nullptr,       "connection", "Handshakes with the server."},
    {"auth",       -2,  N | F,     0,  0, 0,  C,   nullptr,         conn_auth,      nullptr,       "connection", "Authenticates the connection."},
    {"client",     -2,  0,         0,  0, 0,  C,   nullptr,         conn_client,    nullptr,       "connection", "A container for client connection commands."},
    {"command",    -1,  L,         0,  0, 0,  C,   nullptr,         conn_command,   nullptr,       "server",     "Returns detailed information about all commands."},
    {"config",     -2,  A,         0,  0, 0,  C,   nullptr,         conn_config,    nullptr,       "server",     "A container for server configuration commands."},
    {"time",        1,  F,         0,  0, 0,  C,   nullptr,         conn_time,      nullptr,       "server",     "Returns the server time."},
    {"debug",      -2,  A,         0,  0, 0,  C,   nullptr,         conn_debug,     nullptr,       "server",     "Fault injection for tests (needs --enable-debug-command yes)."},
    {"save",        1,  A,         0,  0, 0,  C,   nullptr,         conn_save,      nullptr,       "server",     "Synchronously saves the database to disk."},
    {"bgsave",     -1,  A,         0,  0, 0,  C,   nullptr,         conn_bgsave,    nullptr,       "server",     "Asynchronously saves the database to disk."},
    {"lastsave",    1,  F,         0,  0, 0,  C,   nullptr,         conn_lastsave,  nullptr,       "server",     "Returns the Unix timestamp of the last successful save to disk."},
    {"slowlog",    -2,  A,         0,  0, 0,  C,   nullptr,         conn_slowlog,   nullptr,       "server",     "A container for slow log commands."},
    {"shutdown",   -1,  A | L,     0,  0, 0,  C,   nullptr,         conn_shutdown,  nullptr,       "server",     "Stops the server, draining what is in flight."},
  });
  // clang-format on
}

} // namespace otkv::cmd

// The cluster family: CLUSTER (KEYSLOT, MYID, INFO, NODES, SLOTS, SHARDS,
// COUNTKEYSINSLOT, GETKEYSINSLOT), READONLY, READWRITE and ASKING, in Redis Cluster's
// formats, so cluster clients (redis-cli -c, redis-py's RedisCluster) find the nodes.

#include <string>

#include <limits>

#include "commands/command_table.hpp"
#include "commands/dispatch.hpp"
#include "commands/errors.hpp"
#include "net/integer.hpp"

namespace otkv::cmd {

namespace {

using cluster::slot_count;

/// A slot number argument: 0 to 16383.
bool parse_slot(const std::string& text, uint16_t& slot) {
  int64_t n = 0;
  if (!net::parse_int64(text, n) || n < 0 || n >= int64_t{slot_count})
    return false;
  slot = static_cast<uint16_t>(n);
  return true;
}

/// "first-last" (or "first" for one slot), as CLUSTER NODES writes a range.
std::string range_text(cluster::slot_range r) {
  return r.first == r.last ? std::to_string(r.first)
                           : std::to_string(r.first) + "-" + std::to_string(r.last);
}

/// Slots served by nodes that cannot be reached now.
uint32_t failed_slots(const cluster::view& v) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < v.nodes(); ++i)
    if (!v.up(i))
      for (auto r : v.ranges(i))
        n += uint32_t{r.last} - r.first + 1;
  return n;
}

/// CLUSTER INFO's text.
std::string info_text(const cluster::view& v) {
  uint32_t failed = failed_slots(v);
  std::string out;
  auto field = [&](const char* name, const std::string& value) {
    out += name;
    out += ':';
    out += value;
    out += "\r\n";
  };
  field("cluster_enabled", "1");
  field("cluster_state", v.ok() ? "ok" : "fail");
  field("cluster_slots_assigned", std::to_string(slot_count));
  field("cluster_slots_ok", std::to_string(slot_count - failed));
  field("cluster_slots_pfail", "0");
  field("cluster_slots_fail", std::to_string(failed));
  field("cluster_known_nodes", std::to_string(v.nodes()));
  field("cluster_size", std::to_string(v.nodes()));
  field("cluster_current_epoch", std::to_string(v.nodes()));
  field("cluster_my_epoch", std::to_string(v.self() + 1));
  field("cluster_reachable_nodes", std::to_string(v.reachable()));
  field("cluster_redirect", v.redirect() ? "yes" : "no");
  if (auto move = v.move_status(); !move.empty())
    field("cluster_move", move);
  return out;
}

/// CLUSTER NODES' text: one line per node, as Redis writes nodes.conf.
std::string nodes_text(const cluster::view& v, store::millis now) {
  std::string out;
  for (uint32_t i = 0; i < v.nodes(); ++i) {
    const auto& n = v.config().nodes[i];
    bool up = v.up(i);
    uint32_t head = v.head_of(i); // a chain's other nodes are its head's replicas
    out += n.id + " " + n.host + ":" + std::to_string(n.port) + "@"
           + std::to_string(n.cluster_port) + " " + (i == v.self() ? "myself," : "")
           + (head == i ? "master" : "slave") + (up ? "" : ",fail") + " "
           + (head == i ? std::string("-") : v.config().nodes[head].id) + " 0 "
           + std::to_string(up ? now : 0) + " " + std::to_string(v.chain_of(i) + 1) + " "
           + (up ? "connected" : "disconnected");
    for (auto r : v.ranges(i))
      out += " " + range_text(r);
    out += "\n";
  }
  return out;
}

/// A node as CLUSTER SLOTS lists it: [host, port, id, {}].
net::reply slots_node(const cluster::node_config& n) {
  return net::reply::array({net::reply::bulk(n.host), net::reply::integer(n.port),
                            net::reply::bulk(n.id), net::reply::array({})});
}

/// CLUSTER SLOTS: [first, last, node, …] per range: the chain's head, then the rest of
/// its chain in order (Redis: the master, then its replicas).
net::reply slots_reply(const cluster::view& v) {
  std::vector<net::reply> out;
  for (uint32_t i = 0; i < v.nodes(); ++i)
    for (auto r : v.ranges(i)) {
      std::vector<net::reply> range{net::reply::integer(r.first), net::reply::integer(r.last)};
      for (auto n : v.chain(v.chain_of(i)))
        range.push_back(slots_node(v.config().nodes[n]));
      out.push_back(net::reply::array(std::move(range)));
    }
  return net::reply::array(std::move(out));
}

/// CLUSTER SHARDS: per node {slots: [first, last, …], nodes: [{id, port, ip, endpoint,
/// role, replication-offset, health}]} (maps as flat arrays, RESP2).
net::reply shards_reply(const cluster::view& v) {
  std::vector<net::reply> out;
  for (const auto& chain : v.chains()) { // a shard per chain: its head is the master
    std::vector<net::reply> slots;
    for (auto r : v.ranges(chain.front())) {
      slots.push_back(net::reply::integer(r.first));
      slots.push_back(net::reply::integer(r.last));
    }
    std::vector<net::reply> nodes;
    for (auto i : chain) {
      const auto& n = v.config().nodes[i];
      nodes.push_back(net::reply::array({
        net::reply::bulk("id"), net::reply::bulk(n.id),
        net::reply::bulk("port"), net::reply::integer(n.port),
        net::reply::bulk("ip"), net::reply::bulk(n.host),
        net::reply::bulk("endpoint"), net::reply::bulk(n.host),
        net::reply::bulk("role"), net::reply::bulk(i == chain.front() ? "master" : "replica"),
        net::reply::bulk("replication-offset"), net::reply::integer(0),
        net::reply::bulk("health"), net::reply::bulk(v.up(i) ? "online" : "failed"),
      }));
    }
    out.push_back(net::reply::array({net::reply::bulk("slots"), net::reply::array(std::move(slots)),
                                     net::reply::bulk("nodes"),
                                     net::reply::array(std::move(nodes))}));
  }
  return net::reply::array(std::move(out));
}

/// CLUSTER subcommand … → what the node knows of its cluster. (COUNTKEYSINSLOT and
/// GETKEYSINSLOT have rows of their own: they read the partitions.)
net::reply conn_cluster(client_context& client, net::arg_list& args) {
  const auto& sub = args[1];
  if (iequals(sub, "keyslot")) {
    if (args.size() != 3)
      return err::arity("cluster|keyslot");
    return net::reply::integer(cluster::key_slot(args[2]));
  }
  if (iequals(sub, "help"))
    return net::reply::array({
      net::reply::status("CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"),
      net::reply::status("COUNTKEYSINSLOT <slot>, GETKEYSINSLOT <slot> <count>, INFO, KEYSLOT "
                         "<key>, MOVESLOTS <first> <last> <node-id>, MYID, NODES, SHARDS, "
                         "SLOTS, HELP"),
    });
  const auto* v = client.info->cluster.get();
  if (v == nullptr)
    return err::cluster_disabled();
  if (iequals(sub, "moveslots")) {
    uint16_t first = 0, last = 0;
    if (args.size() != 5)
      return err::arity("cluster|moveslots");
    if (!parse_slot(args[2], first) || !parse_slot(args[3], last) || last < first)
      return err::invalid_slot();
    if (v->node_of_id(args[4]) < 0)
      return err::unknown_node(args[4]);
    client.pending.what = effect::kind::move_slots;
    client.pending.args = {args[2], args[3], args[4]};
    return net::reply::ok();
  }
  if (args.size() != 2)
    return err::unknown_subcommand(sub, "cluster");
  if (iequals(sub, "myid"))
    return net::reply::bulk(v->myself().id);
  if (iequals(sub, "info"))
    return net::reply::bulk(info_text(*v));
  if (iequals(sub, "nodes"))
    return net::reply::bulk(nodes_text(*v, client.now));
  if (iequals(sub, "slots"))
    return slots_reply(*v);
  if (iequals(sub, "shards"))
    return shards_reply(*v);
  return err::unknown_subcommand(sub, "cluster");
}

/// ASKING → +OK in a cluster (slots move whole here: there is no -ASK to follow).
net::reply conn_cluster_ok(client_context& client, net::arg_list&) {
  if (!client.info->cluster)
    return err::cluster_disabled();
  return net::reply::ok();
}

/// READONLY / READWRITE → +OK in a cluster. After READONLY, the connection's reads on a
/// node of a replication chain answer the local newest version at once, possibly stale;
/// a redirecting node serves them for its chain's slots instead of answering -MOVED.
net::reply conn_readonly(client_context& client, net::arg_list& args) {
  if (!client.info->cluster)
    return err::cluster_disabled();
  client.readonly = iequals(args[0], "readonly");
  return net::reply::ok();
}

/// Part of CLUSTER COUNTKEYSINSLOT slot → this partition's keys in the slot.
net::reply op_countkeysinslot(op_context& ctx, const net::arg_list& args) {
  uint16_t slot = 0;
  if (!parse_slot(args[2], slot))
    return err::invalid_slot();
  int64_t n = 0;
  ctx.data.for_each(ctx.now, [&](const store::entry& e) { n += cluster::key_slot(e.key()) == slot; });
  return net::reply::integer(n);
}

/// Part of CLUSTER GETKEYSINSLOT slot count → up to `count` of this partition's keys in
/// the slot.
net::reply op_getkeysinslot(op_context& ctx, const net::arg_list& args) {
  uint16_t slot = 0;
  int64_t count = 0;
  if (!parse_slot(args[2], slot))
    return err::invalid_slot();
  if (!net::parse_int64(args[3], count) || count < 0)
    return err::invalid_key_count();
  std::vector<net::reply> out;
  ctx.data.for_each(ctx.now, [&](const store::entry& e) {
    if (static_cast<int64_t>(out.size()) < count && cluster::key_slot(e.key()) == slot)
      out.push_back(net::reply::bulk(std::string(e.key())));
  });
  return net::reply::array(std::move(out));
}

/// Part of CLUSTER DUMPSLOTS first last (a slot move, run by the gate) → this
/// partition's keys of those slots as [key, value, expiry ms (0: none), …]; an
/// aggregate as [key, encode_object bytes, −1 − expiry ms].
net::reply op_dumpslots(op_context& ctx, const net::arg_list& args) {
  uint16_t first = 0, last = 0;
  if (!parse_slot(args[2], first) || !parse_slot(args[3], last))
    return err::invalid_slot();
  std::vector<net::reply> out;
  ctx.data.for_each(ctx.now, [&](const store::entry& e) {
    auto slot = cluster::key_slot(e.key());
    if (slot < first || slot > last)
      return;
    out.push_back(net::reply::bulk(std::string(e.key())));
    if (e.type() == store::value_type::string) {
      out.push_back(net::reply::bulk(std::string(e.value())));
      out.push_back(net::reply::integer(e.expire_at()));
    } else { // an aggregate: its encoding, and the expiry as −1 − expiry
      out.push_back(net::reply::bulk(store::encode_object(*e.object())));
      out.push_back(net::reply::integer(-1 - e.expire_at()));
    }
  });
  return net::reply::array(std::move(out));
}

/// CLUSTER PUTKEYS key value expiry-ms [key value expiry-ms …] (a slot move, on the
/// receiving node) → +OK once the keys are stored; a key already past its expiry is not.
/// An aggregate comes as its encode_object bytes with −1 − expiry-ms (DUMPSLOTS).
net::reply op_putkeys(op_context& ctx, const net::arg_list& args) {
  for (size_t i = 2; i + 2 < args.size(); i += 3) {
    int64_t at = 0;
    if (!net::parse_int64(args[i + 2], at) || at == std::numeric_limits<int64_t>::min())
      return err::not_integer();
    bool aggregate = at < 0; // DUMPSLOTS's −1 − expiry: the value is encode_object's
    if (aggregate)
      at = -1 - at;
    if (at != 0 && at <= ctx.now) {
      ctx.data.erase(args[i], ctx.now);
      continue;
    }
    if (!aggregate) {
      ctx.data.put(args[i], args[i + 1], at);
    } else if (auto o = store::decode_object(args[i + 1])) {
      ctx.data.put_object(args[i], std::move(o), at);
    } else {
      return err::bad_payload();
    }
  }
  return net::reply::ok();
}

/// Part of CLUSTER DROPSLOTS first last (a slot move, on the node the slots left) →
/// the number of this partition's keys of those slots, deleted.
net::reply op_dropslots(op_context& ctx, const net::arg_list& args) {
  uint16_t first = 0, last = 0;
  if (!parse_slot(args[2], first) || !parse_slot(args[3], last))
    return err::invalid_slot();
  std::vector<std::string> keys;
  ctx.data.for_each(ctx.now, [&](const store::entry& e) {
    auto slot = cluster::key_slot(e.key());
    if (slot >= first && slot <= last)
      keys.emplace_back(e.key());
  });
  for (const auto& k : keys)
    ctx.data.erase(k, ctx.now);
  return net::reply::integer(static_cast<int64_t>(keys.size()));
}

/// GETKEYSINSLOT's merge: the partitions' keys, at most `count`.
net::reply merge_getkeysinslot(client_context& client, fanout& f) {
  auto r = merge_concat(client, f);
  int64_t count = 0;
  if (!r.is_error() && net::parse_int64(f.args[3], count)
      && static_cast<int64_t>(r.items.size()) > count)
    r.items.resize(static_cast<size_t>(count));
  return r;
}

} // namespace

std::string cluster_info_section(const server_info& info) {
  if (!info.cluster)
    return "cluster_enabled:0\r\n";
  const auto& v = *info.cluster;
  return "cluster_enabled:1\r\ncluster_state:" + std::string(v.ok() ? "ok" : "fail")
         + "\r\ncluster_known_nodes:" + std::to_string(v.nodes())
         + "\r\ncluster_reachable_nodes:" + std::to_string(v.reachable())
         + "\r\ncluster_myself:" + v.myself().id
         + "\r\ncluster_redirect:" + (v.redirect() ? "yes" : "no") + "\r\n"
         + (v.move_status().empty() ? "" : "cluster_move:" + v.move_status() + "\r\n");
}

void register_cluster_family(command_registry& table) {
  using namespace shorthand;
  // clang-format off
  table.insert(table.end(), {
    // name                   arity flags    keys      route handler              connection       merge                 group      summary
    {"cluster",                -2,  SUB,     0, 0, 0,  C,    nullptr,             conn_cluster,    nullptr,              "cluster", "Cluster state: KEYSLOT, MYID, INFO, NODES, SLOTS, SHARDS."},
    {"cluster|countkeysinslot", 3,  R,       0, 0, 0,  NODE, op_countkeysinslot,  nullptr,         merge_sum,            "cluster", "Returns the number of keys in a hash slot (on this node)."},
    {"cluster|getkeysinslot",   4,  R,       0, 0, 0,  NODE, op_getkeysinslot,    nullptr,         merge_getkeysinslot,  "cluster", "Returns key names in a hash slot (on this node)."},
    // A slot move's steps, run by the nodes' gates only (clients get "unknown subcommand").
    {"cluster|dumpslots",       4,  R | MOVE,    0, 0, 0,  NODE, op_dumpslots,  nullptr,  merge_concat,  "cluster", "A slot move: a partition's keys of the slots."},
    {"cluster|putkeys",        -5,  W | MOVE,    2, -1, 3, KS,   op_putkeys,    nullptr,  merge_ok,      "cluster", "A slot move: store the keys on their new node."},
    {"cluster|dropslots",       4,  W | MOVE,    0, 0, 0,  NODE, op_dropslots,  nullptr,  merge_sum,     "cluster", "A slot move: delete the keys the slots' old node kept."},
    {"readonly",                1,  F,       0, 0, 0,  C,    nullptr,             conn_readonly,   nullptr,              "cluster", "Enables read-only queries for a connection to a Redis Cluster replica node."},
    {"readwrite",               1,  F,       0, 0, 0,  C,    nullptr,             conn_readonly,   nullptr,              "cluster", "Enables read-write queries for a connection to a Redis Cluster replica node."},
    {"asking",                  1,  F,       0, 0, 0,  C,    nullptr,             conn_cluster_ok, nullptr,              "cluster", "Signals that a cluster client is following an -ASK redirect."},
  });
  // clang-format on
}

} // namespace otkv::cmd

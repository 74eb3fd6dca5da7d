#include "cluster/cluster_config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "cluster/slots.hpp"

namespace otkv::cluster {

namespace {

using json = nlohmann::json;

/// Reads `key` of `j` into a port; false if it is missing or out of range.
bool read_port(const json& j, const char* key, uint16_t& out) {
  auto i = j.find(key);
  if (i == j.end() || !i->is_number_integer())
    return false;
  auto v = i->get<int64_t>();
  if (v < 1 || v > 65535)
    return false;
  out = static_cast<uint16_t>(v);
  return true;
}

std::string read_node(const json& j, size_t index, node_config& n) {
  auto where = "node " + std::to_string(index);
  if (!j.is_object())
    return where + " is not an object";
  if (!j.contains("id") || !j["id"].is_string() || j["id"].get<std::string>().empty())
    return where + " has no \"id\"";
  n.id = j["id"].get<std::string>();
  if (n.id.find_first_of(" \t\r\n") != std::string::npos)
    return where + ": an id has no spaces";
  if (!j.contains("host") || !j["host"].is_string() || j["host"].get<std::string>().empty())
    return where + " has no \"host\"";
  n.host = j["host"].get<std::string>();
  if (!read_port(j, "port", n.port))
    return where + ": \"port\" must be 1 to 65535";
  n.cluster_host = j.value("cluster_host", n.host);
  if (!read_port(j, "cluster_port", n.cluster_port))
    return where + ": \"cluster_port\" must be 1 to 65535";
  if (j.contains("follows")) {
    if (!j["follows"].is_string() || j["follows"].get<std::string>().empty())
      return where + ": \"follows\" is the id of the node before it in its chain";
    n.follows = j["follows"].get<std::string>();
    if (j.contains("slots") && !(j["slots"].is_array() && j["slots"].empty()))
      return where + " follows another node: its chain's head lists the slots";
    return "";
  }
  if (!j.contains("slots") || !j["slots"].is_array())
    return where + " has no \"slots\" array";
  for (const auto& r : j["slots"]) {
    int64_t first = -1, last = -1;
    if (r.is_array() && r.size() == 2 && r[0].is_number_integer() && r[1].is_number_integer()) {
      first = r[0].get<int64_t>();
      last = r[1].get<int64_t>();
    } else if (r.is_number_integer()) {
      first = last = r.get<int64_t>();
    }
    if (first < 0 || last < first || last >= int64_t{slot_count})
      return where + ": a slot range is [first, last] with 0 <= first <= last <= 16383";
    n.slots.push_back({static_cast<uint16_t>(first), static_cast<uint16_t>(last)});
  }
  std::sort(n.slots.begin(), n.slots.end(),
            [](const slot_range& a, const slot_range& b) { return a.first < b.first; });
  return "";
}

/// Every node is in exactly one chain of cfg.replicas nodes: "follows" names a node of
/// the file, no two nodes follow the same one, and following leads to a head.
std::string check_chains(const cluster_config& cfg) {
  std::set<std::string> followed;
  for (const auto& n : cfg.nodes) {
    if (n.follows.empty())
      continue;
    if (n.follows == n.id)
      return "node " + n.id + " follows itself";
    if (std::none_of(cfg.nodes.begin(), cfg.nodes.end(),
                     [&](const node_config& m) { return m.id == n.follows; }))
      return "node " + n.id + " follows " + n.follows + ", which is not in the file";
    if (!followed.insert(n.follows).second)
      return "two nodes follow " + n.follows + " (a chain is a line)";
  }
  size_t in_chains = 0;
  for (const auto& chain : chains_of(cfg)) {
    in_chains += chain.size();
    if (chain.size() != cfg.replicas)
      return "the chain of " + cfg.nodes[chain.front()].id + " has " + std::to_string(chain.size())
             + " nodes, not \"replicas\": " + std::to_string(cfg.replicas);
  }
  if (in_chains != cfg.nodes.size())
    return "following leads in a circle: some nodes are in no chain with a head";
  return "";
}

} // namespace

std::string parse_cluster_config(const std::string& json_text, cluster_config& out) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    return std::string("not JSON: ") + e.what();
  }
  if (!j.is_object())
    return "the cluster file is not a JSON object";
  cluster_config cfg;
  if (j.contains("partitions")) {
    if (!j["partitions"].is_number_integer() || j["partitions"].get<int64_t>() < 1
        || j["partitions"].get<int64_t>() > 4096)
      return "\"partitions\" must be 1 to 4096";
    cfg.partitions = j["partitions"].get<uint32_t>();
  }
  if (j.contains("replicas")) {
    if (!j["replicas"].is_number_integer() || j["replicas"].get<int64_t>() < 1
        || j["replicas"].get<int64_t>() > 16)
      return "\"replicas\" (nodes per chain) must be 1 to 16";
    cfg.replicas = j["replicas"].get<uint32_t>();
  }
  if (!j.contains("nodes") || !j["nodes"].is_array() || j["nodes"].empty())
    return "the cluster file has no \"nodes\"";
  if (j["nodes"].size() > 1000)
    return "a cluster has at most 1000 nodes";
  std::set<std::string> ids;
  std::vector<int> owner(slot_count, -1);
  for (size_t i = 0; i < j["nodes"].size(); ++i) {
    node_config n;
    if (auto err = read_node(j["nodes"][i], i, n); !err.empty())
      return err;
    if (!ids.insert(n.id).second)
      return "node id " + n.id + " appears twice";
    for (auto r : n.slots)
      for (uint32_t s = r.first; s <= r.last; ++s) {
        if (owner[s] >= 0)
          return "slot " + std::to_string(s) + " is served by two nodes ("
                 + cfg.nodes[static_cast<size_t>(owner[s])].id + " and " + n.id + ")";
        owner[s] = static_cast<int>(i);
      }
    cfg.nodes.push_back(std::move(n));
  }
  if (uint64_t{cfg.partitions} * cfg.nodes.size() > 65536)
    return "partitions × nodes is at most 65536 (each front end tracks every node's partitions)";
  auto gap = std::find(owner.begin(), owner.end(), -1);
  if (gap != owner.end())
    return "slot " + std::to_string(gap - owner.begin()) + " is served by no node";
  if (auto err = check_chains(cfg); !err.empty())
    return err;
  out = std::move(cfg);
  return "";
}

std::vector<std::vector<uint32_t>> chains_of(const cluster_config& cfg) {
  std::vector<std::vector<uint32_t>> chains;
  for (uint32_t i = 0; i < cfg.nodes.size(); ++i) {
    if (!cfg.nodes[i].follows.empty())
      continue;
    std::vector<uint32_t> chain{i};
    for (bool more = true; more && chain.size() <= cfg.nodes.size();) {
      more = false;
      for (uint32_t k = 0; k < cfg.nodes.size(); ++k)
        if (cfg.nodes[k].follows == cfg.nodes[chain.back()].id) {
          chain.push_back(k);
          more = true;
          break;
        }
    }
    chains.push_back(std::move(chain));
  }
  return chains;
}

std::string to_json(const cluster_config& cfg) {
  using json = nlohmann::ordered_json; // the keys in the order a reader expects
  json nodes = json::array();
  for (const auto& n : cfg.nodes) {
    json node = {{"id", n.id},
                 {"host", n.host},
                 {"port", n.port},
                 {"cluster_host", n.cluster_host},
                 {"cluster_port", n.cluster_port}};
    if (!n.follows.empty()) {
      node["follows"] = n.follows;
    } else {
      json slots = json::array();
      for (auto r : n.slots)
        slots.push_back(json::array({r.first, r.last}));
      node["slots"] = slots;
    }
    nodes.push_back(std::move(node));
  }
  // One node per line: the file stays short and easy to edit by hand.
  std::string out = "{\n  \"partitions\": " + std::to_string(cfg.partitions) + ",\n";
  if (cfg.replicas > 1)
    out += "  \"replicas\": " + std::to_string(cfg.replicas) + ",\n";
  out += "  \"nodes\": [\n";
  for (size_t i = 0; i < nodes.size(); ++i)
    out += "    " + nodes[i].dump() + (i + 1 < nodes.size() ? ",\n" : "\n");
  return out + "  ]\n}\n";
}

std::string even_cluster(const std::string& addresses, uint32_t partitions,
                         uint32_t cluster_port_offset, cluster_config& out,
                         uint32_t replicas) {
  cluster_config cfg;
  cfg.partitions = partitions;
  cfg.replicas = replicas;
  size_t start = 0;
  while (start <= addresses.size()) {
    auto comma = addresses.find(',', start);
    auto item = addresses.substr(start, comma == std::string::npos ? std::string::npos
                                                                   : comma - start);
    start = comma == std::string::npos ? addresses.size() + 1 : comma + 1;
    auto colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return "'" + item + "' is not HOST:PORT";
    node_config n;
    n.host = item.substr(0, colon);
    int64_t port = 0;
    try {
      port = std::stoll(item.substr(colon + 1));
    } catch (...) {
      port = 0;
    }
    if (port < 1 || port + cluster_port_offset > 65535)
      return "'" + item + "': the port must be 1 to " + std::to_string(65535 - cluster_port_offset);
    n.port = static_cast<uint16_t>(port);
    n.cluster_host = n.host;
    n.cluster_port = static_cast<uint16_t>(port + cluster_port_offset);
    n.id = random_node_id();
    cfg.nodes.push_back(std::move(n));
  }
  if (replicas < 1 || replicas > 16 || cfg.nodes.size() % replicas != 0)
    return std::to_string(cfg.nodes.size()) + " nodes do not make chains of "
           + std::to_string(replicas);
  // Every `replicas` nodes in a row: a chain, its first node the head.
  std::vector<node_config*> heads;
  for (size_t i = 0; i < cfg.nodes.size(); ++i)
    if (i % replicas == 0)
      heads.push_back(&cfg.nodes[i]);
    else
      cfg.nodes[i].follows = cfg.nodes[i - 1].id;
  auto count = static_cast<uint32_t>(heads.size());
  if (count > slot_count)
    return "more nodes than slots";
  // The split redis-cli --cluster create makes: 16384 / count slots each, rounded.
  double per_node = static_cast<double>(slot_count) / count, cursor = 0;
  uint32_t first = 0;
  for (uint32_t i = 0; i < count; ++i) {
    auto last = static_cast<uint32_t>(std::lround(cursor + per_node - 1));
    if (last > slot_count - 1 || i + 1 == count)
      last = slot_count - 1;
    heads[i]->slots.push_back({static_cast<uint16_t>(first), static_cast<uint16_t>(last)});
    first = last + 1;
    cursor += per_node;
  }
  out = std::move(cfg);
  return "";
}

std::string save_cluster_file(const std::string& path, const cluster_config& cfg) {
  auto tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << to_json(cfg);
    out.flush();
    if (!out)
      return "cannot write " + tmp;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return "cannot rename " + tmp + " to " + path;
  return "";
}

std::string random_node_id() {
  static const char hex[] = "0123456789abcdef";
  std::random_device rd;
  std::string id(40, '0');
  for (auto& c : id)
    c = hex[rd() & 15];
  return id;
}

int find_self(const cluster_config& cfg, const std::string& bind, uint16_t port,
              std::string& error) {
  bool wildcard = bind == "0.0.0.0" || bind == "::" || bind == "*";
  int found = -1;
  for (size_t i = 0; i < cfg.nodes.size(); ++i) {
    const auto& n = cfg.nodes[i];
    if (n.port != port || (!wildcard && n.host != bind))
      continue;
    if (found >= 0) {
      error = "several nodes of the cluster file listen on " + bind + ":" + std::to_string(port);
      return -1;
    }
    found = static_cast<int>(i);
  }
  if (found < 0)
    error = "no node of the cluster file is " + bind + ":" + std::to_string(port)
            + " (its \"host\" and \"port\" must be this server's --bind and --port)";
  return found;
}

} // namespace otkv::cluster

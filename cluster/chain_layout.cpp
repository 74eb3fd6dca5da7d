#include "cluster/chain_layout.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace otkv::cluster {

chain_layout initial_layout(const view& v) {
  chain_layout out;
  for (const auto& chain : v.roster()) {
    out.chains.emplace_back();
    for (auto n : chain)
      out.chains.back().push_back(v.config().nodes[n].id);
  }
  return out;
}

std::string to_json(const chain_layout& layout) {
  return nlohmann::json{{"epoch", layout.epoch}, {"chains", layout.chains}}.dump();
}

std::string parse_layout(const std::string& text, chain_layout& out) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("epoch") || !j["epoch"].is_number_unsigned()
      || !j.contains("chains") || !j["chains"].is_array())
    return "the chain layout is not {\"epoch\": N, \"chains\": [[ids…]…]}";
  chain_layout layout;
  layout.epoch = j["epoch"].get<uint64_t>();
  for (const auto& chain : j["chains"]) {
    if (!chain.is_array() || chain.empty())
      return "the chain layout has an empty chain or one that is not a list";
    layout.chains.emplace_back();
    for (const auto& id : chain) {
      if (!id.is_string())
        return "the chain layout names a node by something other than its id";
      layout.chains.back().push_back(id.get<std::string>());
    }
  }
  out = std::move(layout);
  return "";
}

std::string layout_indexes(const view& v, const chain_layout& layout,
                           std::vector<std::vector<uint32_t>>& out) {
  out.clear();
  for (const auto& chain : layout.chains) {
    out.emplace_back();
    for (const auto& id : chain) {
      int n = v.node_of_id(id);
      if (n < 0)
        return "the chain layout names node " + id + ", which is not in the cluster file";
      out.back().push_back(static_cast<uint32_t>(n));
    }
  }
  return "";
}

bool listed(const chain_layout& layout, const std::string& id) {
  for (const auto& chain : layout.chains)
    if (std::find(chain.begin(), chain.end(), id) != chain.end())
      return true;
  return false;
}

chain_layout next_layout(const chain_layout& now, const std::set<std::string>& failed,
                         const std::set<std::string>& synced, const std::string& self,
                         uint32_t self_chain, bool join) {
  chain_layout next = now;
  bool changed = false;
  for (auto& chain : next.chains) {
    for (auto it = chain.begin(); it != chain.end();) {
      if (*it == self || failed.count(*it) == 0) {
        ++it;
        continue;
      }
      // Another node must keep every committed record: in sync and not failed.
      bool kept = false;
      for (const auto& other : chain)
        kept = kept || (other != *it && synced.count(other) > 0 && failed.count(other) == 0);
      if (!kept) {
        ++it;
        continue;
      }
      it = chain.erase(it);
      changed = true;
    }
  }
  if (join && !listed(next, self) && self_chain < next.chains.size()) {
    next.chains[self_chain].push_back(self);
    changed = true;
  }
  if (changed)
    ++next.epoch;
  return next;
}

} // namespace otkv::cluster

#include "cluster/cluster_view.hpp"

namespace otkv::cluster {

view::view(cluster_config cfg, uint32_t self, bool redirect)
  : cfg_(std::move(cfg)), self_(self), redirect_(redirect),
    ordinal_of_slot_(new std::atomic<uint16_t>[slot_count]),
    up_(new std::atomic<bool>[cfg_.nodes.size()]), frozen_(new std::atomic<bool>[slot_count]) {
  node_of_ordinal_.push_back(self_);
  for (uint32_t n = 0; n < nodes(); ++n)
    if (n != self_)
      node_of_ordinal_.push_back(n);
  ordinal_of_node_.resize(nodes());
  for (uint32_t o = 0; o < nodes(); ++o)
    ordinal_of_node_[node_of_ordinal_[o]] = o;
  for (uint32_t s = 0; s < slot_count; ++s) {
    ordinal_of_slot_[s].store(0);
    frozen_[s].store(false);
  }
  for (uint32_t n = 0; n < nodes(); ++n) {
    up_[n].store(n == self_);
    for (auto r : cfg_.nodes[n].slots)
      for (uint32_t s = r.first; s <= r.last; ++s)
        ordinal_of_slot_[s].store(static_cast<uint16_t>(ordinal_of_node_[n]));
  }
}

uint64_t view::nodes_digest() const {
  std::string text = std::to_string(cfg_.partitions);
  for (const auto& n : cfg_.nodes)
    text += ";" + n.id + " " + n.host + ":" + std::to_string(n.port) + " " + n.cluster_host
            + ":" + std::to_string(n.cluster_port);
  return store::key_hash(text);
}

int view::node_of_id(const std::string& id) const {
  for (uint32_t n = 0; n < nodes(); ++n)
    if (cfg_.nodes[n].id == id)
      return static_cast<int>(n);
  return -1;
}

std::vector<slot_range> view::ranges(uint32_t n) const {
  std::vector<slot_range> out;
  for (uint32_t s = 0; s < slot_count; ++s) {
    if (owner(static_cast<uint16_t>(s)) != n)
      continue;
    if (!out.empty() && out.back().last + 1u == s)
      out.back().last = static_cast<uint16_t>(s);
    else
      out.push_back({static_cast<uint16_t>(s), static_cast<uint16_t>(s)});
  }
  return out;
}

cluster_config view::current() const {
  auto out = cfg_;
  for (uint32_t n = 0; n < nodes(); ++n)
    out.nodes[n].slots = ranges(n);
  return out;
}

void view::assign(uint16_t first, uint16_t last, uint32_t n) {
  auto o = static_cast<uint16_t>(ordinal_of_node_[n]);
  for (uint32_t s = first; s <= last; ++s)
    ordinal_of_slot_[s].store(o, std::memory_order_release);
}

void view::freeze(uint16_t first, uint16_t last, bool on) {
  for (uint32_t s = first; s <= last; ++s)
    frozen_[s].store(on, std::memory_order_release);
  frozen_count_.fetch_add(on ? 1 : -1, std::memory_order_acq_rel);
}

uint32_t view::reachable() const {
  uint32_t n = 0;
  for (uint32_t i = 0; i < nodes(); ++i)
    n += up(i) ? 1 : 0;
  return n;
}

std::string view::address_of(uint16_t slot) const {
  const auto& n = cfg_.nodes[owner(slot)];
  return n.host + ":" + std::to_string(n.port);
}

std::string view::move_status() const {
  std::lock_guard<std::mutex> guard{move_mutex_};
  return move_status_;
}

void view::set_move_status(std::string text) {
  std::lock_guard<std::mutex> guard{move_mutex_};
  move_status_ = std::move(text);
}

} // namespace otkv::cluster

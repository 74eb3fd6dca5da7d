#include "cluster/cluster_view.hpp"

namespace otkv::cluster {

view::view(cluster_config cfg, uint32_t self, bool redirect)
  : cfg_(std::move(cfg)), self_(self), redirect_(redirect), owner_(slot_count, 0),
    ordinal_of_slot_(slot_count, 0), up_(new std::atomic<bool>[cfg_.nodes.size()]) {
  node_of_ordinal_.push_back(self_);
  for (uint32_t n = 0; n < nodes(); ++n)
    if (n != self_)
      node_of_ordinal_.push_back(n);
  ordinal_of_node_.resize(nodes());
  for (uint32_t o = 0; o < nodes(); ++o)
    ordinal_of_node_[node_of_ordinal_[o]] = o;
  for (uint32_t n = 0; n < nodes(); ++n) {
    up_[n].store(n == self_);
    for (auto r : cfg_.nodes[n].slots)
      for (uint32_t s = r.first; s <= r.last; ++s) {
        owner_[s] = n;
        ordinal_of_slot_[s] = static_cast<uint16_t>(ordinal_of_node_[n]);
      }
  }
}

uint32_t view::reachable() const {
  uint32_t n = 0;
  for (uint32_t i = 0; i < nodes(); ++i)
    n += up(i) ? 1 : 0;
  return n;
}

std::string view::address_of(uint16_t slot) const {
  const auto& n = cfg_.nodes[owner_[slot]];
  return n.host + ":" + std::to_string(n.port);
}

} // namespace otkv::cluster

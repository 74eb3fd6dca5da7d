#include "cluster/cluster_view.hpp"

#include <algorithm>

namespace otkv::cluster {

view::view(cluster_config cfg, uint32_t self, bool redirect)
  : cfg_(std::move(cfg)), self_(self), redirect_(redirect),
    ordinal_of_slot_(new std::atomic<uint16_t>[slot_count]),
    read_ordinal_of_slot_(new std::atomic<uint16_t>[slot_count]),
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
  roster_ = chains_of(cfg_);
  chain_of_node_.assign(nodes(), 0);
  active_.reset(new std::atomic<bool>[nodes()]);
  for (uint32_t c = 0; c < roster_.size(); ++c) {
    chain_slots_.push_back(cfg_.nodes[roster_[c].front()].slots);
    for (auto n : roster_[c])
      chain_of_node_[n] = c;
  }
  write_fan_ = std::vector<std::atomic<uint32_t>>(roster_.size());
  read_fan_ = std::vector<std::atomic<uint32_t>>(roster_.size());
  set_chains(roster_, 0);
  update_reads(0, slot_count - 1);
  progress_.reset(new chain_progress[cfg_.partitions == 0 ? 1 : cfg_.partitions]);
  for (uint32_t p = 0; p < cfg_.partitions; ++p) // a chain's partitions start out of sync
    progress_[p].synced.store(!replicated(), std::memory_order_relaxed);
}

bool view::synced() const {
  if (!replicated())
    return true;
  for (uint32_t p = 0; p < cfg_.partitions; ++p)
    if (!progress_[p].synced.load(std::memory_order_relaxed))
      return false;
  return true;
}

std::vector<std::vector<uint32_t>> view::chains() const {
  std::lock_guard<std::mutex> guard{chains_mutex_};
  return chains_;
}

std::vector<uint32_t> view::chain(uint32_t c) const {
  std::lock_guard<std::mutex> guard{chains_mutex_};
  return chains_[c];
}

uint32_t view::head_of(uint32_t n) const {
  std::lock_guard<std::mutex> guard{chains_mutex_};
  return chains_[chain_of_node_[n]].front();
}

std::string view::set_chains(const std::vector<std::vector<uint32_t>>& chains, uint64_t epoch) {
  if (chains.size() != roster_.size())
    return "the layout has " + std::to_string(chains.size()) + " chains, the cluster file "
           + std::to_string(roster_.size());
  std::vector<bool> seen(nodes(), false);
  for (uint32_t c = 0; c < chains.size(); ++c) {
    if (chains[c].empty())
      return "chain " + std::to_string(c + 1) + " has no node";
    for (auto n : chains[c]) {
      if (n >= nodes() || chain_of_node_[n] != c || seen[n])
        return "chain " + std::to_string(c + 1) + " lists a node not of its own";
      seen[n] = true;
    }
  }
  std::lock_guard<std::mutex> guard{chains_mutex_};
  std::vector<std::vector<uint32_t>> before = std::move(chains_);
  chains_ = chains;
  for (uint32_t n = 0; n < nodes(); ++n)
    active_[n].store(seen[n], std::memory_order_release);
  // A node not serving in its chain (it is joining) neither numbers nor commits: as a
  // tail without neighbours it only waits.
  chain_role role = chain_role::tail;
  int before_me = -1, after_me = -1;
  for (const auto& chain : chains_)
    for (size_t i = 0; i < chain.size(); ++i) {
      if (chain[i] != self_)
        continue;
      role = i == 0 || chain.size() == 1 ? chain_role::head
             : i + 1 == chain.size()     ? chain_role::tail
                                         : chain_role::middle;
      before_me = i == 0 ? -1 : static_cast<int>(chain[i - 1]);
      after_me = i + 1 == chain.size() ? -1 : static_cast<int>(chain[i + 1]);
    }
  role_.store(role, std::memory_order_release);
  predecessor_.store(before_me, std::memory_order_release);
  successor_.store(after_me, std::memory_order_release);
  for (uint32_t c = 0; c < chains_.size(); ++c) {
    uint32_t head = chains_[c].front();
    if (before.empty() || before[c].front() != head) // the chain's slots follow its head
      for (auto r : chain_slots_[c]) {
        auto o = static_cast<uint16_t>(ordinal_of_node_[head]);
        for (uint32_t s = r.first; s <= r.last; ++s)
          ordinal_of_slot_[s].store(o, std::memory_order_release);
        update_reads(r.first, r.last);
      }
    write_fan_[c].store(ordinal_of_node_[head], std::memory_order_release);
    read_fan_[c].store(c == chain_of_node_[self_] ? 0 : ordinal_of_node_[head],
                       std::memory_order_release);
  }
  epoch_.store(epoch, std::memory_order_release);
  return "";
}

bool view::ok() const {
  for (uint32_t n = 0; n < nodes(); ++n)
    if ((!replicated() || active(n)) && !up(n))
      return false;
  return synced() && (!coordinated() || active(self_));
}

std::string view::replication_info() const {
  const auto chain = this->chain(chain_of_node_[self_]);
  auto role = this->role();
  int predecessor = this->predecessor(), successor = this->successor();
  bool head = role == chain_role::head;
  // Redis's fields first: a chain's head is its master, the rest replicas.
  std::string out = std::string("role:") + (head ? "master" : "slave") + "\r\n";
  auto addr = [&](int n) {
    if (n < 0)
      return std::string("-");
    const auto& node = cfg_.nodes[static_cast<size_t>(n)];
    return node.host + ":" + std::to_string(node.port);
  };
  if (!head) {
    const auto& h = cfg_.nodes[chain.front()];
    out += "master_host:" + h.host + "\r\nmaster_port:" + std::to_string(h.port) + "\r\n"
           + "master_link_status:" + (up(chain.front()) ? "up" : "down") + "\r\n";
  } else {
    out += "connected_slaves:" + std::to_string(chain.size() - 1) + "\r\n";
  }
  uint64_t applied = 0, committed = 0, bytes = 0, next = 0;
  for (uint32_t p = 0; p < cfg_.partitions; ++p) {
    applied += progress_[p].applied.load(std::memory_order_relaxed);
    committed += progress_[p].committed.load(std::memory_order_relaxed);
    bytes += progress_[p].sent_bytes.load(std::memory_order_relaxed);
    next += progress_[p].next_applied.load(std::memory_order_relaxed);
  }
  size_t position = 0;
  while (position < chain.size() && chain[position] != self_)
    ++position;
  out += std::string("chain_synced:") + (synced() ? "yes" : "no") + "\r\n";
  out += std::string("chain_role:") + (active(self_) ? to_string(role) : "removed")
         + "\r\nchain_epoch:" + std::to_string(epoch()) + "\r\nchain_position:"
         + std::to_string(position + 1) + "\r\nchain_length:" + std::to_string(chain.size())
         + "\r\nchain_previous:" + addr(predecessor) + "\r\nchain_next:" + addr(successor)
         + (successor >= 0 ? std::string("\r\nchain_next_link_status:")
                                + (up(static_cast<uint32_t>(successor)) ? "up" : "down")
                            : std::string())
         + "\r\nchain_applied_records:" + std::to_string(applied)
         + "\r\nchain_committed_records:" + std::to_string(committed)
         + "\r\nchain_lag_records:" + std::to_string(applied - std::min(applied, committed))
         + "\r\nchain_lag_bytes:" + std::to_string(bytes);
  if (successor >= 0)
    out += "\r\nchain_next_behind_records:" + std::to_string(applied - std::min(applied, next));
  return out + "\r\n";
}

void view::update_reads(uint16_t first, uint16_t last) {
  for (uint32_t s = first; s <= last; ++s) {
    uint16_t o = ordinal_of_slot_[s].load(std::memory_order_acquire);
    if (chain_of_node_[node_of_ordinal_[o]] == chain_of_node_[self_])
      o = 0;
    read_ordinal_of_slot_[s].store(o, std::memory_order_release);
  }
}

uint64_t view::nodes_digest() const {
  std::string text = std::to_string(cfg_.partitions);
  if (cfg_.replicas > 1) // unchanged for files without chains
    text += "/" + std::to_string(cfg_.replicas);
  for (const auto& n : cfg_.nodes) {
    text += ";" + n.id + " " + n.host + ":" + std::to_string(n.port) + " " + n.cluster_host
            + ":" + std::to_string(n.cluster_port);
    if (!n.follows.empty())
      text += " after " + n.follows;
  }
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
  update_reads(first, last);
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

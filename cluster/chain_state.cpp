#include "cluster/chain_state.hpp"

namespace otkv::cluster {

const char* to_string(chain_role r) {
  switch (r) {
    case chain_role::head:
      return "head";
    case chain_role::middle:
      return "middle";
    case chain_role::tail:
      return "tail";
  }
  return "?";
}

chain_state::chain_state(chain_role role, uint64_t applied) : role_(role) {
  if (role_ == chain_role::tail)
    committed_ = applied;
  else
    all_dirty_until(applied);
}

void chain_state::changed(std::string_view key, uint64_t seq, bool all) {
  if (role_ == chain_role::tail) {
    commit(seq);
    return;
  }
  if (seq <= committed_)
    return;
  if (all) {
    dirty_all_ = seq > dirty_all_ ? seq : dirty_all_;
    return;
  }
  auto [it, fresh] = dirty_.try_emplace(std::string(key), seq);
  if (!fresh)
    it->second = seq;
  order_.emplace_back(seq, it->first);
  if (seq > newest_)
    newest_ = seq;
}

uint64_t chain_state::dirty_seq(std::string_view key) const {
  uint64_t seq = dirty_all_ > committed_ ? dirty_all_ : 0;
  if (dirty_.empty())
    return seq;
  auto it = dirty_.find(std::string(key));
  if (it != dirty_.end() && it->second > seq)
    seq = it->second;
  return seq;
}

bool chain_state::commit(uint64_t seq) {
  if (seq <= committed_)
    return false;
  committed_ = seq;
  while (!order_.empty() && order_.front().first <= seq) {
    auto it = dirty_.find(order_.front().second);
    if (it != dirty_.end() && it->second <= seq)
      dirty_.erase(it);
    order_.pop_front();
  }
  while (!sent_.empty() && sent_.front().last <= seq) {
    sent_bytes_ -= sent_.front().bytes.size();
    sent_.pop_front();
  }
  return true;
}

void chain_state::all_dirty_until(uint64_t seq) {
  if (role_ != chain_role::tail && seq > committed_ && seq > dirty_all_)
    dirty_all_ = seq;
}

size_t chain_state::trim_sent(uint64_t max_bytes) {
  size_t n = 0;
  while (sent_bytes_ > max_bytes && !sent_.empty()) {
    sent_bytes_ -= sent_.front().bytes.size();
    sent_.pop_front();
    ++n;
  }
  return n;
}

void chain_state::keep_sent(uint64_t after, uint64_t last, std::string bytes) {
  if (last <= committed_ || last <= after)
    return;
  sent_bytes_ += bytes.size();
  sent_.push_back({after, last, std::move(bytes)});
}

} // namespace otkv::cluster

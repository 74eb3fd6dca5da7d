#include "store/partition.hpp"

#include <algorithm>

namespace otkv::store {

namespace {

bool later(const std::pair<millis, std::string>& a, const std::pair<millis, std::string>& b) {
  return a.first > b.first;
}

bool expired(const entry& e, millis now) {
  return e.expire_at != 0 && e.expire_at <= now;
}

} // namespace

entry* partition::find(const std::string& key, millis now) {
  auto i = map_.find(key);
  if (i == map_.end())
    return nullptr;
  if (expired(i->second, now)) {
    --expiring_;
    ++expired_total_;
    map_.erase(i);
    return nullptr;
  }
  return &i->second;
}

entry& partition::put(std::string key, std::string value, millis expire_at) {
  auto [i, inserted] = map_.try_emplace(std::move(key));
  entry& e = i->second;
  if (!inserted && e.expire_at != 0)
    --expiring_;
  e.value = std::move(value);
  e.expire_at = expire_at;
  if (expire_at != 0) {
    ++expiring_;
    push_deadline(i->first, expire_at);
  }
  return e;
}

void partition::set_expire(const std::string& key, entry& e, millis at) {
  if (e.expire_at != 0)
    --expiring_;
  e.expire_at = at;
  if (at != 0) {
    ++expiring_;
    push_deadline(key, at);
  }
}

bool partition::erase(const std::string& key, millis now) {
  auto i = map_.find(key);
  if (i == map_.end())
    return false;
  bool live = !expired(i->second, now);
  if (i->second.expire_at != 0)
    --expiring_;
  if (!live)
    ++expired_total_;
  map_.erase(i);
  return live;
}

void partition::clear() {
  map_.clear();
  deadlines_.clear();
  expiring_ = 0;
}

void partition::for_each(millis now,
                         const std::function<void(const std::string&, const entry&)>& fn) const {
  for (const auto& [key, e] : map_)
    if (!expired(e, now))
      fn(key, e);
}

size_t partition::sweep(millis now, size_t max_work) {
  size_t removed = 0;
  for (size_t work = 0; work < max_work && !deadlines_.empty(); ++work) {
    if (deadlines_.front().first > now)
      break;
    std::pop_heap(deadlines_.begin(), deadlines_.end(), later);
    deadline d = std::move(deadlines_.back());
    deadlines_.pop_back();
    auto i = map_.find(d.second);
    // A stale pair: the key is gone or its deadline changed since it was pushed.
    if (i == map_.end() || i->second.expire_at != d.first)
      continue;
    --expiring_;
    ++expired_total_;
    map_.erase(i);
    ++removed;
  }
  return removed;
}

void partition::push_deadline(const std::string& key, millis at) {
  deadlines_.emplace_back(at, key);
  std::push_heap(deadlines_.begin(), deadlines_.end(), later);
  if (deadlines_.size() > 64 && deadlines_.size() > 2 * expiring_)
    compact_deadlines();
}

void partition::compact_deadlines() {
  auto stale = [this](const deadline& d) {
    auto i = map_.find(d.second);
    return i == map_.end() || i->second.expire_at != d.first;
  };
  deadlines_.erase(std::remove_if(deadlines_.begin(), deadlines_.end(), stale), deadlines_.end());
  // Identical pairs (the same deadline set twice) are all "live": keep one of each.
  std::sort(deadlines_.begin(), deadlines_.end());
  deadlines_.erase(std::unique(deadlines_.begin(), deadlines_.end()), deadlines_.end());
  std::make_heap(deadlines_.begin(), deadlines_.end(), later);
}

} // namespace otkv::store

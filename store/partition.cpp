#include "store/partition.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "store/key_hash.hpp"

namespace otkv::store {

namespace {

bool later(const std::pair<millis, std::string>& a, const std::pair<millis, std::string>& b) {
  return a.first > b.first;
}

bool expired(const entry& e, millis now) {
  return e.expire_at() != 0 && e.expire_at() <= now;
}

} // namespace

partition::partition(partition&& other) noexcept {
  *this = std::move(other);
}

partition& partition::operator=(partition&& other) noexcept {
  if (this != &other) {
    free_all();
    std::free(buckets_.slots);
    buckets_ = other.buckets_;
    old_ = other.old_;
    moved_ = other.moved_;
    size_ = other.size_;
    deadlines_ = std::move(other.deadlines_);
    expiring_ = other.expiring_;
    expired_total_ = other.expired_total_;
    sink_ = other.sink_;
    other.sink_ = nullptr;
    other.buckets_ = {};
    other.old_ = {};
    other.moved_ = 0;
    other.size_ = other.expiring_ = 0;
  }
  return *this;
}

partition::~partition() {
  free_all();
  std::free(buckets_.slots);
}

namespace {

/// The bucket of `hash` in a table of 2^bits buckets. Fibonacci hashing takes the high
/// bits of the product: keys of one partition share their low hash bits (partition =
/// hash % partitions), so those must not pick the bucket. Doubling a table splits old
/// bucket b into buckets 2b and 2b + 1.
size_t index_of(uint64_t hash, unsigned bits) noexcept {
  return bits == 0 ? 0 : static_cast<size_t>((hash * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}

} // namespace

entry** partition::chain_of(uint64_t hash) {
  if (old_.slots != nullptr) {
    size_t b = index_of(hash, old_.bits);
    if (b >= moved_)
      return &old_.slots[b];
  }
  return &buckets_.slots[index_of(hash, buckets_.bits)];
}

entry** partition::slot_of(std::string_view key, uint64_t hash) {
  entry** link = chain_of(hash);
  while (*link != nullptr) {
    entry* e = *link;
    if (e->hash_ == hash && e->key_len_ == key.size()
        && std::memcmp(e->bytes(), key.data(), key.size()) == 0)
      return link;
    link = &e->next_;
  }
  return link;
}

void partition::grow() {
  if (old_.slots != nullptr) // still moving the last doubling: finish it first
    rehash_step(old_.size);
  unsigned bits = buckets_.bits == 0 ? 4 : buckets_.bits + 1;
  auto* slots = static_cast<entry**>(std::calloc(size_t{1} << bits, sizeof(entry*)));
  if (slots == nullptr)
    throw std::bad_alloc();
  old_ = buckets_;
  moved_ = 0;
  buckets_ = {slots, size_t{1} << bits, bits};
  if (old_.slots != nullptr && size_ == 0) {
    std::free(old_.slots);
    old_ = {};
  }
}

void partition::rehash_step(size_t n) {
  for (; n > 0 && old_.slots != nullptr; --n) {
    entry* head = old_.slots[moved_];
    while (head != nullptr) {
      entry* next = head->next_;
      auto& b = buckets_.slots[index_of(head->hash_, buckets_.bits)];
      head->next_ = b;
      b = head;
      head = next;
    }
    old_.slots[moved_] = nullptr;
    if (++moved_ == old_.size) {
      std::free(old_.slots);
      old_ = {};
      moved_ = 0;
    }
  }
}

void partition::unlink_free(entry** link) {
  entry* e = *link;
  *link = e->next_;
  if (e->expire_at_ != 0)
    --expiring_;
  --size_;
  e->~entry();
  std::free(e);
}

entry* partition::find(std::string_view key, millis now) {
  if (size_ == 0)
    return nullptr;
  entry** link = slot_of(key, key_hash(key));
  entry* e = *link;
  if (e == nullptr)
    return nullptr;
  if (expired(*e, now)) {
    ++expired_total_;
    unlink_free(link);
    return nullptr;
  }
  return e;
}

entry& partition::put(std::string_view key, std::string_view value, millis expire_at) {
  if (size_ >= buckets_.size)
    grow();
  else if (old_.slots != nullptr)
    rehash_step(2); // done long before the next doubling: size grows by at most 1 a step
  uint64_t hash = key_hash(key);
  entry** link = slot_of(key, hash);
  entry* old = *link;
  if (old != nullptr && old->value_len_ == value.size()) { // same size: overwrite in place
    std::memcpy(old->bytes() + old->key_len_, value.data(), value.size());
    set_deadline(*old, expire_at);
    if (sink_)
      sink_->on_mutation(mutation::put, key, value, expire_at);
    return *old;
  }
  void* mem = std::malloc(sizeof(entry) + key.size() + value.size());
  if (mem == nullptr)
    throw std::bad_alloc();
  entry* e = new (mem) entry();
  e->hash_ = hash;
  e->key_len_ = static_cast<uint32_t>(key.size());
  e->value_len_ = static_cast<uint32_t>(value.size());
  std::memcpy(e->bytes(), key.data(), key.size());
  std::memcpy(e->bytes() + key.size(), value.data(), value.size());
  if (old != nullptr) {
    e->next_ = old->next_;
    if (old->expire_at_ != 0)
      --expiring_;
    old->~entry();
    std::free(old);
  } else {
    ++size_;
  }
  *link = e;
  if (expire_at != 0) {
    e->expire_at_ = expire_at;
    ++expiring_;
    push_deadline(*e);
  }
  if (sink_)
    sink_->on_mutation(mutation::put, key, value, expire_at);
  return *e;
}

void partition::set_expire(entry& e, millis at) {
  if (e.expire_at_ == at)
    return;
  set_deadline(e, at);
  if (sink_)
    sink_->on_mutation(mutation::expire, e.key(), {}, at);
}

void partition::set_deadline(entry& e, millis at) {
  if (e.expire_at_ == at)
    return;
  if (e.expire_at_ != 0)
    --expiring_;
  e.expire_at_ = at;
  if (at != 0) {
    ++expiring_;
    push_deadline(e);
  }
}

bool partition::erase(std::string_view key, millis now) {
  if (size_ == 0)
    return false;
  if (old_.slots != nullptr)
    rehash_step(2);
  entry** link = slot_of(key, key_hash(key));
  if (*link == nullptr)
    return false;
  bool live = !expired(**link, now);
  if (!live)
    ++expired_total_;
  if (sink_)
    sink_->on_mutation(mutation::erase, key, {}, 0);
  unlink_free(link);
  return live;
}

void partition::clear() {
  if (sink_ && size_ > 0)
    sink_->on_mutation(mutation::clear, {}, {}, 0);
  free_all();
}

void partition::free_all() {
  auto free_chains = [](table& t, size_t from) {
    for (size_t i = from; i < t.size; ++i) {
      entry* head = t.slots[i];
      while (head != nullptr) {
        entry* next = head->next_;
        head->~entry();
        std::free(head);
        head = next;
      }
      t.slots[i] = nullptr;
    }
  };
  free_chains(buckets_, 0);
  if (old_.slots != nullptr) {
    free_chains(old_, moved_);
    std::free(old_.slots);
    old_ = {};
    moved_ = 0;
  }
  size_ = 0;
  deadlines_.clear();
  expiring_ = 0;
}

void partition::for_each(millis now, const std::function<void(const entry&)>& fn) const {
  auto visit = [&](const table& t, size_t from) {
    for (size_t i = from; i < t.size; ++i)
      for (const entry* e = t.slots[i]; e != nullptr; e = e->next_)
        if (!expired(*e, now))
          fn(*e);
  };
  visit(buckets_, 0);
  if (old_.slots != nullptr)
    visit(old_, moved_);
}

uint64_t partition::scan(uint64_t position, size_t count, millis now,
                         const std::function<void(const entry&)>& fn) const {
  if (buckets_.bits == 0)
    return 0;
  unsigned shift = 64 - buckets_.bits;
  size_t bucket = static_cast<size_t>(position >> shift);
  size_t seen = 0;
  auto visit = [&](const entry* e) {
    if (!expired(*e, now)) {
      fn(*e);
      ++seen;
    }
  };
  while (bucket < buckets_.size) {
    for (const entry* e = buckets_.slots[bucket]; e != nullptr; e = e->next_)
      visit(e);
    // Keys of this bucket whose old bucket has not moved yet (old bucket b feeds 2b, 2b+1).
    size_t old_bucket = bucket >> 1;
    if (old_.slots != nullptr && old_bucket >= moved_)
      for (const entry* e = old_.slots[old_bucket]; e != nullptr; e = e->next_)
        if (index_of(e->hash_, buckets_.bits) == bucket)
          visit(e);
    ++bucket;
    if (seen >= count)
      break;
  }
  return bucket >= buckets_.size ? 0 : static_cast<uint64_t>(bucket) << shift;
}

size_t partition::longest_chain() const noexcept {
  size_t longest = 0;
  auto measure = [&](const table& t, size_t from) {
    for (size_t i = from; i < t.size; ++i) {
      size_t n = 0;
      for (const entry* e = t.slots[i]; e != nullptr; e = e->next_)
        ++n;
      longest = std::max(longest, n);
    }
  };
  measure(buckets_, 0);
  if (old_.slots != nullptr)
    measure(old_, moved_);
  return longest;
}

size_t partition::sweep(millis now, size_t max_work) {
  if (old_.slots != nullptr)
    rehash_step(max_work);
  size_t removed = 0;
  for (size_t work = 0; work < max_work && !deadlines_.empty(); ++work) {
    if (deadlines_.front().first > now)
      break;
    std::pop_heap(deadlines_.begin(), deadlines_.end(), later);
    deadline d = std::move(deadlines_.back());
    deadlines_.pop_back();
    if (size_ == 0)
      continue;
    entry** link = slot_of(d.second, key_hash(d.second));
    // A stale pair: the key is gone or its deadline changed since it was pushed.
    if (*link == nullptr || (*link)->expire_at_ != d.first)
      continue;
    ++expired_total_;
    unlink_free(link);
    ++removed;
  }
  return removed;
}

void partition::push_deadline(const entry& e) {
  deadlines_.emplace_back(e.expire_at(), std::string(e.key()));
  std::push_heap(deadlines_.begin(), deadlines_.end(), later);
  if (deadlines_.size() > 64 && deadlines_.size() > 2 * expiring_)
    compact_deadlines();
}

void partition::compact_deadlines() {
  auto stale = [this](const deadline& d) {
    if (size_ == 0)
      return true;
    entry** link = slot_of(d.second, key_hash(d.second));
    return *link == nullptr || (*link)->expire_at_ != d.first;
  };
  deadlines_.erase(std::remove_if(deadlines_.begin(), deadlines_.end(), stale), deadlines_.end());
  // Identical pairs (the same deadline set twice) are all "live": keep one of each.
  std::sort(deadlines_.begin(), deadlines_.end());
  deadlines_.erase(std::unique(deadlines_.begin(), deadlines_.end()), deadlines_.end());
  std::make_heap(deadlines_.begin(), deadlines_.end(), later);
}

} // namespace otkv::store

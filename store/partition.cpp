#include "store/partition.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include <malloc.h>

#include "store/key_hash.hpp"
#include "store/le_bytes.hpp"

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
    bytes_ = other.bytes_;
    other.bytes_ = 0;
    deadlines_ = std::move(other.deadlines_);
    expiring_ = other.expiring_;
    expired_total_ = other.expired_total_;
    sink_ = other.sink_;
    expiry_ = other.expiry_;
    image_ = std::move(other.image_);
    other.image_ = {};
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
    if (e->hash_ == hash && e->key_len() == key.size()
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
  copy_pending(*e); // an erase or an expiry removes it: the image keeps its old version
  *link = e->next_;
  if (e->expire_at_ != 0)
    --expiring_;
  --size_;
  bytes_ -= e->key_len() + e->value_len();
  release(e);
}

void partition::release(entry* e) noexcept {
  if (e->type() != value_type::string)
    delete e->object();
  e->~entry();
  std::free(e);
}

entry* partition::find(std::string_view key, millis now) {
  return size_ == 0 ? nullptr : find(key, key_hash(key), now);
}

entry* partition::find(std::string_view key, uint64_t hash, millis now) {
  if (size_ == 0)
    return nullptr;
  entry** link = slot_of(key, hash);
  entry* e = *link;
  if (e == nullptr)
    return nullptr;
  if (expired(*e, now)) {
    if (expiry_ != expiry_mode::hide)
      expire_entry(link);
    return nullptr;
  }
  return e;
}

void partition::expire_entry(entry** link) {
  ++expired_total_;
  if (expiry_ == expiry_mode::record && sink_)
    sink_->on_mutation(mutation::erase, (*link)->key(), {}, 0);
  unlink_free(link);
}

entry& partition::put(std::string_view key, std::string_view value, millis expire_at) {
  return put(key, key_hash(key), value, expire_at);
}

entry& partition::put(std::string_view key, uint64_t hash, std::string_view value,
                      millis expire_at) {
  if (size_ >= buckets_.size)
    grow();
  else if (old_.slots != nullptr)
    rehash_step(2); // done long before the next doubling: size grows by at most 1 a step
  entry** link = slot_of(key, hash);
  entry* old = *link;
  if (old != nullptr)
    copy_pending(*old);
  if (old != nullptr && old->type() == value_type::string
      && old->value_len() == value.size()) { // same size: overwrite in place
    std::memcpy(old->bytes() + old->key_len(), value.data(), value.size());
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
  e->key_bits_ = static_cast<uint32_t>(key.size());
  e->set_copied(image_.mark); // made after the image began (if any): not in it
  e->value_len_ = static_cast<uint32_t>(value.size());
  std::memcpy(e->bytes(), key.data(), key.size());
  std::memcpy(e->bytes() + key.size(), value.data(), value.size());
  bytes_ += key.size() + value.size();
  if (old != nullptr) {
    bytes_ -= old->key_len() + old->value_len();
    e->next_ = old->next_;
    if (old->expire_at_ != 0)
      --expiring_;
    release(old);
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

entry& partition::put_object(std::string_view key, std::unique_ptr<store::object> value,
                             millis expire_at) {
  uint64_t hash = key_hash(key);
  if (size_ >= buckets_.size)
    grow();
  else if (old_.slots != nullptr)
    rehash_step(2);
  entry** link = slot_of(key, hash);
  entry* old = *link;
  if (old != nullptr) {
    copy_pending(*old);
    *link = old->next_;
    if (old->expire_at_ != 0)
      --expiring_;
    --size_;
    bytes_ -= old->key_len() + old->value_len();
    release(old);
  }
  std::string record;
  if (sink_)
    record = encode_object(*value);
  auto type = static_cast<uint32_t>(value->type());
  entry* e = create(link, key, hash, sizeof(store::object*));
  store::object* raw = value.release();
  std::memcpy(e->bytes() + e->key_len(), &raw, sizeof raw);
  e->value_len_ |= type << entry::type_shift;
  if (expire_at != 0) {
    e->expire_at_ = expire_at;
    ++expiring_;
    push_deadline(*e);
  }
  if (sink_)
    sink_->on_mutation(mutation::object, key, record, expire_at);
  return *e;
}

entry* partition::find_for_change(std::string_view key, uint64_t hash, millis now, bool create,
                                  value_type create_as) {
  if (old_.slots != nullptr)
    rehash_step(2);
  entry** link = live_link(key, hash, now);
  if (link != nullptr) {
    copy_pending(**link);
    return *link;
  }
  if (!create)
    return nullptr;
  if (size_ >= buckets_.size)
    grow();
  entry* e = this->create(slot_of(key, hash), key, hash, sizeof(store::object*));
  store::object* raw = make_object(create_as).release();
  std::memcpy(e->bytes() + e->key_len(), &raw, sizeof raw);
  e->value_len_ |= static_cast<uint32_t>(create_as) << entry::type_shift;
  return e;
}

void partition::set_expire(entry& e, millis at) {
  if (e.expire_at_ == at)
    return;
  copy_pending(e);
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
  if (image_.active && size_ > 0)
    copy_all_pending(true); // rare: the image gets everything not copied yet, at once
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
        release(head);
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
  bytes_ = 0;
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
  if (expiry_ == expiry_mode::hide)
    return removed;
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
    expire_entry(link);
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

// -- APPEND and SETRANGE: change the value in place ----------------------------------

entry** partition::live_link(std::string_view key, uint64_t hash, millis now) {
  if (size_ == 0)
    return nullptr;
  entry** link = slot_of(key, hash);
  if (*link == nullptr)
    return nullptr;
  if (expired(**link, now)) {
    expire_entry(link);
    return nullptr;
  }
  return link;
}

entry* partition::create(entry** link, std::string_view key, uint64_t hash, size_t value_len) {
  void* mem = std::malloc(sizeof(entry) + key.size() + value_len);
  if (mem == nullptr)
    throw std::bad_alloc();
  entry* e = new (mem) entry();
  e->hash_ = hash;
  e->key_bits_ = static_cast<uint32_t>(key.size());
  e->set_copied(image_.mark);
  e->value_len_ = static_cast<uint32_t>(value_len);
  std::memcpy(e->bytes(), key.data(), key.size());
  e->next_ = *link;
  *link = e;
  ++size_;
  bytes_ += key.size() + value_len;
  return e;
}

entry* partition::resize_value(entry** link, size_t len) {
  entry* e = *link;
  size_t head = sizeof(entry) + e->key_len();
  if (head + len > malloc_usable_size(e)) {
    // Headroom as Redis's sds gives a growing string: double up to 1 MiB, then +1 MiB,
    // so repeated APPENDs reallocate O(log n) times. A large chunk is mmap'ed by malloc
    // and realloc moves its pages (mremap) rather than copying the bytes.
    constexpr size_t mib = size_t{1} << 20;
    size_t cap = len < mib ? 2 * len : len + mib;
    void* mem = std::realloc(e, head + cap);
    if (mem == nullptr)
      mem = std::realloc(e, head + len);
    if (mem == nullptr)
      throw std::bad_alloc();
    e = static_cast<entry*>(mem);
    *link = e; // nothing else points at an entry: only its chain link
  }
  bytes_ += len - e->value_len(); // unsigned wrap-around is exact for a shrink too
  e->value_len_ = static_cast<uint32_t>(len);
  return e;
}

entry& partition::append(std::string_view key, std::string_view suffix, millis now) {
  uint64_t hash = key_hash(key);
  if (old_.slots != nullptr)
    rehash_step(2);
  entry** link = live_link(key, hash, now);
  if (link == nullptr)
    return put(key, suffix, 0); // a new key: logged as a put of the suffix
  copy_pending(**link);
  size_t len = (*link)->value_len();
  entry* e = resize_value(link, len + suffix.size());
  std::memcpy(e->bytes() + e->key_len() + len, suffix.data(), suffix.size());
  if (sink_)
    sink_->on_mutation(mutation::append, key, suffix, 0);
  return *e;
}

entry& partition::set_range(std::string_view key, size_t offset, std::string_view bytes,
                            millis now) {
  uint64_t hash = key_hash(key);
  if (old_.slots != nullptr)
    rehash_step(2);
  size_t end = offset + bytes.size();
  entry** link = live_link(key, hash, now);
  entry* e = nullptr;
  bool created = link == nullptr;
  if (created) {
    if (size_ >= buckets_.size)
      grow();
    e = create(slot_of(key, hash), key, hash, end);
    std::memset(e->bytes() + e->key_len(), 0, offset);
  } else {
    copy_pending(**link);
    size_t len = (*link)->value_len();
    e = *link;
    if (end > len) {
      e = resize_value(link, end);
      if (offset > len)
        std::memset(e->bytes() + e->key_len() + len, 0, offset - len);
    }
  }
  std::memcpy(e->bytes() + e->key_len() + offset, bytes.data(), bytes.size());
  if (sink_) {
    if (created && offset == 0)
      sink_->on_mutation(mutation::put, key, bytes, 0);
    else // a created key is marked by a negative offset: replay starts from nothing
      sink_->on_mutation(mutation::setrange, key, bytes,
                         created ? -1 - static_cast<int64_t>(offset)
                                 : static_cast<int64_t>(offset));
  }
  return *e;
}

// -- Incremental image ----------------------------------------------------------------

void put_image_entry(std::string& out, const entry& e) {
  put_bytes(out, e.key());
  if (e.type() == value_type::string) {
    put_bytes(out, e.value());
  } else {
    std::string bytes = encode_object(*e.object());
    put_int<uint32_t>(out, image_object_marker | static_cast<uint32_t>(e.type()));
    put_int<uint64_t>(out, bytes.size());
    out += bytes;
  }
  put_int<int64_t>(out, e.expire_at());
}

void partition::begin_image(uint64_t seq, millis now) {
  if (image_.active)
    copy_all_pending(false); // abandon the unfinished one: its marks must be consistent
  image_.active = true;
  image_.mark = !image_.mark; // every entry present is pending now
  image_.cursor = 0;
  image_.cursor_done = size_ == 0 || buckets_.bits == 0;
  image_.now = now;
  image_.count = 0;
  // Sized once for every entry now present (16 bytes of lengths and deadline each): the
  // buffer never grows by copying (a 64 MB copy would stall the partition for ~20 ms);
  // its pages are touched a slice at a time.
  image_.bytes = std::string();
  image_.bytes.reserve(16 + size_ * 16 + bytes_);
  put_int<uint64_t>(image_.bytes, seq);
  put_int<uint64_t>(image_.bytes, 0); // the count, filled in by take_image
}

void partition::abandon_image() {
  if (!image_.active)
    return;
  copy_all_pending(false);
  image_.active = false;
  image_.bytes = {};
}

void partition::copy_entry(entry& e) {
  if (!expired(e, image_.now)) {
    put_image_entry(image_.bytes, e);
    ++image_.count;
  }
  e.set_copied(image_.mark);
}

void partition::copy_all_pending(bool encode) {
  auto walk = [&](table& t, size_t from) {
    for (size_t i = from; i < t.size; ++i)
      for (entry* e = t.slots[i]; e != nullptr; e = e->next_)
        if (e->copied() != image_.mark) {
          if (encode)
            copy_entry(*e);
          else
            e->set_copied(image_.mark);
        }
  };
  walk(buckets_, 0);
  if (old_.slots != nullptr)
    walk(old_, moved_);
}

bool partition::image_step(size_t max_entries) {
  if (!image_.active || image_.cursor_done)
    return true;
  // The walk is scan's: a position is a prefix of the bucket index, so it stays valid
  // while the table doubles, and every entry present throughout is visited (at least
  // once; the mark makes a second visit a no-op).
  unsigned shift = 64 - buckets_.bits;
  size_t bucket = static_cast<size_t>(image_.cursor >> shift);
  size_t work = 0;
  while (bucket < buckets_.size) {
    // The chains' entries are scattered in memory: ask for the ones a few buckets ahead.
    if (bucket + 8 < buckets_.size && buckets_.slots[bucket + 8] != nullptr)
      __builtin_prefetch(buckets_.slots[bucket + 8]);
    for (entry* e = buckets_.slots[bucket]; e != nullptr; e = e->next_, ++work)
      copy_pending(*e);
    size_t old_bucket = bucket >> 1;
    if (old_.slots != nullptr && old_bucket >= moved_)
      for (entry* e = old_.slots[old_bucket]; e != nullptr; e = e->next_)
        if (index_of(e->hash_, buckets_.bits) == bucket) {
          copy_pending(*e);
          ++work;
        }
    if ((bucket & 15) == 0)
      ++work; // empty buckets cost a little too
    ++bucket;
    if (work >= max_entries)
      break;
  }
  if (bucket >= buckets_.size) {
    image_.cursor_done = true;
    return true;
  }
  image_.cursor = static_cast<uint64_t>(bucket) << shift;
  return false;
}

std::string partition::take_image() {
  if (!image_.active)
    return {};
  while (!image_step(std::numeric_limits<size_t>::max())) {
  }
  for (size_t i = 0; i < 8; ++i)
    image_.bytes[8 + i] = static_cast<char>((image_.count >> (8 * i)) & 0xff);
  image_.active = false;
  std::string out = std::move(image_.bytes);
  image_.bytes = {};
  return out;
}

} // namespace otkv::store

#include "store/dense_table.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

#include <malloc.h>

#include "store/key_hash.hpp"
#include "store/packed.hpp"

namespace otkv::store {

static_assert(sizeof(void*) == 8, "dense_table keeps 16 hash bits above a 48-bit address");

namespace {

constexpr uint64_t address_mask = (uint64_t{1} << 48) - 1;
constexpr unsigned min_bits = 3;
/// Slots past the last home slot, so a run near the end need not wrap around.
constexpr size_t tail_slots = 32;

uint64_t tag_of(uint64_t hash) noexcept {
  return ((hash * 0xff51afd7ed558ccdull) >> 48) << 48;
}

const char* element_of(uint64_t slot) noexcept {
  return reinterpret_cast<const char*>(slot & address_mask);
}

size_t varint_at(const char* p, uint64_t& v) noexcept {
  v = 0;
  size_t n = 0;
  for (unsigned shift = 0;; shift += 7) {
    auto b = static_cast<unsigned char>(p[n++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0)
      return n;
  }
}

/// Writes `v` as put_varint does, at `p`; returns the bytes written.
size_t write_varint(char* p, uint64_t v) noexcept {
  size_t n = 0;
  for (; v >= 0x80; v >>= 7)
    p[n++] = static_cast<char>((v & 0x7f) | 0x80);
  p[n++] = static_cast<char>(v);
  return n;
}

/// Writes `s` packed (as put_packed does) at `p`; returns the bytes written.
size_t write_packed(char* p, std::string_view s) noexcept {
  size_t n = write_varint(p, s.size());
  std::memmove(p + n, s.data(), s.size()); // `s` may be the value being replaced
  return n + s.size();
}

char* make_element(std::string_view name, std::string_view value, bool pair) {
  size_t bytes = varint_size(name.size()) + name.size();
  if (pair)
    bytes += varint_size(value.size()) + value.size();
  auto* mem = static_cast<char*>(std::malloc(bytes));
  if (mem == nullptr)
    throw std::bad_alloc();
  size_t at = write_packed(mem, name);
  if (pair)
    write_packed(mem + at, value);
  return mem;
}

} // namespace

std::string_view dense_table::first(const char* element) noexcept {
  uint64_t len = 0;
  size_t n = varint_at(element, len);
  return {element + n, static_cast<size_t>(len)};
}

std::string_view dense_table::second(const char* element) noexcept {
  auto name = first(element);
  const char* p = name.data() + name.size();
  uint64_t len = 0;
  size_t n = varint_at(p, len);
  return {p + n, static_cast<size_t>(len)};
}

dense_table::dense_table(dense_table&& other) noexcept {
  *this = std::move(other);
}

dense_table& dense_table::operator=(dense_table&& other) noexcept {
  if (this != &other) {
    free_all();
    slots_ = other.slots_;
    capacity_ = other.capacity_;
    bits_ = other.bits_;
    size_ = other.size_;
    element_bytes_ = other.element_bytes_;
    name_ = other.name_;
    owns_ = other.owns_;
    other.slots_ = nullptr;
    other.capacity_ = other.size_ = other.element_bytes_ = 0;
    other.bits_ = 0;
  }
  return *this;
}

dense_table::~dense_table() {
  free_all();
}

void dense_table::free_all() noexcept {
  for (size_t i = 0; i < capacity_ && owns_; ++i)
    if (slots_[i] != 0)
      std::free(const_cast<char*>(element_of(slots_[i])));
  std::free(slots_);
  slots_ = nullptr;
  capacity_ = size_ = element_bytes_ = 0;
  bits_ = 0;
}

size_t dense_table::home(uint64_t hash) const noexcept {
  return static_cast<size_t>((hash * 0x9E3779B97F4A7C15ull) >> (64 - bits_));
}

const char* dense_table::find(std::string_view name) const noexcept {
  if (size_ == 0)
    return nullptr;
  uint64_t h = key_hash(name);
  uint64_t tag = tag_of(h);
  for (size_t i = home(h); i < capacity_ && slots_[i] != 0; ++i) {
    if ((slots_[i] & ~address_mask) != tag)
      continue;
    const char* e = element_of(slots_[i]);
    if (name_of(e) == name)
      return e;
  }
  return nullptr;
}

bool dense_table::place(uint64_t slot_value, uint64_t hash) {
  for (size_t i = home(hash); i < capacity_; ++i)
    if (slots_[i] == 0) {
      slots_[i] = slot_value;
      return true;
    }
  return false;
}

void dense_table::resize(unsigned bits) {
  for (;; ++bits) {
    size_t capacity = (size_t{1} << bits) + tail_slots;
    auto* slots = static_cast<uint64_t*>(std::calloc(capacity, sizeof(uint64_t)));
    if (slots == nullptr)
      throw std::bad_alloc();
    uint64_t* old = slots_;
    size_t old_capacity = capacity_;
    unsigned old_bits = bits_;
    slots_ = slots;
    capacity_ = capacity;
    bits_ = bits;
    bool fits = true;
    for (size_t i = 0; i < old_capacity && fits; ++i)
      if (old[i] != 0)
        fits = place(old[i], key_hash(name_of(element_of(old[i]))));
    if (fits) {
      std::free(old);
      return;
    }
    // A run passed the end (a pathological hash mix): try twice the size.
    std::free(slots_);
    slots_ = old;
    capacity_ = old_capacity;
    bits_ = old_bits;
  }
}

bool dense_table::put(std::string_view name, std::string_view value, bool pair) {
  if (slots_ == nullptr)
    resize(min_bits);
  uint64_t h = key_hash(name);
  uint64_t tag = tag_of(h);
  size_t i = home(h);
  for (; i < capacity_ && slots_[i] != 0; ++i) {
    if ((slots_[i] & ~address_mask) != tag)
      continue;
    auto* e = const_cast<char*>(element_of(slots_[i]));
    auto old_name = name_of(e);
    if (old_name != name)
      continue;
    if (!pair) // a set member: nothing to replace
      return false;
    // A hash field: its new value is written over the old one where the block has room
    // and would not be left mostly empty.
    size_t name_end = static_cast<size_t>(old_name.data() + old_name.size() - e);
    size_t needed = name_end + varint_size(value.size()) + value.size();
    size_t usable = malloc_usable_size(e);
    if (needed <= usable && usable < 2 * needed + 32) {
      write_packed(e + name_end, value);
      return false;
    }
    char* fresh = make_element(name, value, pair);
    element_bytes_ += malloc_usable_size(fresh);
    element_bytes_ -= malloc_usable_size(e);
    std::free(e);
    slots_[i] = tag | reinterpret_cast<uint64_t>(fresh);
    return false;
  }
  // Absent. At most 3/4 of the home slots used; a run reaching the end grows the table.
  if ((size_ + 1) * 4 > (size_t{1} << bits_) * 3 || i == capacity_) {
    resize(bits_ + 1);
    i = capacity_;
  }
  char* fresh = make_element(name, value, pair);
  if (i == capacity_ || slots_[i] != 0) {
    while (!place(tag | reinterpret_cast<uint64_t>(fresh), h))
      resize(bits_ + 1);
  } else {
    slots_[i] = tag | reinterpret_cast<uint64_t>(fresh);
  }
  element_bytes_ += malloc_usable_size(fresh);
  ++size_;
  return true;
}

bool dense_table::erase(std::string_view name) {
  const char* e = remove(name);
  if (e == nullptr)
    return false;
  if (owns_) {
    element_bytes_ -= malloc_usable_size(const_cast<char*>(e));
    std::free(const_cast<char*>(e));
  }
  return true;
}

const char* dense_table::remove(std::string_view name) {
  if (size_ == 0)
    return nullptr;
  uint64_t h = key_hash(name);
  uint64_t tag = tag_of(h);
  size_t i = home(h);
  for (; i < capacity_ && slots_[i] != 0; ++i)
    if ((slots_[i] & ~address_mask) == tag && name_of(element_of(slots_[i])) == name)
      break;
  if (i == capacity_ || slots_[i] == 0)
    return nullptr;
  const char* e = element_of(slots_[i]);
  slots_[i] = 0;
  --size_;
  // Backward shift: later elements of the run whose home is at or before the hole move
  // into it, so every element stays reachable from its home without tombstones.
  for (size_t j = i + 1; j < capacity_ && slots_[j] != 0; ++j) {
    if (home(key_hash(name_of(element_of(slots_[j])))) <= i) {
      slots_[i] = slots_[j];
      slots_[j] = 0;
      i = j;
    }
  }
  if (bits_ > min_bits && size_ * 8 < (size_t{1} << bits_))
    resize(bits_ - 1);
  return e;
}

void dense_table::insert_external(const char* element) {
  if (slots_ == nullptr)
    resize(min_bits);
  if ((size_ + 1) * 4 > (size_t{1} << bits_) * 3)
    resize(bits_ + 1);
  uint64_t h = key_hash(name_of(element));
  uint64_t value = tag_of(h) | reinterpret_cast<uint64_t>(element);
  while (!place(value, h))
    resize(bits_ + 1);
  ++size_;
}

std::string_view dense_table::name_of(const char* element) const noexcept {
  return name_ != nullptr ? name_(element) : first(element);
}

void dense_table::for_each(function_ref<void(const char*)> fn) const {
  for (size_t i = 0; i < capacity_; ++i)
    if (slots_[i] != 0)
      fn(element_of(slots_[i]));
}

uint64_t dense_table::scan(uint64_t cursor, size_t count,
                           function_ref<void(const char*)> fn) const {
  if (size_ == 0)
    return 0;
  size_t homes = size_t{1} << bits_;
  size_t i = static_cast<size_t>(cursor >> (64 - bits_));
  size_t seen = 0;
  for (; i < capacity_; ++i) {
    if (slots_[i] != 0) {
      fn(element_of(slots_[i]));
      ++seen;
    } else if (seen >= count && i < homes) {
      // An empty slot ends every run: each element whose home is before it was visited.
      return static_cast<uint64_t>(i) << (64 - bits_);
    }
  }
  return 0;
}

const char* dense_table::random(uint64_t r) const noexcept {
  if (size_ == 0)
    return nullptr;
  // Random slots until one is used (at least 1/8 of the home slots are, so this ends
  // quickly and picks fairly), then, in the unlikely worst case, the next used one.
  for (int tries = 0; tries < 64; ++tries) {
    r += 0x9E3779B97F4A7C15ull; // splitmix64
    uint64_t z = r;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    size_t i = static_cast<size_t>(z % capacity_);
    if (slots_[i] != 0)
      return element_of(slots_[i]);
  }
  size_t start = static_cast<size_t>(r % capacity_);
  for (size_t k = 0; k < capacity_; ++k) {
    size_t i = (start + k) % capacity_;
    if (slots_[i] != 0)
      return element_of(slots_[i]);
  }
  return nullptr;
}

size_t dense_table::memory() const noexcept {
  return capacity_ * sizeof(uint64_t) + (owns_ ? element_bytes_ : 0);
}

} // namespace otkv::store

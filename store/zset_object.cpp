#include "store/zset_object.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include <malloc.h>

#include "store/encoding_limits.hpp"
#include "store/packed.hpp"

namespace otkv::store {

namespace {

constexpr int max_level = 32;

int random_level() {
  thread_local uint64_t state = 0x9E3779B97F4A7C15ull ^ reinterpret_cast<uintptr_t>(&state);
  int level = 1;
  for (;;) { // xorshift64*; each level with probability 1/4, as Redis's
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    uint64_t r = state * 0x2545F4914F6CDD1Dull;
    for (int k = 0; k < 32 && level < max_level; ++k, r >>= 2) {
      if ((r & 3) != 0)
        return level;
      ++level;
    }
    if (level >= max_level)
      return max_level;
  }
}

/// Whether (sa, ma) orders before (sb, mb).
bool before(double sa, std::string_view ma, double sb, std::string_view mb) {
  return sa < sb || (sa == sb && ma < mb);
}

} // namespace

std::string format_score(double d) {
  if (std::isinf(d))
    return d > 0 ? "inf" : "-inf";
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%.17g", d);
  return std::string(buf, static_cast<size_t>(n));
}

std::string record_score(double d) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, d); // "inf" and "-inf" for infinities
  return std::string(buf, res.ptr);
}

bool parse_score(std::string_view text, double& out, bool saturate) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])))
    return false;
  // The common decimal forms without a copy; what from_chars does not take whole (a '+',
  // hexadecimal, a value out of range) goes to strtod, as in Redis.
  double v = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec == std::errc() && res.ptr == text.data() + text.size()) {
    if (std::isnan(v))
      return false;
    out = v;
    return true;
  }
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || std::isnan(v))
    return false;
  if (!saturate && errno == ERANGE && (std::isinf(v) || v == 0))
    return false;
  out = v;
  return true;
}

// -- the skip list ----------------------------------------------------------------------

struct zset_object::node {
  struct level {
    node* forward;
    size_t span;
  };
  double score;
  node* backward;
  uint32_t len;
  int height;

  level* levels() noexcept { return reinterpret_cast<level*>(this + 1); }
  const level* levels() const noexcept { return reinterpret_cast<const level*>(this + 1); }
  std::string_view member() const noexcept {
    return {reinterpret_cast<const char*>(levels() + height), len};
  }

  static node* make(int height, double score, std::string_view member, size_t& bytes) {
    size_t size = sizeof(node) + sizeof(level) * static_cast<size_t>(height) + member.size();
    auto* n = static_cast<node*>(std::malloc(size));
    if (n == nullptr)
      throw std::bad_alloc();
    n->score = score;
    n->backward = nullptr;
    n->len = static_cast<uint32_t>(member.size());
    n->height = height;
    for (int i = 0; i < height; ++i)
      n->levels()[i] = {nullptr, 0};
    if (!member.empty()) // the head's is empty (and may have no address)
      std::memcpy(reinterpret_cast<char*>(n->levels() + height), member.data(), member.size());
    bytes += malloc_usable_size(n);
    return n;
  }
};

std::string_view zset_object::name_of(const char* n) noexcept {
  return reinterpret_cast<const node*>(n)->member();
}

zset_object::zset_object() : by_member_(&zset_object::name_of) {}

zset_object::~zset_object() {
  if (!head_)
    return;
  node* x = head_;
  while (x != nullptr) {
    node* next = x->levels()[0].forward;
    std::free(x);
    x = next;
  }
}

void zset_object::list_insert(std::string_view member, double score) {
  node* x = node::make(random_level(), score, member, node_bytes_);
  list_link(x);
  by_member_.insert_external(reinterpret_cast<const char*>(x));
}

void zset_object::list_link(node* x) {
  node* update[max_level];
  size_t rank[max_level];
  node* at = head_;
  for (int i = level_ - 1; i >= 0; --i) {
    rank[i] = i == level_ - 1 ? 0 : rank[i + 1];
    for (node* f; (f = at->levels()[i].forward) != nullptr
                  && before(f->score, f->member(), x->score, x->member());) {
      rank[i] += at->levels()[i].span;
      at = f;
    }
    update[i] = at;
  }
  int height = x->height;
  if (height > level_) {
    for (int i = level_; i < height; ++i) {
      rank[i] = 0;
      update[i] = head_;
      head_->levels()[i].span = size_;
    }
    level_ = height;
  }
  for (int i = 0; i < height; ++i) {
    auto& up = update[i]->levels()[i];
    x->levels()[i].forward = up.forward;
    up.forward = x;
    x->levels()[i].span = up.span - (rank[0] - rank[i]);
    up.span = (rank[0] - rank[i]) + 1;
  }
  for (int i = height; i < level_; ++i)
    ++update[i]->levels()[i].span;
  x->backward = update[0] == head_ ? nullptr : update[0];
  if (x->levels()[0].forward)
    x->levels()[0].forward->backward = x;
  else
    tail_ = x;
  ++size_;
}

void zset_object::list_erase(node* target) {
  list_unlink(target);
  by_member_.remove(target->member());
  node_bytes_ -= malloc_usable_size(target);
  std::free(target);
}

void zset_object::list_unlink(node* target) {
  node* update[max_level];
  node* x = head_;
  for (int i = level_ - 1; i >= 0; --i) {
    for (node* f; (f = x->levels()[i].forward) != nullptr && f != target
                  && before(f->score, f->member(), target->score, target->member());)
      x = f;
    update[i] = x;
  }
  for (int i = 0; i < level_; ++i) {
    auto& up = update[i]->levels()[i];
    if (up.forward == target) {
      up.span += target->levels()[i].span - 1;
      up.forward = target->levels()[i].forward;
    } else {
      up.span -= 1;
    }
  }
  if (target->levels()[0].forward)
    target->levels()[0].forward->backward = target->backward;
  else
    tail_ = target->backward;
  while (level_ > 1 && head_->levels()[level_ - 1].forward == nullptr)
    --level_;
  --size_;
}

void zset_object::list_rescore(node* n, double score) {
  // As Redis's zslUpdateScore: a score that keeps the member between its neighbours is
  // changed in place; otherwise the node moves, keeping its allocation and its entry in
  // by_member_.
  const node* prev = n->backward;
  const node* next = n->levels()[0].forward;
  if ((prev == nullptr || before(prev->score, prev->member(), score, n->member()))
      && (next == nullptr || before(score, n->member(), next->score, next->member()))) {
    n->score = score;
    return;
  }
  list_unlink(n);
  n->score = score;
  list_link(n);
}

zset_object::node* zset_object::list_at(size_t rank) const {
  size_t target = rank + 1, traversed = 0;
  node* x = head_;
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->levels()[i].forward && traversed + x->levels()[i].span <= target) {
      traversed += x->levels()[i].span;
      x = x->levels()[i].forward;
    }
    if (traversed == target)
      return x;
  }
  return nullptr;
}

size_t zset_object::list_rank(double score, std::string_view member) const {
  size_t rank = 0;
  node* x = head_;
  for (int i = level_ - 1; i >= 0; --i) {
    for (node* f; (f = x->levels()[i].forward) != nullptr
                  && (before(f->score, f->member(), score, member)
                      || (f->score == score && f->member() == member));) {
      rank += x->levels()[i].span;
      x = f;
    }
    if (x != head_ && x->member() == member)
      return rank;
  }
  return 0;
}

// -- the packed form ---------------------------------------------------------------------

std::vector<std::pair<std::string_view, double>> zset_object::packed_items() const {
  std::vector<std::pair<std::string_view, double>> out;
  out.reserve(size_);
  packed_reader r{packed_};
  while (!r.done()) {
    auto m = r.string();
    auto raw = r.string();
    double s = 0;
    std::memcpy(&s, raw.data(), sizeof s);
    out.emplace_back(m, s);
  }
  return out;
}

void zset_object::each_packed(function_ref<bool(std::string_view, double)> fn) const {
  packed_reader r{packed_};
  while (!r.done()) {
    auto m = r.string();
    auto raw = r.string();
    double s = 0;
    std::memcpy(&s, raw.data(), sizeof s);
    if (!fn(m, s))
      return;
  }
}

std::vector<std::pair<std::string, double>> zset_object::packed_without(std::string_view member,
                                                                       bool& had) const {
  std::vector<std::pair<std::string, double>> items;
  items.reserve(size_);
  had = false;
  each_packed([&](std::string_view m, double s) {
    if (m == member)
      had = true;
    else
      items.emplace_back(std::string(m), s);
    return true;
  });
  return items;
}

void zset_object::set_packed(const std::vector<std::pair<std::string, double>>& items) {
  std::string bytes;
  for (const auto& [m, s] : items) {
    put_packed(bytes, m);
    char raw[sizeof(double)];
    std::memcpy(raw, &s, sizeof s);
    put_packed(bytes, std::string_view(raw, sizeof raw));
  }
  packed_ = std::move(bytes);
  size_ = items.size();
}

void zset_object::convert() {
  auto items = packed_items();
  std::vector<std::pair<std::string, double>> copy;
  for (auto& [m, s] : items)
    copy.emplace_back(std::string(m), s);
  packed_ = std::string();
  size_ = 0;
  big_ = true;
  size_t ignored = 0;
  head_ = node::make(max_level, 0, {}, ignored);
  for (auto& [m, s] : copy)
    list_insert(m, s);
}

// -- the operations ----------------------------------------------------------------------

std::optional<double> zset_object::score(std::string_view member) const {
  if (big_) {
    const char* n = by_member_.find(member);
    if (n == nullptr)
      return std::nullopt;
    return reinterpret_cast<const node*>(n)->score;
  }
  std::optional<double> found;
  each_packed([&](std::string_view m, double s) {
    if (m == member)
      found = s;
    return !found;
  });
  return found;
}

bool zset_object::add(std::string_view member, double score) {
  auto& l = limits();
  if (!big_ && (member.size() > limit_of(l.zset_max_value)
                || (size_ + 1 > limit_of(l.zset_max_entries) && !this->score(member))))
    convert();
  if (big_) {
    const char* found = by_member_.find(member);
    if (found != nullptr) {
      auto* n = const_cast<node*>(reinterpret_cast<const node*>(found));
      if (n->score != score)
        list_rescore(n, score);
      return false;
    }
    list_insert(member, score);
    return true;
  }
  bool had = false;
  auto items = packed_without(member, had);
  auto at = std::lower_bound(items.begin(), items.end(), std::make_pair(std::string(), score),
                             [&](const auto& a, const auto&) {
                               return before(a.second, a.first, score, member);
                             });
  items.insert(at, {std::string(member), score});
  set_packed(items);
  return !had;
}

bool zset_object::erase(std::string_view member) {
  if (big_) {
    const char* found = by_member_.find(member);
    if (found == nullptr)
      return false;
    list_erase(const_cast<node*>(reinterpret_cast<const node*>(found)));
    return true;
  }
  bool had = false;
  auto items = packed_without(member, had);
  if (had)
    set_packed(items);
  return had;
}

std::optional<size_t> zset_object::rank(std::string_view member) const {
  if (big_) {
    const char* found = by_member_.find(member);
    if (found == nullptr)
      return std::nullopt;
    auto* n = reinterpret_cast<const node*>(found);
    return list_rank(n->score, member) - 1;
  }
  size_t i = 0;
  for (auto& [m, s] : packed_items()) {
    if (m == member)
      return i;
    ++i;
  }
  return std::nullopt;
}

template <class Below>
size_t zset_object::count_while(const Below& below) const {
  if (!big_) { // packed: in order, so the members below come first
    size_t n = 0;
    each_packed([&](std::string_view m, double s) {
      if (!below(s, m))
        return false;
      ++n;
      return true;
    });
    return n;
  }
  size_t rank = 0;
  node* x = head_;
  for (int i = level_ - 1; i >= 0; --i)
    for (node* f; (f = x->levels()[i].forward) != nullptr && below(f->score, f->member());) {
      rank += x->levels()[i].span;
      x = f;
    }
  return rank;
}

size_t zset_object::count_below(double s, bool inclusive) const {
  return count_while([&](double x, std::string_view) { return x < s || (inclusive && x == s); });
}

size_t zset_object::count_below_lex(std::string_view m, bool inclusive) const {
  return count_while(
    [&](double, std::string_view x) { return x < m || (inclusive && x == m); });
}

void zset_object::for_ranks(size_t first, size_t last, bool reverse,
                            function_ref<bool(std::string_view, double)> fn) const {
  if (first > last || last >= size_)
    return;
  if (!big_ && !reverse) {
    size_t i = 0;
    each_packed([&](std::string_view m, double s) {
      if (i > last)
        return false;
      return i++ < first || fn(m, s);
    });
    return;
  }
  if (!big_) { // reverse: the pairs are found from the front, so gather them first
    auto items = packed_items();
    for (size_t i = last + 1; i-- > first;)
      if (!fn(items[i].first, items[i].second))
        return;
    return;
  }
  node* x = list_at(reverse ? last : first);
  for (size_t k = first; k <= last && x != nullptr; ++k) {
    if (!fn(x->member(), x->score))
      return;
    x = reverse ? x->backward : x->levels()[0].forward;
  }
}

uint64_t zset_object::scan(uint64_t cursor, size_t count,
                           function_ref<void(std::string_view, double)> fn) const {
  if (!big_) {
    if (size_ > 0)
      for_ranks(0, size_ - 1, false, [&](std::string_view m, double s) {
        fn(m, s);
        return true;
      });
    return 0;
  }
  return by_member_.scan(cursor, count, [&](const char* e) {
    auto* n = reinterpret_cast<const node*>(e);
    fn(n->member(), n->score);
  });
}

void zset_object::encode(std::string& out) const {
  put_varint(out, size_);
  if (size_ > 0)
    for_ranks(0, size_ - 1, false, [&](std::string_view m, double s) {
      put_packed(out, m);
      put_packed(out, record_score(s));
      return true;
    });
}

std::unique_ptr<object> zset_object::clone() const {
  auto copy = std::make_unique<zset_object>();
  if (!big_) {
    copy->packed_ = packed_;
    copy->size_ = size_;
    return copy;
  }
  copy->big_ = true;
  size_t ignored = 0;
  copy->head_ = node::make(max_level, 0, {}, ignored);
  for_ranks(0, size_ - 1, false, [&](std::string_view m, double s) {
    copy->list_insert(m, s);
    return true;
  });
  return copy;
}

size_t zset_object::memory() const noexcept {
  return big_ ? by_member_.memory() + node_bytes_ : packed_.capacity();
}

} // namespace otkv::store

#include "store/set_object.hpp"

#include "store/encoding_limits.hpp"
#include "store/packed.hpp"

namespace otkv::store {

bool is_integer_text(std::string_view s) noexcept {
  if (s.empty() || s.size() > 20)
    return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size() || s[i] < '0' || s[i] > '9' || (s[i] == '0' && s.size() > 1))
    return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10)
      return false;
    v = v * 10 + d;
  }
  return s[0] == '-' ? v <= uint64_t{1} << 63 : v < uint64_t{1} << 63;
}

std::string_view set_object::encoding() const noexcept {
  if (big_)
    return "hashtable";
  return integers_ ? "intset" : "listpack";
}

size_t set_object::find_packed(std::string_view member) const {
  packed_reader r{packed_};
  while (!r.done()) {
    size_t at = r.pos;
    if (r.string() == member)
      return at;
  }
  return std::string::npos;
}

bool set_object::contains(std::string_view member) const {
  return big_ ? table_.find(member) != nullptr : find_packed(member) != std::string::npos;
}

void set_object::convert() {
  packed_reader r{packed_};
  while (!r.done())
    table_.put(r.string(), {}, false);
  big_ = true;
  packed_ = std::string();
  count_ = 0;
}

bool set_object::add(std::string_view member) {
  if (big_)
    return table_.put(member, {}, false);
  if (find_packed(member) != std::string::npos)
    return false;
  bool integers = integers_ && is_integer_text(member);
  auto& l = limits();
  auto limit = integers ? limit_of(l.set_max_intset_entries) : limit_of(l.set_max_entries);
  if (count_ + 1 > limit || (!integers && member.size() > limit_of(l.set_max_value))) {
    convert();
    return table_.put(member, {}, false);
  }
  integers_ = integers;
  put_packed(packed_, member);
  ++count_;
  return true;
}

bool set_object::erase(std::string_view member) {
  if (big_)
    return table_.erase(member);
  size_t at = find_packed(member);
  if (at == std::string::npos)
    return false;
  packed_reader r{packed_, at};
  r.string();
  packed_.erase(at, r.pos - at);
  --count_;
  return true;
}

void set_object::for_each(function_ref<void(std::string_view)> fn) const {
  if (big_) {
    table_.for_each([&](const char* e) { fn(dense_table::first(e)); });
    return;
  }
  packed_reader r{packed_};
  while (!r.done())
    fn(r.string());
}

uint64_t set_object::scan(uint64_t cursor, size_t count,
                          function_ref<void(std::string_view)> fn) const {
  if (!big_) {
    for_each(fn);
    return 0;
  }
  return table_.scan(cursor, count, [&](const char* e) { fn(dense_table::first(e)); });
}

std::string_view set_object::random(uint64_t r) const {
  if (big_)
    return dense_table::first(table_.random(r));
  size_t n = static_cast<size_t>(r % count_);
  packed_reader rd{packed_};
  for (size_t i = 0; i < n; ++i)
    rd.string();
  return rd.string();
}

void set_object::encode(std::string& out) const {
  put_varint(out, size());
  if (!big_) {
    out += packed_;
    return;
  }
  for_each([&](std::string_view m) { put_packed(out, m); });
}

std::unique_ptr<object> set_object::clone() const {
  auto copy = std::make_unique<set_object>();
  if (!big_) {
    copy->packed_ = packed_;
    copy->count_ = count_;
    copy->integers_ = integers_;
    return copy;
  }
  copy->big_ = true;
  for_each([&](std::string_view m) { copy->table_.put(m, {}, false); });
  return copy;
}

size_t set_object::memory() const noexcept {
  return big_ ? table_.memory() : packed_.capacity();
}

} // namespace otkv::store

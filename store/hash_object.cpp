#include "store/hash_object.hpp"

#include "store/encoding_limits.hpp"
#include "store/packed.hpp"

namespace otkv::store {

size_t hash_object::find_packed(std::string_view field) const {
  packed_reader r{packed_};
  while (!r.done()) {
    size_t at = r.pos;
    auto f = r.string();
    r.string();
    if (f == field)
      return at;
  }
  return std::string::npos;
}

std::optional<std::string_view> hash_object::get(std::string_view field) const {
  if (big_) {
    const char* e = table_.find(field);
    if (e == nullptr)
      return std::nullopt;
    return dense_table::second(e);
  }
  size_t at = find_packed(field);
  if (at == std::string::npos)
    return std::nullopt;
  packed_reader r{packed_, at};
  r.string();
  return r.string();
}

void hash_object::convert() {
  packed_reader r{packed_};
  while (!r.done()) {
    auto f = r.string();
    auto v = r.string();
    table_.put(f, v, true);
  }
  big_ = true;
  packed_ = std::string();
  count_ = 0;
}

bool hash_object::set(std::string_view field, std::string_view value) {
  auto max_bytes = limit_of(limits().hash_max_value);
  if (!big_ && (field.size() > max_bytes || value.size() > max_bytes))
    convert();
  if (big_)
    return table_.put(field, value, true);
  size_t at = find_packed(field);
  if (at != std::string::npos) {
    packed_reader r{packed_, at};
    r.string();
    size_t value_at = r.pos;
    r.string();
    std::string fresh;
    put_packed(fresh, value);
    packed_.replace(value_at, r.pos - value_at, fresh);
    return false;
  }
  if (count_ + 1 > limit_of(limits().hash_max_entries)) {
    convert();
    return table_.put(field, value, true);
  }
  put_packed(packed_, field);
  put_packed(packed_, value);
  ++count_;
  return true;
}

bool hash_object::erase(std::string_view field) {
  if (big_)
    return table_.erase(field);
  size_t at = find_packed(field);
  if (at == std::string::npos)
    return false;
  packed_reader r{packed_, at};
  r.string();
  r.string();
  packed_.erase(at, r.pos - at);
  --count_;
  return true;
}

void hash_object::for_each(
  function_ref<void(std::string_view, std::string_view)> fn) const {
  if (big_) {
    table_.for_each([&](const char* e) { fn(dense_table::first(e), dense_table::second(e)); });
    return;
  }
  packed_reader r{packed_};
  while (!r.done()) {
    auto f = r.string();
    auto v = r.string();
    fn(f, v);
  }
}

uint64_t hash_object::scan(uint64_t cursor, size_t count,
                           function_ref<void(std::string_view, std::string_view)> fn) const {
  if (!big_) {
    for_each(fn);
    return 0;
  }
  return table_.scan(cursor, count, [&](const char* e) {
    fn(dense_table::first(e), dense_table::second(e));
  });
}

std::pair<std::string_view, std::string_view> hash_object::random(uint64_t r) const {
  if (big_) {
    const char* e = table_.random(r);
    return {dense_table::first(e), dense_table::second(e)};
  }
  size_t n = static_cast<size_t>(r % count_);
  packed_reader rd{packed_};
  for (size_t i = 0; i < n; ++i) {
    rd.string();
    rd.string();
  }
  auto f = rd.string();
  return {f, rd.string()};
}

void hash_object::encode(std::string& out) const {
  put_varint(out, size());
  if (!big_) {
    out += packed_;
    return;
  }
  for_each([&](std::string_view f, std::string_view v) {
    put_packed(out, f);
    put_packed(out, v);
  });
}

std::unique_ptr<object> hash_object::clone() const {
  auto copy = std::make_unique<hash_object>();
  if (!big_) {
    copy->packed_ = packed_;
    copy->count_ = count_;
    return copy;
  }
  copy->big_ = true;
  for_each([&](std::string_view f, std::string_view v) { copy->table_.put(f, v, true); });
  return copy;
}

size_t hash_object::memory() const noexcept {
  return big_ ? table_.memory() : packed_.capacity();
}

} // namespace otkv::store

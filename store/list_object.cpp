#include "store/list_object.hpp"

#include <algorithm>

#include "store/encoding_limits.hpp"
#include "store/packed.hpp"

namespace otkv::store {

bool list_object::fits(const node& n, std::string_view item) noexcept {
  int64_t limit = limit_of(limits().list_max_node);
  if (limit >= 0)
    return n.count < static_cast<uint64_t>(std::max<int64_t>(limit, 1));
  size_t bytes = size_t{4096} << std::min<int64_t>(4, -limit - 1);
  // A node holds at least one item, whatever its size.
  return n.count == 0 || (n.count < 128 && n.bytes.size() + item.size() + 2 <= bytes);
}

void list_object::push(bool front, std::string_view item) {
  if (nodes_.empty() || !fits(front ? nodes_.front() : nodes_.back(), item)) {
    if (front)
      nodes_.emplace_front();
    else
      nodes_.emplace_back();
  }
  node& n = front ? nodes_.front() : nodes_.back();
  if (front) {
    std::string packed;
    put_packed(packed, item);
    n.bytes.insert(0, packed);
  } else {
    put_packed(n.bytes, item);
  }
  ++n.count;
  ++size_;
}

std::string list_object::pop(bool front) {
  node& n = front ? nodes_.front() : nodes_.back();
  packed_reader r{n.bytes};
  std::string out;
  if (front) {
    out = std::string(r.string());
    n.bytes.erase(0, r.pos);
  } else {
    size_t last = 0;
    std::string_view item;
    while (!r.done()) {
      last = r.pos;
      item = r.string();
    }
    out = std::string(item);
    n.bytes.resize(last);
  }
  --size_;
  if (--n.count == 0) {
    if (front)
      nodes_.pop_front();
    else
      nodes_.pop_back();
  }
  return out;
}

std::pair<size_t, size_t> list_object::locate(size_t index) const {
  if (index >= size_ / 2 && !nodes_.empty()) { // nearer the tail: walk from there
    size_t from_end = size_ - index; // ≥ 1
    for (size_t k = nodes_.size(); k-- > 0;) {
      if (from_end <= nodes_[k].count)
        return {k, nodes_[k].count - from_end};
      from_end -= nodes_[k].count;
    }
  }
  for (size_t k = 0; k < nodes_.size(); ++k) {
    if (index < nodes_[k].count)
      return {k, index};
    index -= nodes_[k].count;
  }
  return {nodes_.size(), 0};
}

std::vector<std::string> list_object::items_of(const node& n) {
  std::vector<std::string> out;
  out.reserve(n.count);
  packed_reader r{n.bytes};
  while (!r.done())
    out.emplace_back(r.string());
  return out;
}

void list_object::rebuild(size_t at, const std::vector<std::string>& items) {
  std::vector<node> fresh;
  for (const auto& item : items) {
    if (fresh.empty() || !fits(fresh.back(), item))
      fresh.emplace_back();
    put_packed(fresh.back().bytes, item);
    ++fresh.back().count;
  }
  auto pos = [&](size_t j) { return nodes_.begin() + static_cast<std::ptrdiff_t>(at + j); };
  if (fresh.empty()) {
    nodes_.erase(pos(0));
    return;
  }
  nodes_[at] = std::move(fresh[0]);
  for (size_t j = 1; j < fresh.size(); ++j)
    nodes_.insert(pos(j), std::move(fresh[j]));
}

std::string_view list_object::at(size_t index) const {
  auto [k, i] = locate(index);
  packed_reader r{nodes_[k].bytes};
  for (size_t j = 0; j < i; ++j)
    r.string();
  return r.string();
}

void list_object::set(size_t index, std::string_view item) {
  auto [k, i] = locate(index);
  auto items = items_of(nodes_[k]);
  items[i] = std::string(item);
  rebuild(k, items);
}

void list_object::insert(size_t index, std::string_view item) {
  if (index == 0) {
    push(true, item);
    return;
  }
  if (index >= size_) {
    push(false, item);
    return;
  }
  auto [k, i] = locate(index);
  auto items = items_of(nodes_[k]);
  items.insert(items.begin() + static_cast<std::ptrdiff_t>(i), std::string(item));
  rebuild(k, items);
  ++size_;
}

void list_object::erase(size_t index) {
  auto [k, i] = locate(index);
  auto items = items_of(nodes_[k]);
  items.erase(items.begin() + static_cast<std::ptrdiff_t>(i));
  rebuild(k, items);
  --size_;
}

void list_object::drop(bool front, size_t n) {
  while (n > 0 && !nodes_.empty()) {
    node& edge = front ? nodes_.front() : nodes_.back();
    if (edge.count <= n) { // the whole node goes
      n -= edge.count;
      size_ -= edge.count;
      if (front)
        nodes_.pop_front();
      else
        nodes_.pop_back();
      continue;
    }
    for (; n > 0; --n)
      pop(front);
  }
}

void list_object::for_range(size_t start, size_t stop,
                            function_ref<bool(std::string_view)> fn) const {
  if (start > stop || start >= size_)
    return;
  auto [k, i] = locate(start);
  size_t left = stop - start + 1;
  for (; k < nodes_.size() && left > 0; ++k, i = 0) {
    packed_reader r{nodes_[k].bytes};
    for (size_t j = 0; j < i; ++j)
      r.string();
    while (!r.done() && left > 0) {
      if (!fn(r.string()))
        return;
      --left;
    }
  }
}

void list_object::encode(std::string& out) const {
  put_varint(out, size_);
  for (const auto& n : nodes_)
    out += n.bytes;
}

std::unique_ptr<object> list_object::clone() const {
  auto copy = std::make_unique<list_object>();
  copy->nodes_ = nodes_;
  copy->size_ = size_;
  return copy;
}

size_t list_object::memory() const noexcept {
  size_t bytes = nodes_.size() * sizeof(node);
  for (const auto& n : nodes_)
    bytes += n.bytes.capacity();
  return bytes;
}

} // namespace otkv::store

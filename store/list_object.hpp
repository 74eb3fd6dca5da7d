#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "store/function_ref.hpp"
#include "store/object.hpp"

namespace otkv::store {

/// A list ("quicklist", as Redis's): a deque of nodes, each one packed buffer of up to
/// list-max-listpack-size items or bytes (encoding_limits; default 8 KiB, at most 128 items). Pushes and pops at either end touch one
/// node; an index walks the nodes (n / 128 steps), then one node.
class list_object final : public object {
public:
  /// The type this class holds.
  static constexpr value_type kind = value_type::list;

  value_type type() const noexcept override { return value_type::list; }
  size_t size() const noexcept override { return size_; }
  std::string_view encoding() const noexcept override { return "quicklist"; }
  void encode(std::string& out) const override;
  std::unique_ptr<object> clone() const override;
  size_t memory() const noexcept override;

  /// Adds `item` at the head (`front`) or the tail.
  void push(bool front, std::string_view item);
  /// Removes and returns the head or tail item; the list must not be empty.
  std::string pop(bool front);
  /// The item at `index` (< size()).
  std::string_view at(size_t index) const;
  /// Replaces the item at `index` (< size()).
  void set(size_t index, std::string_view item);
  /// Inserts `item` before position `index` (≤ size(); size() appends).
  void insert(size_t index, std::string_view item);
  /// Removes the item at `index` (< size()).
  void erase(size_t index);
  /// Removes `n` items from the head (`front`) or the tail (at most size()).
  void drop(bool front, size_t n);
  /// Calls `fn(item)` for the items from `start` to `stop` (inclusive, < size()), in
  /// order; `fn` returns false to stop early.
  void for_range(size_t start, size_t stop, function_ref<bool(std::string_view)> fn) const;

private:
  struct node {
    std::string bytes;
    size_t count = 0;
  };
  std::deque<node> nodes_;
  size_t size_ = 0;

  /// The node holding `index` and the index within it.
  std::pair<size_t, size_t> locate(size_t index) const;
  static std::vector<std::string> items_of(const node& n);
  /// Replaces node `at` by nodes holding `items` (split to respect the limits).
  void rebuild(size_t at, const std::vector<std::string>& items);
  static bool fits(const node& n, std::string_view item) noexcept;
};

} // namespace otkv::store

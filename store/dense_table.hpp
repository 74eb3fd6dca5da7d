#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store/function_ref.hpp"

namespace otkv::store {

/// The large form of a hash or a set: an open-addressing table (linear probing, no
/// wrap-around) of elements, each one allocation holding one packed string (a set member)
/// or two (a hash field and its value), found by its first. A slot is 8 bytes: the
/// element's address with 16 bits of its hash in the top bits, so most mismatches are
/// rejected without touching the element.
class dense_table {
public:
  /// An element's name, for tables of elements they do not own (external mode).
  using name_fn = std::string_view (*)(const char* element) noexcept;

  dense_table() = default;
  /// A table of elements owned elsewhere (a sorted set's skip-list nodes), named by `fn`:
  /// use insert_external and remove; erase and destruction free nothing.
  explicit dense_table(name_fn fn) noexcept : name_(fn), owns_(false) {}
  dense_table(const dense_table&) = delete;
  dense_table& operator=(const dense_table&) = delete;
  dense_table(dense_table&& other) noexcept;
  dense_table& operator=(dense_table&& other) noexcept;
  ~dense_table();

  /// Number of elements.
  size_t size() const noexcept { return size_; }

  /// The element whose first string is `name`, or nullptr.
  const char* find(std::string_view name) const noexcept;

  /// Stores the element (`name`, and `value` when `pair`), replacing the one with the same
  /// name; returns whether it is new.
  bool put(std::string_view name, std::string_view value, bool pair);

  /// Removes the element named `name`; returns whether there was one.
  bool erase(std::string_view name);

  /// Adds an element owned elsewhere (external mode) whose name is not in the table.
  void insert_external(const char* element);
  /// Takes the element named `name` out of the table (not freed); nullptr if none.
  const char* remove(std::string_view name);

  /// Calls `fn(element)` for every element.
  void for_each(function_ref<void(const char*)> fn) const;

  /// Visits elements from `cursor` (0: the start) until at least `count` were passed to
  /// `fn` and a run of slots ended; returns the cursor to continue from, 0 when done.
  /// Elements present during the whole scan are visited at least once, even if the
  /// table grows or shrinks in between (a cursor is a prefix of the hash space).
  uint64_t scan(uint64_t cursor, size_t count, function_ref<void(const char*)> fn) const;

  /// An element picked from a random slot (`r`: a random number); nullptr when empty.
  const char* random(uint64_t r) const noexcept;

  /// Bytes allocated: the slots and the elements.
  size_t memory() const noexcept;

  /// An element's first string (the member, or the field).
  static std::string_view first(const char* element) noexcept;
  /// An element's second string (the field's value).
  static std::string_view second(const char* element) noexcept;

private:
  uint64_t* slots_ = nullptr;
  size_t capacity_ = 0; // 2^bits_ home slots and the tail past them
  unsigned bits_ = 0;
  size_t size_ = 0;
  size_t element_bytes_ = 0;
  name_fn name_ = nullptr; // nullptr: the element's first packed string
  bool owns_ = true;

  std::string_view name_of(const char* element) const noexcept;
  size_t home(uint64_t hash) const noexcept;
  /// Rebuilds the table with 2^bits home slots.
  void resize(unsigned bits);
  /// Places an element (absent from the table); false if its run would pass the end.
  bool place(uint64_t slot_value, uint64_t hash);
  void free_all() noexcept;
};

} // namespace otkv::store

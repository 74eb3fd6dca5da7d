#pragma once

#include <string>
#include <string_view>

#include "store/dense_table.hpp"
#include "store/function_ref.hpp"
#include "store/object.hpp"

namespace otkv::store {

/// A set of members. Small ones are one packed buffer of members, searched linearly
/// ("intset" while every member is an integer, up to set-max-intset-entries of them, else
/// "listpack", up to set-max-listpack-entries); past that, or with a member longer than
/// set-max-listpack-value (encoding_limits), a dense_table ("hashtable"), for good.
class set_object final : public object {
public:
  /// The type this class holds.
  static constexpr value_type kind = value_type::set;

  value_type type() const noexcept override { return value_type::set; }
  size_t size() const noexcept override { return big_ ? table_.size() : count_; }
  std::string_view encoding() const noexcept override;
  void encode(std::string& out) const override;
  std::unique_ptr<object> clone() const override;
  size_t memory() const noexcept override;

  /// Whether `member` is in the set.
  bool contains(std::string_view member) const;
  /// Adds `member`; returns whether it is new.
  bool add(std::string_view member);
  /// Removes `member`; returns whether it was there.
  bool erase(std::string_view member);
  /// Calls `fn(member)` for every member.
  void for_each(function_ref<void(std::string_view)> fn) const;
  /// SSCAN: visits from `cursor` (dense_table::scan's); a packed set is visited whole.
  uint64_t scan(uint64_t cursor, size_t count,
                function_ref<void(std::string_view)> fn) const;
  /// A member picked at random (`r`: a random number); the set must not be empty.
  std::string_view random(uint64_t r) const;

private:
  std::string packed_;
  size_t count_ = 0;
  bool integers_ = true; // every packed member is an integer
  bool big_ = false;
  dense_table table_;

  size_t find_packed(std::string_view member) const;
  void convert();
};

/// Whether `s` is an integer as Redis's string2ll reads one (no sign +, no leading zero).
bool is_integer_text(std::string_view s) noexcept;

} // namespace otkv::store

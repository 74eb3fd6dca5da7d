#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/dense_table.hpp"
#include "store/function_ref.hpp"
#include "store/object.hpp"

namespace otkv::store {

/// A hash: fields and their values. Small ones are one packed buffer of field, value,
/// field, value … ("listpack", searched linearly); past hash-max-listpack-entries fields or
/// a string longer than hash-max-listpack-value (encoding_limits) it becomes a dense_table
/// ("hashtable"), for good.
class hash_object final : public object {
public:
  /// The type this class holds.
  static constexpr value_type kind = value_type::hash;

  value_type type() const noexcept override { return value_type::hash; }
  size_t size() const noexcept override { return big_ ? table_.size() : count_; }
  std::string_view encoding() const noexcept override { return big_ ? "hashtable" : "listpack"; }
  void encode(std::string& out) const override;
  std::unique_ptr<object> clone() const override;
  size_t memory() const noexcept override;

  /// The value of `field`, if there is one.
  std::optional<std::string_view> get(std::string_view field) const;
  /// Sets `field` to `value`; returns whether the field is new.
  bool set(std::string_view field, std::string_view value);
  /// Removes `field`; returns whether it was there.
  bool erase(std::string_view field);
  /// Calls `fn(field, value)` for every field.
  void for_each(function_ref<void(std::string_view, std::string_view)> fn) const;
  /// HSCAN: visits from `cursor` (dense_table::scan's); a packed hash is visited whole.
  uint64_t scan(uint64_t cursor, size_t count,
                function_ref<void(std::string_view, std::string_view)> fn) const;
  /// A field picked at random (`r`: a random number); the hash must not be empty.
  std::pair<std::string_view, std::string_view> random(uint64_t r) const;

private:
  std::string packed_;
  size_t count_ = 0;
  bool big_ = false;
  dense_table table_;

  /// The offset of `field`'s entry in packed_, or npos.
  size_t find_packed(std::string_view field) const;
  void convert();
};

} // namespace otkv::store

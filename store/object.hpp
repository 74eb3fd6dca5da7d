#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace otkv::store {

/// What a key holds (TYPE's answer). The numbers are stored in snapshots and op logs.
enum class value_type : uint8_t { string = 0, list = 1, set = 2, zset = 3, hash = 4 };

/// TYPE's name of `t`: "string", "list", "set", "zset", "hash".
std::string_view type_name(value_type t) noexcept;

/// A value other than a string (an aggregate), owned by its key's entry.
class object {
public:
  virtual ~object() = default;
  /// Which aggregate this is.
  virtual value_type type() const noexcept = 0;
  /// Number of elements (fields, items, members).
  virtual size_t size() const noexcept = 0;
  /// OBJECT ENCODING's name of the current representation.
  virtual std::string_view encoding() const noexcept = 0;
  /// Appends the elements: a varint count, then packed strings (store/packed.hpp).
  virtual void encode(std::string& out) const = 0;
  /// A deep copy (COPY).
  virtual std::unique_ptr<object> clone() const = 0;
  /// Bytes allocated for the elements (MEMORY USAGE, snapshot sizing).
  virtual size_t memory() const noexcept = 0;
};

/// The serialised form of `o`: its type byte, then its encode() bytes.
std::string encode_object(const object& o);

/// Rebuilds an object from encode_object's bytes; nullptr if they are malformed.
std::unique_ptr<object> decode_object(std::string_view bytes);

/// A new empty aggregate of type `t` (not string).
std::unique_ptr<object> make_object(value_type t);

} // namespace otkv::store

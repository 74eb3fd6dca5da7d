#pragma once

// An in-place change of an aggregate, as packed strings, its name first ("hset f v …").
// The command families make one, apply it to the live aggregate and report it to the
// partition's sink (partition::note_change); recovery and chain replicas replay it with
// the same apply_change, so a change means the same thing live and on replay.
//
//   hset (field value)…   hdel field…         set the fields / remove them
//   sadd member…          srem member…        add / remove members
//   zadd (score member)…  zrem member…        set the members' scores ("%.17g") / remove
//   lpush item…           rpush item…         push each at the head / tail, in order
//   lpop n                rpop n              remove n items from the head / tail
//   lset index item       linsert index item  replace / insert before position index
//   lrem count item                           LREM's own semantics
//   ltrim head tail                           drop that many items from each end

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "store/object.hpp"
#include "store/packed.hpp"

namespace otkv::store {

/// Builds a change: its name, then its arguments.
class change_builder {
public:
  /// Without `kept` (partition::records_kept) nothing is encoded: a change applied
  /// directly, whose record nobody would keep, skips building it.
  explicit change_builder(std::string_view name, bool kept = true) : kept_(kept) {
    if (kept_)
      put_packed(bytes_, name);
  }
  change_builder& add(std::string_view s) {
    if (kept_)
      put_packed(bytes_, s);
    return *this;
  }
  change_builder& add(int64_t n) { return kept_ ? add(std::to_string(n)) : *this; }
  /// Whether the arguments are encoded (false: bytes() stays empty).
  bool kept() const noexcept { return kept_; }
  /// The encoded change.
  const std::string& bytes() const noexcept { return bytes_; }

private:
  bool kept_;
  std::string bytes_;
};

/// The aggregate type a change applies to (string if its name is unknown).
value_type change_type(std::string_view change);

/// Applies `change` to `o`; false (nothing changed) if it is malformed or for another type.
bool apply_change(object& o, std::string_view change);

} // namespace otkv::store

#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/dense_table.hpp"
#include "store/function_ref.hpp"
#include "store/object.hpp"

namespace otkv::store {

/// A sorted set: members ordered by (score, member bytes). Small ones are one packed
/// buffer of member, score pairs in order ("listpack"); past zset-max-listpack-entries
/// members or a member longer than zset-max-listpack-value (encoding_limits), a skip list
/// with spans (O(log n) insert, remove, rank and rank → element, as Redis's) whose nodes a
/// dense_table finds by member ("skiplist"), for good.
class zset_object final : public object {
public:
  /// The type this class holds.
  static constexpr value_type kind = value_type::zset;

  zset_object();
  ~zset_object() override;
  zset_object(const zset_object&) = delete;
  zset_object& operator=(const zset_object&) = delete;

  value_type type() const noexcept override { return kind; }
  size_t size() const noexcept override { return size_; }
  std::string_view encoding() const noexcept override { return big_ ? "skiplist" : "listpack"; }
  /// A varint count, then member and score (as "%.17g" text) pairs in order.
  void encode(std::string& out) const override;
  std::unique_ptr<object> clone() const override;
  size_t memory() const noexcept override;

  /// The score of `member`, if it is in the set.
  std::optional<double> score(std::string_view member) const;
  /// Adds `member` with `score`, or moves it there; returns whether it is new.
  bool add(std::string_view member, double score);
  /// Removes `member`; returns whether it was there.
  bool erase(std::string_view member);
  /// The 0-based rank of `member` in ascending order, if it is in the set.
  std::optional<size_t> rank(std::string_view member) const;
  /// How many members order before score `s` (`inclusive`: before or at it).
  size_t count_below(double s, bool inclusive) const;
  /// How many members order before member `m` by bytes (`inclusive`: or equal); meaningful
  /// when every score is the same, as Redis's lexicographic ranges assume.
  size_t count_below_lex(std::string_view m, bool inclusive) const;
  /// Calls `fn(member, score)` for ranks `first` … `last` (inclusive, < size()), ascending,
  /// or descending from `last` when `reverse`; `fn` returns false to stop.
  void for_ranks(size_t first, size_t last, bool reverse,
                 function_ref<bool(std::string_view, double)> fn) const;

  /// ZSCAN: visits from `cursor` (dense_table::scan's over the members); a packed set is
  /// visited whole.
  uint64_t scan(uint64_t cursor, size_t count,
                function_ref<void(std::string_view, double)> fn) const;

private:
  struct node;
  bool big_ = false;
  size_t size_ = 0;
  std::string packed_; // member, 8-byte score, … in order
  // The skip list (big_).
  node* head_ = nullptr;
  node* tail_ = nullptr;
  int level_ = 1;
  dense_table by_member_;
  size_t node_bytes_ = 0;

  std::vector<std::pair<std::string_view, double>> packed_items() const;
  /// Calls `fn(member, score)` for the packed pairs in order until it returns false.
  void each_packed(function_ref<bool(std::string_view, double)> fn) const;
  void set_packed(const std::vector<std::pair<std::string, double>>& items);
  /// The packed pairs, copied, but `member`'s (`had`: whether it was there).
  std::vector<std::pair<std::string, double>> packed_without(std::string_view member,
                                                             bool& had) const;
  void convert();
  void list_insert(std::string_view member, double score);
  void list_erase(node* x);
  /// Links `x` (not in the list) where its score and member order it / unlinks it (still
  /// allocated, still in by_member_); size_ counts the linked nodes. by_member_ is the
  /// callers' to keep.
  void list_link(node* x);
  void list_unlink(node* x);
  /// Gives the listed node `n` a new score, keeping the order.
  void list_rescore(node* n, double score);
  node* list_at(size_t rank) const; // 0-based
  size_t list_rank(double score, std::string_view member) const; // 1-based
  static std::string_view name_of(const char* n) noexcept;
  /// How many members, from the first, satisfy `below(score, member)` (a prefix: the
  /// skip list walk assumes it is one, as Redis's range searches do).
  template <class Below>
  size_t count_while(const Below& below) const;
};

/// A score as Redis writes one: "%.17g", "inf" and "-inf".
std::string format_score(double d);

/// A score as the shortest text that reads back as exactly it (parse_score), for change
/// records; replies use format_score.
std::string record_score(double d);

/// Reads a score as Redis's ZADD does: strtod of the whole text, "inf"/"+inf"/"-inf"
/// allowed, NaN refused, and a value past the range of a double (1e500, or 1e-500 read as
/// 0) refused. With `saturate`, such a value reads as ±inf or 0 instead, as Redis reads a
/// range bound (ZRANGEBYSCORE key -1e500 1e500).
bool parse_score(std::string_view text, double& out, bool saturate = false);

} // namespace otkv::store

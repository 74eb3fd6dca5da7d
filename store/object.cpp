#include "store/object.hpp"

#include "store/hash_object.hpp"
#include "store/list_object.hpp"
#include "store/packed.hpp"
#include "store/set_object.hpp"
#include "store/zset_object.hpp"

namespace otkv::store {

std::string_view type_name(value_type t) noexcept {
  switch (t) {
    case value_type::string:
      return "string";
    case value_type::list:
      return "list";
    case value_type::set:
      return "set";
    case value_type::zset:
      return "zset";
    case value_type::hash:
      return "hash";
  }
  return "none";
}

std::unique_ptr<object> make_object(value_type t) {
  switch (t) {
    case value_type::hash:
      return std::make_unique<hash_object>();
    case value_type::set:
      return std::make_unique<set_object>();
    case value_type::list:
      return std::make_unique<list_object>();
    case value_type::zset:
      return std::make_unique<zset_object>();
    default:
      return nullptr;
  }
}

std::string encode_object(const object& o) {
  std::string out;
  out.push_back(static_cast<char>(o.type()));
  o.encode(out);
  return out;
}

std::unique_ptr<object> decode_object(std::string_view bytes) {
  if (bytes.empty())
    return nullptr;
  auto type = static_cast<value_type>(bytes[0]);
  auto o = make_object(type);
  if (!o)
    return nullptr;
  packed_reader r{bytes, 1};
  uint64_t count = r.varint();
  for (uint64_t i = 0; i < count && r.ok; ++i) {
    auto first = r.string();
    if (!r.ok)
      break;
    switch (type) {
      case value_type::hash: {
        auto second = r.string();
        if (r.ok)
          static_cast<hash_object&>(*o).set(first, second);
        break;
      }
      case value_type::set:
        static_cast<set_object&>(*o).add(first);
        break;
      case value_type::list:
        static_cast<list_object&>(*o).push(false, first);
        break;
      case value_type::zset: {
        double score = 0;
        if (!parse_score(r.string(), score))
          r.ok = false;
        else if (r.ok)
          static_cast<zset_object&>(*o).add(first, score);
        break;
      }
      default:
        break;
    }
  }
  if (!r.ok || !r.done() || o->size() != count)
    return nullptr;
  return o;
}

} // namespace otkv::store

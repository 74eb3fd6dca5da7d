// The command table: built once from each family's register function, in a fixed
// order (explicit calls: a static library drops self-registering objects nobody names),
// and looked up by name.

#include <algorithm>
#include <cctype>
#include <cstring>
#include <unordered_map>

#include "commands/command_table.hpp"
#include "store/key_hash.hpp"

namespace otkv::cmd {

namespace {

/// Every command, in table order: string, keyspace, then server family.
const command_registry& table() {
  static const command_registry t = [] {
    command_registry r;
    register_string_family(r);
    register_keyspace_family(r);
    register_hash_family(r);
    register_list_family(r);
    register_set_family(r);
    register_zset_family(r);
    register_bit_family(r);
    register_server_family(r);
    register_cluster_family(r);
    register_transaction_family(r);
    register_script_family(r);
    return r;
  }();
  return t;
}

/// The keys' FNV-1a: command names are short, and std::hash's murmur costs more here.
struct name_hash {
  size_t operator()(std::string_view s) const noexcept {
    return static_cast<size_t>(store::key_hash(s));
  }
};

/// Names (lower case, from the static table) to entries.
const std::unordered_map<std::string_view, const command*, name_hash>& index() {
  static const auto idx = [] {
    std::unordered_map<std::string_view, const command*, name_hash> m;
    for (const auto& c : table())
      m.emplace(c.name, &c);
    return m;
  }();
  return idx;
}

} // namespace

const std::vector<command>& command_table() {
  return table();
}

const command* find_command(std::string_view name) {
  char buf[32];
  if (name.size() >= sizeof(buf))
    return nullptr;
  for (size_t i = 0; i < name.size(); ++i) // ASCII only, as std::tolower in the C locale
    buf[i] = name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] + ('a' - 'A')) : name[i];
  // The last name looked up on this thread, as sent: a pipeline mostly repeats one command.
  thread_local char last[32];
  thread_local size_t last_size = sizeof(last);
  thread_local const command* last_found = nullptr;
  if (name.size() == last_size && std::memcmp(last, name.data(), name.size()) == 0)
    return last_found;
  auto i = index().find(std::string_view(buf, name.size()));
  last_found = i == index().end() ? nullptr : i->second;
  std::memcpy(last, name.data(), name.size());
  last_size = name.size();
  return last_found;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size())
    return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != lower[i])
      return false;
  return true;
}

} // namespace otkv::cmd

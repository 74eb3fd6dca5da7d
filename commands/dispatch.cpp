#include "commands/dispatch.hpp"

#include <cstdlib>
#include <exception>

#include "commands/errors.hpp"
#include "net/integer.hpp"
#include "store/key_hash.hpp"

namespace otkv::cmd {

namespace {

} // namespace

int last_key(const command& c, const net::arg_list& args) {
  auto argc = static_cast<int>(args.size());
  if (!movable_keys(c))
    return c.last_key < 0 ? argc + c.last_key : c.last_key;
  bool dest = c.last_key == dest_numkeys_last;
  int count_at = dest ? c.first_key + 1 : c.first_key - 1; // the numkeys word
  int64_t n = 0;
  if (c.first_key < 1 || count_at + 1 >= argc
      || !net::parse_int64(args[static_cast<size_t>(count_at)], n) || n < 1)
    return c.first_key;
  return static_cast<int>(std::min<int64_t>(count_at + n, argc - 1));
}

const command* resolve(const net::arg_list& args, net::reply& error) {
  const command* c = args[0].find('|') == std::string::npos ? find_command(args[0]) : nullptr;
  if (c != nullptr && (c->flags & flag::subcommands) != 0 && args.size() >= 2)
    if (const command* sub = find_command(args[0] + "|" + args[1]))
      c = sub;
  if (c == nullptr) {
    error = err::unknown_command(args);
    return nullptr;
  }
  auto argc = static_cast<int>(args.size());
  if ((c->arity > 0 && argc != c->arity) || (c->arity < 0 && argc < -c->arity)) {
    error = err::arity(c->name);
    return nullptr;
  }
  if (c->where == route::keys && c->key_step > 1
      && (argc - c->first_key) % c->key_step != 0) {
    error = err::arity(c->name);
    return nullptr;
  }
  return c;
}

bool check_auth(const command& c, const client_context& client, net::reply& error) {
  if (client.authenticated || (c.flags & flag::noauth) != 0)
    return true;
  error = err::noauth();
  return false;
}

bool check_writable(const command& c, const server_info& server, net::reply& error) {
  if ((c.flags & flag::write) == 0 || !server.log_error)
    return true;
  int err = server.log_error->load(std::memory_order_relaxed);
  if (err == 0)
    return true;
  error = err::misconf(err);
  return false;
}

bool check_partitions(const command& c, const net::arg_list& args, const key_router& router,
                      net::reply& error) {
  if ((c.flags & flag::one_partition) == 0)
    return true;
  bool write = (c.flags & flag::write) != 0;
  const auto& first_key = args[static_cast<size_t>(c.first_key)];
  uint32_t first = router.target_of(first_key, write);
  uint16_t slot = cluster::key_slot(first_key);
  bool one = true;
  for_each_key(c, args, [&](int k) {
    const auto& key = args[static_cast<size_t>(k)];
    one = one && router.target_of(key, write) == first
          && (router.slot_ordinal == nullptr || cluster::key_slot(key) == slot);
  });
  if (!one)
    error = err::crossslot();
  return one;
}

bool check_cluster(const command& c, const net::arg_list& args, const cluster::view* cluster,
                   net::reply& error, bool readonly) {
  if (cluster != nullptr && cluster->coordinated() && c.where != route::connection
      && c.where != route::node && !cluster->serving(cluster::steady_now_ms())) {
    error = err::not_serving();
    return false;
  }
  if (cluster != nullptr && cluster->replicated() && (c.flags & flag::write) != 0) {
    // A write commits only once every node of its chain applied it: with one down it
    // would wait out the request budget, so it is refused at once.
    bool keyed = c.first_key > 0 && static_cast<size_t>(c.first_key) < args.size();
    bool complete = keyed ? cluster->chain_up(cluster->chain_of(cluster->owner(
                              cluster::key_slot(args[static_cast<size_t>(c.first_key)]))))
                          : cluster->all_chains_up();
    if (!complete) {
      error = err::clusterdown();
      return false;
    }
  }
  if (cluster == nullptr || c.first_key <= 0 || static_cast<size_t>(c.first_key) >= args.size()
      || (!cluster->redirect() && !cluster->any_frozen()))
    return true;
  bool frozen = false;
  if (cluster->any_frozen() && (c.flags & flag::moves_slots) == 0)
    for_each_key(c, args, [&](int k) {
      frozen = frozen || cluster->frozen(cluster::key_slot(args[static_cast<size_t>(k)]));
    });
  if (frozen) {
    error = err::tryagain();
    return false;
  }
  if (!cluster->redirect())
    return true;
  uint16_t slot = cluster::key_slot(args[static_cast<size_t>(c.first_key)]);
  bool one = true;
  for_each_key(c, args, [&](int k) {
    one = one && cluster::key_slot(args[static_cast<size_t>(k)]) == slot;
  });
  if (!one) {
    error = err::crossslot();
    return false;
  }
  if (cluster->owner(slot) == cluster->self()
      || (readonly && (c.flags & flag::write) == 0 && cluster->member(slot, cluster->self())))
    return true;
  error = err::moved(slot, cluster->address_of(slot));
  return false;
}

std::vector<part> split(const command& c, net::arg_list&& args, const key_router& router,
                        fanout& f, bool write) {
  uint32_t partitions = router.targets();
  write = write || (c.flags & flag::write) != 0;
  std::vector<part> parts;
  switch (c.where) {
    case route::connection:
      break;
    case route::key:
      parts.push_back({router.target_of(args[c.first_key], write), std::move(args)});
      break;
    case route::cursor: { // one part: the place the cursor names (else 0: merged as invalid)
      uint64_t place = std::strtoull(args[1].c_str(), nullptr, 10) >> scan_position_bits;
      f.args = args;
      f.places = partitions;
      auto at = place < partitions ? static_cast<uint32_t>(place) : 0;
      f.next_place = router.next_place(at);
      parts.push_back({at, std::move(args)});
      break;
    }
    case route::node:
      partitions = router.partitions;
      [[fallthrough]];
    case route::all: {
      f.args = args;
      const auto* fan = c.where == route::all ? router.fan(write) : nullptr;
      if (fan == nullptr) {
        parts.reserve(partitions);
        for (uint32_t p = 0; p < partitions; ++p)
          parts.push_back({p, p + 1 == partitions ? std::move(args) : args});
        break;
      }
      for (const auto& chain : *fan) { // one node of each chain
        uint32_t o = chain.load(std::memory_order_acquire);
        for (uint32_t p = 0; p < router.partitions; ++p)
          parts.push_back({o * router.partitions + p, args});
      }
      break;
    }
    case route::keys: {
      int last = last_key(c, args);
      int step = c.key_step;
      f.keys = 0;
      // Fast path: every key in the first key's partition (always so for one_partition
      // commands: check_partitions refused the others).
      uint32_t first_p = router.target_of(args[c.first_key], write);
      bool one = true;
      for_each_key(c, args, [&](int k) {
        ++f.keys;
        one = one && ((c.flags & flag::one_partition) != 0
                      || router.target_of(args[static_cast<size_t>(k)], write) == first_p);
      });
      if (one) {
        if (c.flags & flag::merged) // merged even as one part: its keys in order
          for (uint32_t k = 0; k < f.keys; ++k)
            (f.slots.empty() ? f.slots.emplace_back() : f.slots.back()).push_back(k);
        parts.push_back({first_p, std::move(args)});
        break;
      }
      std::vector<int> index_of(partitions, -1);
      uint32_t ordinal = 0;
      for (int k = c.first_key; k <= last; k += step, ++ordinal) {
        uint32_t p = router.target_of(args[k], write);
        if (index_of[p] < 0) {
          index_of[p] = static_cast<int>(parts.size());
          net::arg_list head(args.begin(), args.begin() + c.first_key);
          parts.push_back({p, std::move(head)});
          f.slots.emplace_back();
        }
        auto& dst = parts[static_cast<size_t>(index_of[p])];
        for (int j = 0; j < step; ++j)
          dst.args.push_back(std::move(args[static_cast<size_t>(k + j)]));
        f.slots[static_cast<size_t>(index_of[p])].push_back(ordinal);
      }
      break;
    }
  }
  return parts;
}

net::reply run_on_partition(const command& c, op_context& ctx, const net::arg_list& args) {
  try {
    return c.on_partition(ctx, args);
  } catch (const std::bad_alloc&) {
    return err::oom();
  }
}

net::arg_list rejoin(const command& c, const std::vector<part>& parts, const fanout& f) {
  auto step = static_cast<size_t>(c.key_step), first = static_cast<size_t>(c.first_key);
  net::arg_list args(first + f.keys * step);
  for (size_t w = 0; w < first; ++w)
    args[w] = parts.front().args[w];
  for (size_t i = 0; i < parts.size(); ++i)
    for (size_t j = 0; j < f.slots[i].size(); ++j)
      for (size_t w = 0; w < step; ++w)
        args[first + f.slots[i][j] * step + w] = parts[i].args[first + j * step + w];
  return args;
}

net::reply run_reserved(const command& c, std::vector<part>& parts, fanout& f,
                        client_context& client, const reserved_data& reserved,
                        store::millis now) {
  bool merge = needs_merge(c, parts.size());
  if (merge)
    f.results.resize(parts.size());
  net::reply r;
  for (size_t j = 0; j < parts.size(); ++j) {
    op_context ctx{*reserved(parts[j].partition), now, parts[j].partition, false, 0};
    r = run_on_partition(c, ctx, parts[j].args);
    if (merge)
      f.results[j] = std::move(r);
  }
  if (!merge)
    return r;
  if (c.where == route::keys)
    f.args = rejoin(c, parts, f);
  client.now = now;
  return c.on_merge(client, f);
}

net::reply merge_sum(client_context&, fanout& f) {
  int64_t sum = 0;
  for (auto& r : f.results) {
    if (r.is_error())
      return std::move(r);
    sum += r.number;
  }
  return net::reply::integer(sum);
}

net::reply merge_ok(client_context&, fanout& f) {
  for (auto& r : f.results)
    if (r.is_error())
      return std::move(r);
  return net::reply::ok();
}

net::reply merge_by_key(client_context&, fanout& f) {
  std::vector<net::reply> out(f.keys);
  for (size_t i = 0; i < f.results.size(); ++i) {
    auto& r = f.results[i];
    if (r.is_error())
      return std::move(r);
    for (size_t j = 0; j < r.items.size() && j < f.slots[i].size(); ++j)
      out[f.slots[i][j]] = std::move(r.items[j]);
  }
  return net::reply::array(std::move(out));
}

net::reply merge_concat(client_context&, fanout& f) {
  std::vector<net::reply> out;
  for (auto& r : f.results) {
    if (r.is_error())
      return std::move(r);
    for (auto& item : r.items)
      out.push_back(std::move(item));
  }
  return net::reply::array(std::move(out));
}

} // namespace otkv::cmd

#include "actors/batch_run.hpp"

#include "actors/clock.hpp"
#include "commands/dispatch.hpp"
#include "commands/errors.hpp"

namespace otkv {

namespace {

/// Reply bytes made per connection in one batch, counting replies of 1 KiB or more
/// only (so the common small reply costs one comparison).
class output_budget {
public:
  explicit output_budget(uint64_t limit) : limit_(limit) {}
  void add(uint64_t conn, const net::reply& r) {
    size_t n = size_of(r);
    if (n < 1024 || limit_ == UINT64_MAX)
      return;
    for (auto& [c, bytes] : made_)
      if (c == conn)
        return void(bytes += n);
    made_.emplace_back(conn, n);
  }
  /// Whether `conn` made more than the limit.
  bool over(uint64_t conn) const {
    for (auto& [c, bytes] : made_)
      if (c == conn)
        return bytes > limit_;
    return false;
  }

private:
  static size_t size_of(const net::reply& r) {
    size_t n = r.text.size();
    for (const auto& item : r.items)
      n += size_of(item);
    return n;
  }
  uint64_t limit_;
  std::vector<std::pair<uint64_t, uint64_t>> made_; // few: connections with big replies
};

} // namespace

batch_outcome run_batch(partition_slot& slot, const work_batch& batch,
                        const std::function<bool()>& stop, done_batch& out,
                        batch_hooks* hooks) {
  bool may_block = hooks != nullptr && batch.may_block;
  if (slot.completed.count(batch.id) > 0)
    return batch_outcome::skipped;
  // The progress lives in the slot while the batch runs, so a worker that dies half-way
  // leaves it for its successor.
  auto& done = slot.progress_of(batch.id);
  cmd::op_context ctx{slot.data, now_ms(), batch.target};
  uint64_t started = cmd::monotonic_ns(); // one clock read per command: each ends the last
  output_budget budget{batch.output_limit};
  for (size_t i = 0; i < done.replies.size(); ++i) // made before: they count too
    budget.add(batch.items[i].conn, done.replies[i]);
  for (size_t i = done.replies.size(); i < batch.items.size(); ++i) {
    if (stop())
      return batch_outcome::stopped;
    const auto& item = batch.items[i];
    if (budget.over(item.conn)) {
      done.replies.push_back(cmd::err::output_limit());
      done.ns.push_back(0);
      continue;
    }
    ctx.encode = item.encode;
    ctx.key_hash = item.hash;
    ctx.may_block = may_block && (item.cmd->flags & cmd::flag::blocking) != 0;
    ctx.blocked = false;
    net::reply r = cmd::run_on_partition(*item.cmd, ctx, item.args);
    if (ctx.blocked) {
      done.blocked.emplace_back(i, ctx.block_ms);
      hooks->park(item, ctx.block_ms, ctx.block_keys);
    } else if (hooks != nullptr && (item.cmd->flags & cmd::flag::write) != 0) {
      hooks->wrote(item);
    }
    if (!ctx.blocked && item.encode && r.type != net::reply::kind::raw)
      r = net::reply::raw(net::encode(r));
    budget.add(item.conn, r);
    done.replies.push_back(std::move(r));
    uint64_t ended = cmd::monotonic_ns();
    done.ns.push_back(ended - started);
    started = ended;
  }
  out.partition = batch.partition;
  out.id = batch.id;
  out.items.clear();
  out.items.reserve(batch.items.size());
  for (size_t i = 0; i < batch.items.size(); ++i) {
    const auto& item = batch.items[i];
    out.items.push_back({item.conn, item.seq, item.part, std::move(done.replies[i]), done.ns[i],
                         budget.over(item.conn)});
  }
  for (auto [i, ms] : done.blocked) {
    out.items[i].blocked = true;
    out.items[i].block_ms = ms;
  }
  slot.finish(batch.id);
  slot.mark_completed(batch.id);
  return batch_outcome::done;
}

bool write_records(partition_slot& slot, store::log_file* file, done_batch& out) {
  // The records are kept in the slot, so a successor of a worker that died half-way
  // still writes them; a process crash never loses an acknowledged write.
  if (file == nullptr || slot.journal.empty())
    return false;
  if (file->append(slot.journal.take()))
    return true;
  for (auto& item : out.items)
    item.result = cmd::err::misconf(file->error());
  return false;
}

} // namespace otkv

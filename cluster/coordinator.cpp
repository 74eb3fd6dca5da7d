#include "cluster/coordinator.hpp"

#include <cstdio>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace otkv::cluster {

namespace {

/// How often the loop runs.
constexpr int64_t round_ms = 100;
/// A node whose key was seen and is gone (its lease expired) is failed after this long.
constexpr int64_t gone_grace_ms = 500;
/// The lease's validity is counted from when its renewal was sent, less this margin
/// for clock rates.
constexpr int64_t lease_margin_ms = 400;

} // namespace

std::string parse_etcd_address(const std::string& text, coordinator_options& out) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return "--cluster-etcd wants HOST:PORT, not '" + text + "'";
  char* end = nullptr;
  auto port = std::strtoul(text.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port == 0 || port > 65535)
    return "--cluster-etcd: bad port in '" + text + "'";
  out.host = text.substr(0, colon);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);
  out.port = static_cast<uint16_t>(port);
  return "";
}

coordinator::coordinator(std::shared_ptr<view> v, coordinator_options opts)
  : view_(std::move(v)), opts_(std::move(opts)), etcd_(opts_.host, opts_.port, 1000) {
  char digest[17];
  std::snprintf(digest, sizeof(digest), "%016llx",
                static_cast<unsigned long long>(view_->nodes_digest()));
  prefix_ = std::string("/otkv/") + digest + "/";
  self_id_ = view_->myself().id;
}

coordinator::~coordinator() { stop(); }

bool coordinator::publish(bool synced) {
  if (!etcd_.put(node_key(self_id_), nlohmann::json{{"synced", synced}}.dump(), lease_))
    return false;
  published_synced_ = synced ? 1 : 0;
  return true;
}

bool coordinator::keep_lease() {
  int64_t sent = steady_now_ms();
  int64_t ttl = lease_ == 0 ? 0 : etcd_.keepalive(lease_);
  if (ttl < 0)
    return false;
  if (ttl == 0) { // expired (this node was silent past its TTL): a new lease, a new key
    bool had = lease_ != 0;
    if (had)
      spdlog::warn("coordination: this node's etcd lease expired; taking a new one");
    lease_ = etcd_.grant(opts_.ttl_s);
    if (lease_ == 0)
      return false;
    published_synced_ = -1;
    if (had) {
      // Others may have removed this node meanwhile. Its key comes back first, then the
      // layout is read (step): a removal proposed after that finds the key and fails.
      if (!publish(false))
        return false;
      regranted_ = true;
      regranted_at_ms_ = sent;
      last_keepalive_ms_ = sent;
      return true;
    }
    ttl = opts_.ttl_s;
  }
  last_keepalive_ms_ = sent;
  if (!regranted_)
    view_->set_lease_until(sent + ttl * 1000 - lease_margin_ms);
  return true;
}

bool coordinator::apply(const chain_layout& layout) {
  std::vector<std::vector<uint32_t>> chains;
  auto error = layout_indexes(*view_, layout, chains);
  if (error.empty())
    error = view_->set_chains(chains, layout.epoch);
  if (!error.empty()) {
    spdlog::error("coordination: ignoring the chain layout of epoch {}: {}", layout.epoch,
                  error);
    return false;
  }
  if (!(layout_ == layout))
    spdlog::info("coordination: chain layout epoch {}: {}", layout.epoch, to_json(layout));
  layout_ = layout;
  return true;
}

std::string coordinator::begin(bool& listed) {
  started_ms_ = steady_now_ms();
  int64_t deadline = started_ms_ + 10000;
  std::string error;
  for (;;) {
    if (keep_lease() && publish(false)) {
      std::vector<etcd_kv> kvs;
      if (etcd_.range_prefix(layout_key(), kvs)) {
        chain_layout layout;
        if (kvs.empty()) { // the first node up: the cluster file's layout
          layout = initial_layout(*view_);
          if (etcd_.put_if(layout_key(), to_json(layout), 0) < 0) {
            error = etcd_.error();
          } else {
            continue; // read back what is in force (another node's, if it was quicker)
          }
        } else if (auto bad = parse_layout(kvs.front().value, layout); !bad.empty()) {
          return "etcd's " + layout_key() + ": " + bad;
        } else if (!apply(layout)) {
          return "etcd's chain layout does not fit the cluster file";
        } else {
          listed = cluster::listed(layout, self_id_);
          was_listed_ = listed;
          view_->set_coordinated();
          return "";
        }
      } else {
        error = etcd_.error();
      }
    } else {
      error = etcd_.error();
    }
    if (steady_now_ms() > deadline)
      return "cannot reach etcd at " + opts_.host + ":" + std::to_string(opts_.port) + ": "
             + error;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

bool coordinator::step() {
  auto now = steady_now_ms();
  if (now - last_keepalive_ms_ >= opts_.ttl_s * 1000 / 4 && !keep_lease()) {
    if (now - last_error_log_ms_ > 2000) {
      last_error_log_ms_ = now;
      spdlog::warn("coordination: etcd: {}", etcd_.error());
    }
    return true;
  }
  std::vector<etcd_kv> kvs;
  if (!etcd_.range_prefix(prefix_, kvs))
    return true;
  const etcd_kv* layout_kv = nullptr;
  std::set<std::string> live, synced;
  std::string nodes_prefix = prefix_ + "nodes/";
  for (const auto& kv : kvs) {
    if (kv.key == layout_key()) {
      layout_kv = &kv;
    } else if (kv.key.rfind(nodes_prefix, 0) == 0) {
      auto id = kv.key.substr(nodes_prefix.size());
      live.insert(id);
      auto j = nlohmann::json::parse(kv.value, nullptr, false);
      if (j.is_object() && j.value("synced", false))
        synced.insert(id);
    }
  }
  if (layout_kv == nullptr)
    return true;
  chain_layout layout;
  if (!parse_layout(layout_kv->value, layout).empty() || !apply(layout))
    return true;
  bool is_listed = listed(layout, self_id_);
  if (is_listed && regranted_) { // read after the new key: still listed, so it serves
    regranted_ = false;
    view_->set_lease_until(regranted_at_ms_ + opts_.ttl_s * 1000 - lease_margin_ms);
  }
  if (is_listed) {
    was_listed_ = true;
  } else if (was_listed_) {
    spdlog::warn("coordination: this node was removed from its chain (layout epoch {}); it "
                 "restarts empty and joins at the tail",
                 layout.epoch);
    return false;
  }
  if (int now_synced = view_->synced() ? 1 : 0; now_synced != published_synced_)
    publish(now_synced == 1);
  // Which nodes failed: their key is gone (their lease expired), for a moment if it was
  // seen; a node never seen since this one started gets 3 TTLs to come up.
  std::set<std::string> failed;
  for (const auto& chain : layout.chains)
    for (const auto& id : chain) {
      if (live.count(id) > 0) {
        seen_[id] = true;
        absent_since_.erase(id);
        continue;
      }
      auto since = absent_since_.emplace(id, now).first->second;
      int64_t grace = seen_[id] ? gone_grace_ms : opts_.ttl_s * 3000;
      if (now - since >= grace)
        failed.insert(id);
    }
  auto next = next_layout(layout, failed, synced, self_id_, view_->chain_of(view_->self()),
                          !is_listed);
  if (next.epoch != layout.epoch) {
    // Removed nodes must still be without a key: one that came back meanwhile stays.
    std::vector<std::string> gone;
    for (const auto& id : failed)
      if (!listed(next, id))
        gone.push_back(node_key(id));
    int done = etcd_.put_if(layout_key(), to_json(next), layout_kv->mod_revision, gone);
    if (done == 1) {
      spdlog::info("coordination: proposed chain layout epoch {} (failed: {}, joining: {})",
                   next.epoch, failed.size(), is_listed ? "no" : "yes");
      apply(next);
    }
  }
  return true;
}

void coordinator::start(std::function<void()> removed) {
  thread_ = std::thread([this, removed = std::move(removed)] {
    for (;;) {
      {
        std::unique_lock<std::mutex> guard{mutex_};
        if (wake_.wait_for(guard, std::chrono::milliseconds(round_ms),
                           [this] { return stopping_; }))
          return;
      }
      if (!step()) {
        removed();
        return;
      }
    }
  });
}

void coordinator::stop() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
    thread_.join();
}

} // namespace otkv::cluster

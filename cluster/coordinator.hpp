#pragma once

// A replicated node's part in its cluster's coordination through etcd (--cluster-etcd;
// docs/replication.md, "Failover"): it holds a lease (its pulse), publishes its key under
// it, follows the chain layout in force, removes nodes whose lease expired, and adds
// itself at its chain's tail when it joins. Runs on a thread of its own. Plain C++.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cluster/chain_layout.hpp"
#include "cluster/cluster_view.hpp"
#include "cluster/etcd_client.hpp"

namespace otkv::cluster {

/// Where etcd is and how the lease is kept.
struct coordinator_options {
  std::string host = "127.0.0.1";
  uint16_t port = 2379;
  int64_t ttl_s = 2; ///< the lease's TTL: a node silent this long is failed
};

/// Parses "HOST:PORT" (the port required) into `out`. Returns "" or why not.
std::string parse_etcd_address(const std::string& text, coordinator_options& out);

/// See the file comment.
class coordinator {
public:
  coordinator(std::shared_ptr<view> v, coordinator_options opts);
  ~coordinator();
  coordinator(const coordinator&) = delete;
  coordinator& operator=(const coordinator&) = delete;

  /// Before the node serves: grants its lease, publishes its key, and reads the chain
  /// layout in force (writing the cluster file's if there is none yet) into the view.
  /// `listed` says whether this node serves in it: if not, its data may hold records
  /// the chain never committed, so it must start empty and join at the tail. Returns ""
  /// or why not (etcd unreachable).
  std::string begin(bool& listed);

  /// Runs the coordination loop on its thread. `removed` runs (on that thread, once)
  /// when this node finds itself removed from its chain.
  void start(std::function<void()> removed);
  /// Stops the loop (the lease is left to expire: a restart within it keeps the data).
  void stop();

  /// The etcd keys: the layout's, and node `id`'s.
  std::string layout_key() const { return prefix_ + "layout"; }
  std::string node_key(const std::string& id) const { return prefix_ + "nodes/" + id; }

private:
  /// One round: keeps the lease, reads etcd, takes and proposes changes. False once this
  /// node was removed.
  bool step();
  /// Renews the lease (or takes a new one once it expired). False if etcd did not answer.
  bool keep_lease();
  /// Publishes this node's key under its lease, with whether it is in sync.
  bool publish(bool synced);
  /// Makes `layout` the view's. False (logged) if it does not fit the cluster file.
  bool apply(const chain_layout& layout);

  std::shared_ptr<view> view_;
  coordinator_options opts_;
  etcd_client etcd_;
  std::string prefix_;
  std::string self_id_;
  int64_t lease_ = 0;
  int64_t last_keepalive_ms_ = 0;
  int published_synced_ = -1; ///< -1: not published under this lease yet
  /// A new lease replaced an expired one: this node serves again only once a layout read
  /// after it lists the node (removals need the node's key absent: see step()).
  bool regranted_ = false;
  int64_t regranted_at_ms_ = 0;
  chain_layout layout_;
  bool was_listed_ = false;
  int64_t started_ms_ = 0;
  std::map<std::string, int64_t> absent_since_; ///< node id → when its key went missing
  std::map<std::string, bool> seen_;            ///< node ids whose key was seen
  int64_t last_error_log_ms_ = 0;

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

} // namespace otkv::cluster

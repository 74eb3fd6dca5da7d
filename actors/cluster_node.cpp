#include "actors/cluster_node.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <set>

#include <caf/blocking_actor.hpp>

#include <caf/io/middleman.hpp>
#include <spdlog/spdlog.h>

#include "actors/clock.hpp"
#include "actors/messages.hpp"
#include "commands/dispatch.hpp"
#include "commands/errors.hpp"

namespace otkv {

namespace {

/// How often the gate checks its forwarded batches' deadlines.
constexpr auto gate_tick = std::chrono::milliseconds(50);
/// How long the link waits before connecting again to a node that is down.
constexpr auto reconnect_delay = std::chrono::milliseconds(250);
/// The shard number of a slot move's own batches: their results come back to the link.
constexpr uint32_t move_shard = UINT32_MAX;
/// How long a node has to answer hello.
constexpr auto hello_timeout = std::chrono::seconds(2);

using gate_ptr = caf::stateful_actor<cluster_gate_state>*;
using link_ptr = caf::stateful_actor<cluster_link_state>*;

/// Sends `done`'s results, as the answer to forwarded batch `fb`, to its origin.
void answer_origin(const forwarded_batch& fb, const done_batch& done, gate_ptr self) {
  wire_done out{fb.origin_id, fb.target, fb.shard, {}};
  out.items.reserve(done.items.size());
  for (const auto& item : done.items)
    out.items.push_back({item.conn, item.seq, item.part, item.result, item.ns, item.over_limit});
  self->send(fb.origin, std::move(out));
}

/// Answers every request of forwarded batch `batch` with `error`.
void fail_forwarded(gate_ptr self, const work_batch& batch, const net::reply& error) {
  auto& st = self->state;
  auto i = st.forwarded.find(batch.id);
  if (i == st.forwarded.end())
    return;
  done_batch done{batch.partition, batch.id, {}};
  for (const auto& item : batch.items)
    done.items.push_back({item.conn, item.seq, item.part, error});
  answer_origin(i->second, done, self);
  st.forwarded.erase(i);
}

bool accepted(gate_ptr self, const caf::strong_actor_ptr& sender) {
  auto& st = self->state;
  if (!sender)
    return false;
  if (sender->node() == self->node()) // this node's link (a slot move)
    return true;
  for (const auto& n : st.accepted)
    if (n == sender->node())
      return true;
  return false;
}

/// Whether this node serves every key of request `args` for `c`: their slots are its own
/// (for a read: its chain's) and none is moving. (Slot-move steps carry keys the node
/// does not serve yet.)
bool serves(const cluster::view& v, const cmd::command& c, const net::arg_list& args) {
  if (v.coordinated() && c.where != cmd::route::node && !v.serving(cluster::steady_now_ms()))
    return false;
  if (c.first_key <= 0 || (c.flags & cmd::flag::moves_slots) != 0)
    return (c.flags & cmd::flag::write) == 0 || v.role() == cluster::chain_role::head;
  bool write = (c.flags & cmd::flag::write) != 0;
  bool all = true;
  cmd::for_each_key(c, args, [&](int k) {
    auto slot = cluster::key_slot(args[static_cast<size_t>(k)]);
    bool mine = write ? v.owner(slot) == v.self() : v.member(slot, v.self());
    all = all && mine && !v.frozen(slot);
  });
  return all;
}

/// The cluster-file index of the node that sent the message being handled, or -1 if it
/// did not say hello.
int sender_index(gate_ptr self) {
  auto sender = self->current_sender();
  if (!sender)
    return -1;
  auto& st = self->state;
  for (size_t i = 0; i < st.accepted.size(); ++i)
    if (st.accepted[i] == sender->node())
      return static_cast<int>(st.accepted_index[i]);
  return -1;
}

/// Passes a chain message for one partition to its worker, if it comes from node `from`
/// (the previous or next node of this node's chain; -1: none).
template <class T>
void to_worker(gate_ptr self, int from, T&& msg) {
  auto& st = self->state;
  int sender = sender_index(self);
  if (sender >= 0 && sender == from && msg.partition < st.workers.size())
    self->send(st.workers[msg.partition], std::forward<T>(msg));
}

/// CONFIG SET's changes that the gate and the link keep copies of: requirepass (the
/// cluster's secret) and the request-timeout policy. (Checked already by the shard.)
void take_settings(cluster_node_options& opts, const config_change& change) {
  for (const auto& [name, value] : change.pairs) {
    if (name == "requirepass")
      opts.secret = value;
    else if (name == "request-timeout-ms")
      opts.request_timeout_ms = static_cast<uint32_t>(std::stoul(value));
    else if (name == "request-attempts")
      opts.request_attempts = static_cast<uint32_t>(std::stoul(value));
  }
}

/// Makes slots first … last node `n`'s in `v` and in the cluster file at `path`.
void hand_over(cluster::view& v, const std::string& path, uint16_t first, uint16_t last,
               uint32_t n) {
  v.assign(first, last, n);
  if (path.empty())
    return;
  if (auto err = cluster::save_cluster_file(path, v.current()); !err.empty())
    spdlog::error("slots {}-{} moved to {}, but the cluster file was not updated: {}", first,
                  last, v.config().nodes[n].id, err);
}

/// Whether a TCP connection to host:port opens within `ms` milliseconds.
bool opens_within(const std::string& host, uint16_t port, int ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0)
    return false;
  bool ok = false;
  for (auto* a = found; a != nullptr && !ok; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
      continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof(err);
      ok = ::poll(&p, 1, ms) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0
           && err == 0;
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return ok;
}

/// How long a probe waits for a node's cluster port to take a connection.
constexpr int probe_ms = 500;

/// Tells `link` whether node `n`'s cluster port host:port takes a connection in time.
void probe_node(caf::blocking_actor* self, caf::actor link, uint32_t n, std::string host,
                uint16_t port) {
  self->send(link, probe_atom::value, n, opens_within(host, port, probe_ms));
}

/// Tries node `n` again: first a probe on a thread of its own (CAF 0.17's middleman
/// connects with a blocking connect(2): a host that drops packets would hold it, and every
/// other connection, for minutes), then the connection itself (probed()).
void connect(link_ptr self, uint32_t n) {
  auto& st = self->state;
  if (st.stopping)
    return;
  const auto& node = st.opts.view->config().nodes[n];
  // Arguments, not captures: CAF 0.17 dereferences a null tuple for an actor spawned
  // without any (UBSan reports it).
  self->spawn<caf::detached>(probe_node, caf::actor_cast<caf::actor>(self), n, node.cluster_host,
                             node.cluster_port);
}

/// A probe of node `n` answered: asks the middleman to connect to its gate, and on
/// success says hello.
void probed(link_ptr self, uint32_t n, bool open) {
  auto& st = self->state;
  if (st.stopping)
    return;
  if (!open) {
    self->delayed_send(self, reconnect_delay, caf::connect_atom_v, n);
    return;
  }
  const auto& node = st.opts.view->config().nodes[n];
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, caf::infinite, caf::connect_atom_v, node.cluster_host, node.cluster_port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& gate_ptr, const std::set<std::string>&) {
        auto gate = caf::actor_cast<caf::actor>(gate_ptr);
        if (!gate) {
          self->delayed_send(self, reconnect_delay, caf::connect_atom_v, n);
          return;
        }
        const auto& me = self->state.opts;
        self->request(gate, hello_timeout, hello_atom::value,
                      wire_hello{me.view->myself().id, me.secret, me.view->config().partitions,
                                 me.view->nodes_digest()})
          .then(
            [=](bool ok) {
              auto& st = self->state;
              const auto& id = st.opts.view->config().nodes[n].id;
              if (!ok) {
                spdlog::warn("cluster node {} refused this node (a different cluster file or "
                             "secret?); trying again", id);
                self->delayed_send(self, std::chrono::seconds(1), caf::connect_atom_v, n);
                return;
              }
              st.gates[n] = gate;
              self->monitor(gate);
              st.opts.view->set_up(n, true);
              spdlog::info("cluster node {} connected ({} of {} reachable)", id,
                           st.opts.view->reachable(), st.opts.view->nodes());
            },
            [=](caf::error&) {
              self->delayed_send(self, reconnect_delay, caf::connect_atom_v, n);
            });
      },
      [=](caf::error&) { self->delayed_send(self, reconnect_delay, caf::connect_atom_v, n); });
}

/// Whether the message being handled comes from this process (a shard's broker, whose
/// actor system is its own, the gate, main).
bool from_here(link_ptr self) {
  auto sender = self->current_sender();
  if (sender == nullptr || sender->node() == self->node())
    return true;
  for (const auto& b : self->state.brokers)
    if (sender->node() == b.node())
      return true;
  return false;
}

/// Sends a partition worker's chain message to the gate of node `to` (the previous or
/// next node of this node's chain; -1: none), if it is connected.
template <class T>
void to_gate(link_ptr self, int to, T&& msg) {
  auto& st = self->state;
  if (from_here(self) && to >= 0 && st.gates[static_cast<uint32_t>(to)])
    self->send(st.gates[static_cast<uint32_t>(to)], std::forward<T>(msg));
}

/// Whether wire_done `in` comes from the gate of the node its target names (or, for a
/// slot move's own batches, from a gate the move talks to), and names a known shard.
bool plausible(link_ptr self, const wire_done& in) {
  auto& st = self->state;
  auto sender = self->current_sender();
  if (!sender)
    return false;
  if (in.shard == move_shard)
    return st.move != nullptr
           && (sender->node() == self->node()
               || (st.gates[st.move->node] && sender == st.gates[st.move->node]->ctrl()));
  uint32_t partitions = st.opts.view->config().partitions;
  uint32_t ordinal = in.target / partitions;
  if (in.shard >= st.brokers.size() || in.target < partitions
      || ordinal >= st.opts.view->nodes())
    return false;
  const auto& gate = st.gates[st.opts.view->node_of_ordinal(ordinal)];
  return gate && sender == gate->ctrl();
}

/// Answers every request of `batch`, for a node that cannot be reached, with -CLUSTERDOWN.
void refuse(link_ptr self, const wire_batch& batch) {
  auto& st = self->state;
  if (batch.shard >= st.brokers.size())
    return;
  done_batch done{batch.target, batch.id, {}};
  for (const auto& item : batch.items)
    done.items.push_back({item.conn, item.seq, item.part, cmd::err::clusterdown()});
  self->send(st.brokers[batch.shard], std::move(done));
}

// -- a slot move (CLUSTER MOVESLOTS), driven by the link ---------------------------------

/// Keys per CLUSTER PUTKEYS request of a slot move.
constexpr size_t keys_per_put = 256;
/// The longest a step of a slot move may take before the move gives up.
constexpr auto move_step_timeout = std::chrono::seconds(60);

std::string range_text(const slot_move& m) {
  return std::to_string(m.first) + "-" + std::to_string(m.last);
}

/// Sends one request (`args`) of a slot move to partition `p` of the node whose gate is `gate`.
void send_step(link_ptr self, const caf::actor& gate, uint32_t p, std::vector<wire_item> items) {
  wire_batch b;
  b.id = next_batch_id();
  b.partition = p;
  b.target = p;
  b.shard = move_shard;
  b.items = std::move(items);
  self->send(gate, std::move(b));
}

/// Sends `cluster <step> first last` to every partition of the node whose gate is `gate`.
void send_to_partitions(link_ptr self, const caf::actor& gate, const char* step) {
  auto& m = *self->state.move;
  uint32_t partitions = self->state.opts.view->config().partitions;
  for (uint32_t p = 0; p < partitions; ++p)
    send_step(self, gate, p,
              {wire_item{0, p, 0, false,
                         {"cluster", step, std::to_string(m.first), std::to_string(m.last)}}});
}

/// Starts step `s` of the move, which waits for `missing` answers (or times out).
void enter(link_ptr self, slot_move::step s, size_t missing, const std::string& status) {
  auto& m = *self->state.move;
  m.now = s;
  m.missing = missing;
  self->state.opts.view->set_move_status(status);
  self->delayed_send(self, move_step_timeout, move_step_atom::value, static_cast<uint8_t>(s),
                     m.keys);
}

/// Ends the move: answers its client and says so in INFO cluster.
void end_move(link_ptr self, bool ok, const std::string& text) {
  auto& st = self->state;
  auto& m = *st.move;
  auto& view = *st.opts.view;
  const auto& target = view.config().nodes[m.node].id;
  if (!ok) {
    if (m.now != slot_move::step::drop) { // not handed over: the slots stay here
      view.freeze(m.first, m.last, false);
      if (m.now == slot_move::step::put && st.gates[m.node]) // copies the target must not keep
        send_to_partitions(self, st.gates[m.node], "dropslots");
    }
    spdlog::warn("moving slots {} to {} failed: {}", range_text(m), target, text);
    view.set_move_status("failed: slots " + range_text(m) + " to " + target + ": " + text);
    m.promise.deliver(false, text);
  } else {
    spdlog::info("moved slots {} to {}: {} keys", range_text(m), target, m.keys);
    view.set_move_status("done: slots " + range_text(m) + " to " + target + ", "
                         + std::to_string(m.keys) + " keys");
    m.promise.deliver(true, std::string("OK"));
  }
  st.move.reset();
}

/// The keys are on the new node: every node learns the slots are its, the slots unfreeze
/// (their requests go to the new node), and this node deletes its copies.
void hand_over_move(link_ptr self) {
  auto& st = self->state;
  auto& m = *st.move;
  auto& view = *st.opts.view;
  const auto& id = view.config().nodes[m.node].id;
  hand_over(view, st.opts.config_path, m.first, m.last, m.node);
  for (uint32_t n = 0; n < st.gates.size(); ++n)
    if (st.gates[n])
      self->send(st.gates[n], moved_atom::value, m.first, m.last, id);
  view.freeze(m.first, m.last, false);
  send_to_partitions(self, st.opts.local_gate, "dropslots");
  enter(self, slot_move::step::drop, view.config().partitions,
        "slots " + range_text(m) + " handed to " + id + ", deleting the copies left here");
}

/// The dumps are in: sends the keys to their partitions on the new node.
void start_puts(link_ptr self) {
  auto& st = self->state;
  auto& m = *st.move;
  if (!st.gates[m.node])
    return end_move(self, false, "CLUSTERDOWN the target node is down");
  size_t batches = 0;
  for (uint32_t p = 0; p < m.puts.size(); ++p) {
    if (m.puts[p].empty())
      continue;
    send_step(self, st.gates[m.node], p, std::move(m.puts[p]));
    ++batches;
  }
  m.puts.clear();
  if (batches == 0)
    return hand_over_move(self);
  enter(self, slot_move::step::put, batches,
        "copying " + std::to_string(m.keys) + " keys of slots " + range_text(m) + " to "
          + st.opts.view->config().nodes[m.node].id);
}

/// One partition's keys of the moving slots ([key, value, expiry, …]): grouped into
/// CLUSTER PUTKEYS requests by their partition on the new node.
void take_dump(slot_move& m, uint32_t partitions, net::reply& dump) {
  if (m.puts.empty())
    m.puts.resize(partitions);
  for (size_t i = 0; i + 2 < dump.items.size(); i += 3) {
    auto& key = dump.items[i].text;
    auto p = static_cast<uint32_t>(store::key_hash(store::routing_key(key)) % partitions);
    auto& items = m.puts[p];
    if (items.empty() || items.back().args.size() >= 2 + 3 * keys_per_put)
      items.push_back(wire_item{0, items.size(), 0, false, {"cluster", "putkeys"}});
    auto& args = items.back().args;
    args.push_back(std::move(key));
    args.push_back(std::move(dump.items[i + 1].text));
    args.push_back(std::to_string(dump.items[i + 2].number));
    ++m.keys;
  }
}

/// The answers to a slot move's own batches.
void move_progress(link_ptr self, wire_done& in) {
  auto& st = self->state;
  if (!st.move)
    return;
  auto& m = *st.move;
  for (auto& item : in.items)
    if (item.result.is_error())
      return end_move(self, false, item.result.text);
  if (m.now == slot_move::step::dump)
    for (auto& item : in.items)
      take_dump(m, st.opts.view->config().partitions, item.result);
  if (--m.missing > 0)
    return;
  switch (m.now) {
    case slot_move::step::wait:
      break;
    case slot_move::step::dump:
      return start_puts(self);
    case slot_move::step::put:
      return hand_over_move(self);
    case slot_move::step::drop:
      return end_move(self, true, "");
  }
}

/// CLUSTER MOVESLOTS first last node: checks, freezes the slots, and waits out the
/// requests admitted before (each is answered within the request budget) before copying.
caf::result<bool, std::string> start_move(link_ptr self, uint16_t first, uint16_t last,
                                          const std::string& id) {
  auto& st = self->state;
  auto& view = *st.opts.view;
  int n = view.node_of_id(id);
  if (view.replicated())
    return {false, std::string("ERR slots do not move between replication chains yet "
                               "(docs/replication.md)")};
  if (st.move)
    return {false, std::string("ERR a slot move is under way")};
  if (n < 0)
    return {false, "ERR Unknown node " + id};
  if (static_cast<uint32_t>(n) == view.self())
    return {false, std::string("ERR the slots are this node's already")};
  for (uint32_t s = first; s <= last; ++s)
    if (view.owner(static_cast<uint16_t>(s)) != view.self())
      return {false, "ERR slot " + std::to_string(s) + " is not this node's"};
  if (!st.gates[static_cast<uint32_t>(n)])
    return {false, std::string("CLUSTERDOWN the target node is down")};
  st.move = std::make_unique<slot_move>();
  auto& m = *st.move;
  m.first = first;
  m.last = last;
  m.node = static_cast<uint32_t>(n);
  m.promise = self->make_response_promise();
  view.freeze(first, last, true);
  auto budget = std::chrono::milliseconds(uint64_t{st.opts.request_timeout_ms}
                                          * st.opts.request_attempts + 2000);
  m.now = slot_move::step::wait;
  view.set_move_status("slots " + range_text(m) + " to " + id
                       + ": frozen, waiting out the requests in flight");
  spdlog::info("moving slots {} to {}", range_text(m), id);
  self->delayed_send(self, budget, move_step_atom::value,
                     static_cast<uint8_t>(slot_move::step::wait), uint64_t{0});
  return m.promise;
}

/// A step's timer: the wait is over (dump now), or a step took too long (give up).
void move_timer(link_ptr self, uint8_t step, uint64_t keys) {
  auto& st = self->state;
  if (!st.move || static_cast<uint8_t>(st.move->now) != step || st.move->keys != keys)
    return; // a later step runs
  if (st.move->now != slot_move::step::wait)
    return end_move(self, false, "ERR a step of the slot move timed out");
  send_to_partitions(self, st.opts.local_gate, "dumpslots");
  enter(self, slot_move::step::dump, st.opts.view->config().partitions,
        "slots " + range_text(*st.move) + ": reading their keys");
}

} // namespace

const char* cluster_gate_state::name = "otkv_cluster_gate";
const char* cluster_link_state::name = "otkv_cluster_link";

wire_batch to_wire(const work_batch& batch, uint32_t partition, uint32_t shard) {
  wire_batch out;
  out.id = batch.id;
  out.partition = partition;
  out.target = batch.target;
  out.shard = shard;
  out.output_limit = batch.output_limit;
  out.items.reserve(batch.items.size());
  for (const auto& item : batch.items)
    out.items.push_back({item.conn, item.seq, item.part, item.encode, item.args});
  return out;
}

caf::behavior cluster_gate(caf::stateful_actor<cluster_gate_state>* self,
                           cluster_node_options opts, worker_table table,
                           supervisor_actor supervisor) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.workers = std::move(table.workers);
  st.supervisor = supervisor;
  st.inflight.resize(st.workers.size());
  self->send(supervisor, caf::subscribe_atom_v);
  self->delayed_send(self, gate_tick, caf::tick_atom_v);
  return {
    [=](hello_atom, const wire_hello& hello) {
      auto& st = self->state;
      const auto& view = *st.opts.view;
      bool known = false;
      uint32_t index = 0;
      for (uint32_t n = 0; n < view.nodes(); ++n)
        if (n != view.self() && view.config().nodes[n].id == hello.node_id) {
          known = true;
          index = n;
        }
      const char* why = !known                              ? "not in the cluster file"
                        : hello.secret != st.opts.secret          ? "wrong secret (--requirepass differs)"
                        : hello.nodes_digest != view.nodes_digest() ? "another cluster file (nodes, "
                                                                      "addresses or partitions differ)"
                                                                    : nullptr;
      if (why != nullptr) {
        spdlog::warn("refused a cluster connection from node '{}': {}", hello.node_id, why);
        return false;
      }
      auto sender = self->current_sender();
      if (sender && !accepted(self, sender)) {
        st.accepted.push_back(sender->node());
        st.accepted_index.push_back(index);
      }
      return true;
    },
    [=](wire_records& in) { // from the previous node (a full copy up: the next one)
      const auto& v = *self->state.opts.view;
      to_worker(self, in.up ? v.successor() : v.predecessor(), std::move(in));
    },
    [=](wire_pull& in) { to_worker(self, self->state.opts.view->predecessor(), std::move(in)); },
    [=](wire_commit& in) { to_worker(self, self->state.opts.view->successor(), std::move(in)); },
    [=](wire_batch& in) {
      auto& st = self->state;
      auto sender = self->current_sender();
      if (!accepted(self, sender)) {
        spdlog::warn("dropped a batch from a node that did not say hello");
        return;
      }
      if (in.partition >= st.workers.size())
        return;
      auto batch = std::make_shared<work_batch>();
      batch->may_block = false; // its answer goes back over the wire once
      batch->id = next_batch_id();
      batch->partition = in.partition;
      batch->target = in.target;
      batch->output_limit = in.output_limit;
      batch->items.reserve(in.items.size());
      forwarded_batch fb{caf::actor_cast<caf::actor>(sender), in.id, in.target, in.shard};
      done_batch refused{in.partition, in.id, {}};
      for (auto& item : in.items) {
        net::reply error;
        const cmd::command* c = item.args.empty() ? nullptr : cmd::resolve(item.args, error);
        if (c == nullptr || c->where == cmd::route::connection) {
          // The origin checked it: a node with another command table sent it.
          refused.items.push_back({item.conn, item.seq, item.part,
                                   c == nullptr ? std::move(error)
                                                : cmd::err::unknown_command(item.args)});
          continue;
        }
        // A write while this node's op log fails: -MISCONF, as its own clients get.
        int log_error = st.opts.log_error ? st.opts.log_error->load() : 0;
        if ((c->flags & cmd::flag::write) != 0 && log_error != 0) {
          refused.items.push_back({item.conn, item.seq, item.part, cmd::err::misconf(log_error)});
          continue;
        }
        // A key whose slot is moving, or moved away (the sender has not heard yet).
        if (!serves(*st.opts.view, *c, item.args)) {
          refused.items.push_back({item.conn, item.seq, item.part, cmd::err::tryagain()});
          continue;
        }
        batch->items.push_back({item.conn, item.seq, item.part, item.encode, c,
                                std::move(item.args)});
      }
      if (!refused.items.empty())
        answer_origin(fb, refused, self);
      if (batch->items.empty())
        return;
      st.forwarded.emplace(batch->id, std::move(fb));
      st.inflight.add(batch, steady_ms());
      self->send(st.workers[in.partition], batch_ref{std::move(batch)});
    },
    [=](const config_change& change) {
      if (self->current_sender() && self->current_sender()->node() == self->node())
        take_settings(self->state.opts, change);
    },
    [=](moved_atom, uint16_t first, uint16_t last, const std::string& id) {
      auto& st = self->state;
      int n = st.opts.view->node_of_id(id);
      if (!accepted(self, self->current_sender()) || n < 0 || first > last
          || last >= cluster::slot_count)
        return;
      hand_over(*st.opts.view, st.opts.config_path, first, last, static_cast<uint32_t>(n));
      spdlog::info("slots {}-{} are node {}'s now", first, last, id);
    },
    [=](done_batch& done) {
      auto& st = self->state;
      if (done.partition >= st.workers.size() || !st.inflight.answered(done.partition, done.id))
        return; // answered already (failed after its last attempt)
      auto i = st.forwarded.find(done.id);
      if (i == st.forwarded.end())
        return;
      answer_origin(i->second, done, self);
      st.forwarded.erase(i);
    },
    [=](caf::update_atom, worker_table& t) {
      auto& st = self->state;
      auto old = std::move(st.workers);
      st.workers = std::move(t.workers);
      auto now = steady_ms();
      for (uint32_t p = 0; p < st.workers.size() && p < old.size(); ++p) {
        if (st.workers[p] == old[p])
          continue;
        st.inflight.replaced(
          p, now, st.opts.request_attempts,
          [&](const work_batch& b, uint32_t attempts) {
            fail_forwarded(self, b, cmd::err::timeout(b.target, attempts));
          },
          [&](const std::shared_ptr<const work_batch>& b) {
            self->send(st.workers[p], batch_ref{b});
          });
      }
    },
    [=](caf::tick_atom) {
      auto& st = self->state;
      st.inflight.check(
        steady_ms(), st.opts.request_timeout_ms, st.opts.request_attempts,
        [&](const work_batch& b, uint32_t attempts) {
          fail_forwarded(self, b, cmd::err::timeout(b.target, attempts));
        },
        [&](uint32_t p) {
          self->send(st.supervisor, restart_atom::value, p, st.workers[p]);
          return true;
        });
      self->delayed_send(self, gate_tick, caf::tick_atom_v);
    },
  };
}

caf::behavior cluster_link(caf::stateful_actor<cluster_link_state>* self,
                           cluster_node_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.gates.resize(st.opts.view->nodes());
  for (uint32_t n = 0; n < st.opts.view->nodes(); ++n)
    if (n != st.opts.view->self())
      connect(self, n);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    for (uint32_t n = 0; n < st.gates.size(); ++n) {
      if (!st.gates[n] || st.gates[n].address() != msg.source)
        continue;
      st.gates[n] = nullptr;
      st.opts.view->set_up(n, false);
      if (st.move && st.move->node == n && st.move->now != slot_move::step::drop)
        end_move(self, false, "CLUSTERDOWN the target node went down");
      spdlog::warn("cluster node {} is down: requests for its slots answer -CLUSTERDOWN until "
                   "it is back", st.opts.view->config().nodes[n].id);
      self->delayed_send(self, reconnect_delay, caf::connect_atom_v, n);
    }
  });
  return {
    [=](peers_atom, const std::vector<caf::actor>& brokers) {
      if (from_here(self))
        self->state.brokers = brokers;
    },
    [=](caf::connect_atom, uint32_t n) {
      if (from_here(self) && n < self->state.gates.size())
        connect(self, n);
    },
    [=](probe_atom, uint32_t n, bool open) {
      if (from_here(self) && n < self->state.gates.size())
        probed(self, n, open);
    },
    [=](const config_change& change) {
      if (!from_here(self))
        return;
      take_settings(self->state.opts, change);
      self->send(self->state.opts.local_gate, change);
    },
    [=](wire_batch& batch) {
      auto& st = self->state;
      if (!from_here(self) || batch.target < st.opts.view->config().partitions
          || batch.target / st.opts.view->config().partitions >= st.opts.view->nodes())
        return;
      const auto& view = *st.opts.view;
      uint32_t partitions = view.config().partitions;
      uint32_t n = view.node_of_ordinal(batch.target / partitions);
      if (!st.gates[n])
        return refuse(self, batch);
      self->send(st.gates[n], std::move(batch));
    },
    // A partition worker's chain messages: records down (a full copy up), a head's
    // request for a full copy down, its state up.
    [=](wire_records& in) {
      const auto& v = *self->state.opts.view;
      to_gate(self, in.up ? v.predecessor() : v.successor(), std::move(in));
    },
    [=](wire_pull& in) { to_gate(self, self->state.opts.view->successor(), std::move(in)); },
    [=](wire_commit& in) { to_gate(self, self->state.opts.view->predecessor(), std::move(in)); },
    [=](move_atom, uint16_t first, uint16_t last,
        const std::string& id) -> caf::result<bool, std::string> {
      if (!from_here(self) || last < first || last >= cluster::slot_count)
        return {false, std::string("ERR refused")};
      return start_move(self, first, last, id);
    },
    [=](move_step_atom, uint8_t step, uint64_t keys) {
      if (from_here(self))
        move_timer(self, step, keys);
    },
    [=](wire_done& in) {
      auto& st = self->state;
      if (!plausible(self, in)) {
        spdlog::warn("dropped results that no gate of this cluster sent");
        return;
      }
      if (in.shard == move_shard)
        return move_progress(self, in);
      if (in.shard >= st.brokers.size())
        return;
      done_batch out{in.target, in.id, {}};
      out.items.reserve(in.items.size());
      for (auto& item : in.items)
        out.items.push_back({item.conn, item.seq, item.part, std::move(item.result), item.ns,
                             item.over_limit});
      self->send(st.brokers[in.shard], std::move(out));
    },
    [=](shutdown_atom) {
      if (!from_here(self))
        return;
      self->state.stopping = true;
      self->quit();
    },
  };
}

void register_cluster_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<wire_hello>("otkv::wire_hello");
  cfg.add_message_type<wire_item>("otkv::wire_item");
  cfg.add_message_type<wire_batch>("otkv::wire_batch");
  cfg.add_message_type<wire_result>("otkv::wire_result");
  cfg.add_message_type<wire_done>("otkv::wire_done");
  cfg.add_message_type<wire_records>("otkv::wire_records");
  cfg.add_message_type<wire_commit>("otkv::wire_commit");
  cfg.add_message_type<wire_pull>("otkv::wire_pull");
  cfg.add_message_type<net::reply>("otkv::reply");
  cfg.add_message_type<std::vector<wire_item>>("std::vector<otkv::wire_item>");
  cfg.add_message_type<std::vector<wire_result>>("std::vector<otkv::wire_result>");
}

} // namespace otkv

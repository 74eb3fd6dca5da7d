#include "commands/scripts.hpp"

#include <algorithm>

#include "commands/errors.hpp"
#include "net/integer.hpp"

namespace otkv::cmd {

net::reply parse_script_call(const net::arg_list& args, script_call& out) {
  auto name = to_lower(args[0]);
  bool by_sha = name.rfind("evalsha", 0) == 0;
  out.read_only = name.size() > 3 && name.compare(name.size() - 3, 3, "_ro") == 0;
  int64_t numkeys = 0;
  if (!net::parse_int64(args[2], numkeys))
    return err::not_integer();
  if (numkeys < 0)
    return err::numkeys_negative();
  if (static_cast<uint64_t>(numkeys) > args.size() - 3)
    return err::numkeys_too_many();
  if (by_sha) {
    out.sha = to_lower(args[1]);
  } else {
    out.body = args[1];
    out.sha = sha1_hex(out.body);
  }
  auto first = args.begin() + 3;
  out.keys.assign(first, first + numkeys);
  out.argv.assign(first + numkeys, args.end());
  return {};
}

// -- the registry --------------------------------------------------------------------

void script_registry::add(const std::string& sha, const std::string& body) {
  std::lock_guard<std::mutex> guard(mutex_);
  scripts_.try_emplace(sha, body);
}

bool script_registry::find(const std::string& sha, std::string& body) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto i = scripts_.find(sha);
  if (i == scripts_.end())
    return false;
  body = i->second;
  return true;
}

bool script_registry::exists(const std::string& sha) const {
  std::lock_guard<std::mutex> guard(mutex_);
  return scripts_.count(sha) > 0;
}

void script_registry::flush() {
  std::lock_guard<std::mutex> guard(mutex_);
  scripts_.clear();
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

size_t script_registry::size() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return scripts_.size();
}

std::shared_ptr<script_progress> script_registry::enroll() {
  auto progress = std::make_shared<script_progress>();
  std::lock_guard<std::mutex> guard(mutex_);
  runs_.erase(std::remove_if(runs_.begin(), runs_.end(),
                             [](const auto& w) { return w.expired(); }),
              runs_.end());
  runs_.push_back(progress);
  return progress;
}

script_registry::kill_outcome script_registry::kill() {
  std::lock_guard<std::mutex> guard(mutex_);
  auto outcome = kill_outcome::not_busy;
  for (const auto& w : runs_) {
    auto run = w.lock();
    if (!run || !run->running.load(std::memory_order_acquire))
      continue;
    if (run->wrote.load(std::memory_order_acquire)) {
      if (outcome == kill_outcome::not_busy)
        outcome = kill_outcome::unkillable;
      continue;
    }
    run->kill.store(true, std::memory_order_release);
    outcome = kill_outcome::killed;
  }
  return outcome;
}

// -- the runner ----------------------------------------------------------------------

script_runner::script_runner(std::shared_ptr<script_registry> registry, key_router router)
  : registry_(std::move(registry)), router_(router), progress_(registry_->enroll()) {
  scratch_.id = 0;
  scratch_.name = "lua";
}

net::reply script_runner::run(const script_call& call, const reserved_data& reserved,
                              store::millis now) {
  wrote_ = false;
  if (!engine_ || generation_ != registry_->generation()) { // new, or SCRIPT FLUSH since
    generation_ = registry_->generation();
    engine_ = std::make_unique<lua_engine>();
  }
  if (!engine_->loaded(call.sha)) {
    std::string body = call.body;
    if (body.empty() && !registry_->find(call.sha, body))
      return err::noscript();
    auto compiled = engine_->load(call.sha, body);
    if (compiled.is_error())
      return compiled;
  }
  if (!call.body.empty())
    registry_->add(call.sha, call.body); // EVAL keeps its script for EVALSHA
  call_ = &call;
  reserved_ = &reserved;
  now_ = now;
  progress_->kill.store(false, std::memory_order_relaxed);
  progress_->wrote.store(false, std::memory_order_relaxed);
  progress_->running.store(true, std::memory_order_release);
  auto r = engine_->run(call.sha, call.keys, call.argv, *this);
  progress_->running.store(false, std::memory_order_release);
  call_ = nullptr;
  reserved_ = nullptr;
  return r;
}

namespace {

/// The connection commands a script may call: they touch no connection state.
bool callable_connection_command(const command& c) {
  return c.name == "ping" || c.name == "echo" || c.name == "time";
}

} // namespace

net::reply script_runner::call(net::arg_list& args) {
  net::reply error;
  const command* c = resolve(args, error);
  if (c == nullptr)
    return find_command(args[0]) != nullptr ? err::script_arity() : err::script_unknown_command();
  bool connection = c->where == route::connection;
  if ((connection && !callable_connection_command(*c)) || c->where == route::node
      || (c->flags & (flag::admin | flag::moves_slots | flag::server_wide)) != 0)
    return err::script_not_allowed();
  bool write = (c->flags & flag::write) != 0;
  if (write && call_->read_only)
    return err::script_write_in_ro();
  if (connection) {
    scratch_.now = now_;
    auto r = c->on_connection(scratch_, args);
    scratch_.pending = effect{};
    return r;
  }
  if (!check_partitions(*c, args, router_, error))
    return error;
  fanout f;
  auto parts = split(*c, net::arg_list(args), router_, f, write);
  for (const auto& part : parts)
    if (!router_.local(part.partition) || (*reserved_)(part.partition) == nullptr)
      return err::script_undeclared_key();
  if (write && !wrote_ && progress_->kill.load(std::memory_order_acquire))
    return err::script_killed(); // SCRIPT KILL answered OK: it dies before writing
  if (write) {
    wrote_ = true;
    progress_->wrote.store(true, std::memory_order_release);
  }
  return run_reserved(*c, parts, f, scratch_, *reserved_, now_);
}

const char* script_runner::interrupt() {
  if (registry_->stopping())
    stop_text_ = err::script_shutdown().text;
  else if (progress_->kill.load(std::memory_order_acquire))
    stop_text_ = err::script_killed().text;
  else
    return nullptr;
  return stop_text_.c_str();
}

} // namespace otkv::cmd

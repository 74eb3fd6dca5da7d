// The script commands (docs/scripts.md). EVAL and EVALSHA check their key count and ask
// the front end to run the script (effect::kind::script): it reserves the partitions of
// the declared keys and hands the script to a runner (commands/scripts.hpp). SCRIPT
// works on the node's script cache and its running scripts.

#include "commands/command_table.hpp"
#include "commands/errors.hpp"
#include "commands/scripts.hpp"

namespace otkv::cmd {

namespace {

/// EVAL script numkeys [key …] [arg …], EVALSHA sha1 numkeys …, and their _RO forms.
net::reply conn_eval(client_context& client, net::arg_list& args) {
  script_call call;
  auto error = parse_script_call(args, call);
  if (error.is_error())
    return error;
  client.pending.what = effect::kind::script; // the front end runs it and answers
  return net::reply::null();
}

/// SCRIPT LOAD | EXISTS | FLUSH | KILL | HELP.
net::reply conn_script(client_context& client, net::arg_list& args) {
  const auto& sub = args[1];
  auto* scripts = client.info != nullptr ? client.info->scripts.get() : nullptr;
  if (iequals(sub, "help") && args.size() == 2)
    return net::reply::array(
      {net::reply::status("SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"),
       net::reply::status("EXISTS <sha1> [<sha1> ...]"),
       net::reply::status("    Return information about the existence of the scripts."),
       net::reply::status("FLUSH [ASYNC|SYNC]"),
       net::reply::status("    Flush the Lua scripts cache."),
       net::reply::status("KILL"),
       net::reply::status("    Kill the currently executing read-only script."),
       net::reply::status("LOAD <script>"),
       net::reply::status("    Load a script into the scripts cache without executing it."),
       net::reply::status("HELP"),
       net::reply::status("    Print this help.")});
  bool known = iequals(sub, "load") || iequals(sub, "exists") || iequals(sub, "flush")
               || iequals(sub, "kill");
  if (!known)
    return err::unknown_subcommand(sub, "script");
  if (scripts == nullptr)
    return err::scripts_not_embedded();
  if (iequals(sub, "load")) {
    if (args.size() != 3)
      return err::arity("script|load");
    auto compiled = lua_engine::check(args[2]);
    if (compiled.is_error())
      return compiled;
    auto sha = sha1_hex(args[2]);
    scripts->add(sha, args[2]);
    return net::reply::bulk(std::move(sha));
  }
  if (iequals(sub, "exists")) {
    if (args.size() < 3)
      return err::arity("script|exists");
    std::vector<net::reply> out;
    for (size_t i = 2; i < args.size(); ++i)
      out.push_back(net::reply::integer(scripts->exists(to_lower(args[i])) ? 1 : 0));
    return net::reply::array(std::move(out));
  }
  if (iequals(sub, "flush")) {
    if (args.size() > 3 || (args.size() == 3 && !iequals(args[2], "async")
                            && !iequals(args[2], "sync")))
      return err::syntax();
    scripts->flush();
    return net::reply::ok();
  }
  if (args.size() != 2)
    return err::arity("script|kill");
  switch (scripts->kill()) {
    case script_registry::kill_outcome::killed:
      return net::reply::ok();
    case script_registry::kill_outcome::unkillable:
      return err::unkillable();
    case script_registry::kill_outcome::not_busy:
      break;
  }
  return err::notbusy();
}

} // namespace

void register_script_family(command_registry& table) {
  using namespace shorthand;
  // clang-format off
  table.insert(table.end(), {
    // name        arity flags  keys      route handler  connection   merge    group        summary
    {"eval",        -3,  0,     0, 0, 0,  C,    nullptr, conn_eval,   nullptr, "scripting", "Executes a server-side Lua script."},
    {"evalsha",     -3,  0,     0, 0, 0,  C,    nullptr, conn_eval,   nullptr, "scripting", "Executes a server-side Lua script by SHA1 digest."},
    {"eval_ro",     -3,  0,     0, 0, 0,  C,    nullptr, conn_eval,   nullptr, "scripting", "Executes a read-only server-side Lua script."},
    {"evalsha_ro",  -3,  0,     0, 0, 0,  C,    nullptr, conn_eval,   nullptr, "scripting", "Executes a read-only server-side Lua script by SHA1 digest."},
    {"script",      -2,  0,     0, 0, 0,  C,    nullptr, conn_script, nullptr, "scripting", "A container for Lua scripts management commands."},
  });
  // clang-format on
}

} // namespace otkv::cmd

// docs/commands.md's table agrees with the command table: every command has a row, and a
// row's arity and "runs on" columns are the command's.

#include <catch2/catch.hpp>

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "commands/command.hpp"
#include "markdown_table.hpp"

using namespace otkv;

namespace {

/// The command names a first cell documents: the first word of each `code` span.
std::vector<std::string> names_in(const std::string& cell) {
  std::vector<std::string> out;
  for (size_t i = cell.find('`'); i != std::string::npos; i = cell.find('`', i)) {
    auto end = cell.find('`', i + 1);
    if (end == std::string::npos)
      break;
    std::string name;
    size_t j = i + 1;
    for (; j < end && (std::isalpha(static_cast<unsigned char>(cell[j])) || cell[j] == '_'); ++j)
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(cell[j])));
    // `CLUSTER COUNTKEYSINSLOT slot` documents the row "cluster|countkeysinslot".
    std::string sub;
    for (++j; j < end && std::isupper(static_cast<unsigned char>(cell[j])); ++j)
      sub += static_cast<char>(std::tolower(static_cast<unsigned char>(cell[j])));
    if (!sub.empty() && cmd::find_command(name + "|" + sub) != nullptr)
      name += "|" + sub;
    out.push_back(name);
    i = end + 1;
  }
  return out;
}

const std::map<std::string, cmd::route> routes = {{"key", cmd::route::key},
                                                  {"keys", cmd::route::keys},
                                                  {"all", cmd::route::all},
                                                  {"node", cmd::route::node},
                                                  {"cursor", cmd::route::cursor},
                                                  {"conn", cmd::route::connection}};

} // namespace

TEST_CASE("docs/commands.md lists every command with its arity and route", "[docs]") {
  std::ifstream in(OTKV_SOURCE_DIR "/docs/commands.md");
  REQUIRE(in.good());
  std::set<std::string> documented;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| `", 0) != 0)
      continue;
    auto row = test::row_cells(line);
    REQUIRE(row.size() >= 3);
    auto arity = test::trim(row[1]);
    auto where = test::trim(row[2]);
    for (const auto& name : names_in(row[0])) {
      INFO(line);
      const cmd::command* c = cmd::find_command(name);
      REQUIRE(c != nullptr);
      CHECK(std::to_string(c->arity) == arity);
      REQUIRE(routes.count(where) == 1);
      CHECK(c->where == routes.at(where));
      documented.insert(name);
    }
  }
  for (const auto& c : cmd::command_table()) {
    INFO("command " << c.name);
    CHECK(documented.count(std::string(c.name)) == 1);
  }
}

TEST_CASE("commands are found whatever their case, one after another", "[commands]") {
  const cmd::command* get = cmd::find_command("get");
  REQUIRE(get != nullptr);
  CHECK(get->name == "get");
  // The same name twice, then other spellings and other names (the lookup keeps the last).
  CHECK(cmd::find_command("GET") == get);
  CHECK(cmd::find_command("GET") == get);
  CHECK(cmd::find_command("gEt") == get);
  CHECK(cmd::find_command("nosuchcommand") == nullptr);
  CHECK(cmd::find_command("nosuchcommand") == nullptr);
  CHECK(cmd::find_command("SET")->name == "set");
  CHECK(cmd::find_command("GET") == get);
  CHECK(cmd::find_command("GETX") == nullptr);
  CHECK(cmd::find_command("GE") == nullptr);
  CHECK(cmd::find_command(std::string(40, 'a')) == nullptr);
}

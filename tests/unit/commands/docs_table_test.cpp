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

using namespace otkv;

namespace {

/// The cells of a Markdown table row (`\|` inside a cell is not a separator).
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '|' && line[i - 1] != '\\') {
      out.push_back(cell);
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return out;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(' ');
  auto e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

/// The command names a first cell documents: the first word of each `code` span.
std::vector<std::string> names_in(const std::string& cell) {
  std::vector<std::string> out;
  for (size_t i = cell.find('`'); i != std::string::npos; i = cell.find('`', i)) {
    auto end = cell.find('`', i + 1);
    if (end == std::string::npos)
      break;
    std::string name;
    for (size_t j = i + 1; j < end && std::isalpha(static_cast<unsigned char>(cell[j])); ++j)
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(cell[j])));
    out.push_back(name);
    i = end + 1;
  }
  return out;
}

const std::map<std::string, cmd::route> routes = {{"key", cmd::route::key},
                                                  {"keys", cmd::route::keys},
                                                  {"all", cmd::route::all},
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
    auto row = cells(line);
    REQUIRE(row.size() >= 3);
    auto arity = trim(row[1]);
    auto where = trim(row[2]);
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

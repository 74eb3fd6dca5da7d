#pragma once

// Reading the Markdown tables of docs/ and README.md in tests that hold them to the code.

#include <string>
#include <vector>

namespace otkv::test {

/// The cells of a Markdown table row `| a | b |` (a `\|` inside a cell is not a separator).
inline std::vector<std::string> row_cells(const std::string& line) {
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

/// `s` without the spaces around it.
inline std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(' ');
  auto e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

} // namespace otkv::test

// README.md's "Configuration" table documents the table of config.cc: the same variables, the
// same defaults. A row may list several variables with one default each ("`A`, `B` | `1`, `2`")
// or one phrase for all of them ("unset", "required where used").
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/text.h"

#ifndef CHATALOT_SOURCE_DIR
#error "CHATALOT_SOURCE_DIR must name the project's source directory"
#endif

namespace chatalot {
namespace {

constexpr std::string_view kUnset = "unset";
constexpr std::string_view kRequired = "required where used";

struct Documented {
  std::optional<std::string> default_text;  // nullopt: the row says kUnset or kRequired
  std::string phrase;                       // the row's words when there is no default
};

// The `quoted` pieces of a cell, in order.
std::vector<std::string> backticked(std::string_view cell) {
  std::vector<std::string> out;
  for (std::size_t open = cell.find('`'); open != std::string_view::npos;) {
    const std::size_t close = cell.find('`', open + 1);
    if (close == std::string_view::npos) break;
    out.emplace_back(cell.substr(open + 1, close - open - 1));
    open = cell.find('`', close + 1);
  }
  return out;
}

std::vector<std::string> cells(std::string_view row) {
  std::vector<std::string> out;
  row = trim_ascii(row);
  if (row.starts_with('|')) row.remove_prefix(1);
  for (std::size_t bar; (bar = row.find('|')) != std::string_view::npos;) {
    out.emplace_back(trim_ascii(row.substr(0, bar)));
    row.remove_prefix(bar + 1);
  }
  return out;
}

// Every variable of the table under "## Configuration", with what its row says of its default.
std::map<std::string, Documented> readme_variables() {
  std::ifstream file(CHATALOT_SOURCE_DIR "/README.md");
  EXPECT_TRUE(file) << "cannot read " << CHATALOT_SOURCE_DIR "/README.md";
  std::map<std::string, Documented> out;
  bool in_section = false;
  for (std::string line; std::getline(file, line);) {
    if (line.starts_with("## ")) in_section = line == "## Configuration";
    if (!in_section || !line.starts_with('|') || line.starts_with("|---")) continue;
    const std::vector<std::string> row = cells(line);
    if (row.size() < 2 || row[0] == "variable") continue;  // the header
    const std::vector<std::string> names = backticked(row[0]);
    const std::vector<std::string> defaults = backticked(row[1]);
    EXPECT_FALSE(names.empty()) << line;
    EXPECT_TRUE(defaults.empty() || defaults.size() == names.size())
        << "one default per variable, or one phrase for all: " << line;
    for (std::size_t i = 0; i < names.size(); ++i) {
      Documented d;
      if (defaults.empty()) {
        d.phrase = row[1];
      } else if (i < defaults.size()) {
        d.default_text = defaults[i];
      }
      EXPECT_TRUE(out.emplace(names[i], d).second) << names[i] << " is listed twice";
    }
  }
  EXPECT_FALSE(out.empty()) << "no table under \"## Configuration\" in README.md";
  return out;
}

TEST(ReadmeConfig, EveryVariableIsListedWithItsDefault) {
  const std::map<std::string, Documented> readme = readme_variables();
  for (const VariableInfo& v : config_variables()) {
    const std::string name(v.name);
    const auto it = readme.find(name);
    if (it == readme.end()) {
      ADD_FAILURE() << name << " is missing from README.md's configuration table";
      continue;
    }
    const Documented& d = it->second;
    if (v.default_text) {
      EXPECT_EQ(d.default_text, std::string(*v.default_text)) << name;
    } else {
      EXPECT_EQ(d.default_text, std::nullopt) << name << " has no default";
      // Which phrase follows from the table: required for some executable, or never.
      EXPECT_EQ(d.phrase, v.required_by != 0 ? kRequired : kUnset) << name;
    }
  }
}

TEST(ReadmeConfig, NothingElseIsListed) {
  for (const auto& [name, documented] : readme_variables()) {
    bool known = false;
    for (const VariableInfo& v : config_variables()) known = known || v.name == name;
    EXPECT_TRUE(known) << "README.md lists " << name << ", which config.cc does not read";
  }
}

}  // namespace
}  // namespace chatalot

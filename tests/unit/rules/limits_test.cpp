// Issue 11 item 3: the rules file is loaded within bounds (size; nodes with aliases expanded).
#include "rules/rules.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace h2r;

TEST_CASE("rules limits: a rules file over 1 MiB is refused, read no further than the limit") {
  std::string templ = (fs::temp_directory_path() / "h2r-rules-limits-XXXXXX").string();
  REQUIRE(mkdtemp(templ.data()) != nullptr);
  const fs::path dir = templ;
  std::ofstream(dir / "rules.yaml") << std::string(1024 * 1024, '#') << "\nversion: 1\n";
  auto rules = load_rules_file((dir / "rules.yaml").string());
  REQUIRE_FALSE(rules);
  CHECK(rules.error()[0].to_string() == (dir / "rules.yaml").string() +
                                            ": the file is larger than 1 MiB, the limit for this file");
  auto missing = load_rules_file((dir / "none.yaml").string());
  REQUIRE_FALSE(missing);
  CHECK(missing.error()[0].message.find("cannot read the rules file: No such file or directory") != std::string::npos);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_CASE("rules limits: an alias bomb of conditions is refused before any condition is built") {
  std::string text = "version: 1\ntargets:\n  - connection: z\n    when: &c0 { field: d, equals: lol }\nroles:\n";
  for (int i = 1; i <= 9; ++i) {
    text += "  - name: r" + std::to_string(i) + "\n    when: &c" + std::to_string(i) + " { all: [";
    for (int k = 0; k < 10; ++k) text += (k ? ", *c" : "*c") + std::to_string(i - 1);
    text += "] }\n";
  }
  text += "attributes:\n  userName: \"{email}\"\n";
  auto rules = load_rules_text(text, "rules.yaml");
  REQUIRE_FALSE(rules);
  REQUIRE(rules.error().size() == 1);
  CHECK(rules.error()[0].to_string().starts_with("rules.yaml:15:23: alias *c4 repeats 53333 nodes"));
  // A few aliases are fine: they are shared conditions, evaluated as written.
  auto fine = load_rules_text("version: 1\ntargets: [{connection: z, when: &sales {field: d, equals: Sales}}]\n"
                              "roles: [{name: a, when: {all: [*sales, *sales]}}]\nattributes: {userName: \"{email}\"}\n",
                              "rules.yaml");
  REQUIRE(fine);
  CHECK((*fine)->decide({{"d", "SALES"}, {"email", "x@y"}}).front().desired->role == "a");
}

TEST_CASE("rules limits: many large patterns, each under RE2's cap, are refused past a budget for the file") {
  std::string text = "version: 1\ntargets: [{connection: z}]\nroles:\n";
  for (int i = 0; i < 100; ++i)
    text += "  - { name: r" + std::to_string(i) + ", when: { field: f, matches: '\\pL{100}', case_sensitive: true } }\n";
  text += "attributes: {userName: \"{email}\"}\n";
  auto rules = load_rules_text(text, "rules.yaml");
  REQUIRE_FALSE(rules);
  const Diagnostic& first = rules.error().front();
  CHECK(first.line > 4 + 10);  // a few dozen such patterns fit
  CHECK(first.message.find("roles[") == 0);
  CHECK(first.message.find(".when.matches: the `matches` patterns of this file are too large together") !=
        std::string::npos);
}

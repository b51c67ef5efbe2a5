// Issue 11 item 3: YAML from admins' files is loaded within bounds (size, nodes with aliases expanded),
// and a tab used as indentation is named as the cause.
#include "config/config.hpp"
#include "yaml/yaml_reader.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace h2r;

namespace {

// Nine levels of ten aliases each: 10^9 nodes once expanded, about 600 bytes of text.
std::string billion_laughs() {
  std::string text = "a0: &a0 [lol]\n";
  for (int i = 1; i <= 9; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) text += (k ? ", *a" : "*a") + std::to_string(i - 1);
    text += "]\n";
  }
  return text;
}

struct Parsed {
  bool ok;
  Diagnostics diagnostics;
};

Parsed parse(const std::string& text, yaml::Limits limits = {}) {
  Diagnostics diagnostics;
  yaml::Reader reader("f.yaml", diagnostics, limits);
  const bool ok = reader.parse(text).has_value();
  return {ok, diagnostics};
}

} // namespace

TEST_CASE("yaml bounds: a billion-laughs document is refused at the alias that passes the node limit") {
  const auto r = parse(billion_laughs());
  REQUIRE_FALSE(r.ok);
  REQUIRE(r.diagnostics.size() == 1);
  const Diagnostic& d = r.diagnostics[0];
  CAPTURE(d.to_string());
  // a4 holds 21111 nodes; the fourth *a4 in a5's list passes 100000 (line 6, column 25).
  CHECK(d.line == 6);
  CHECK(d.column == 25);
  CHECK(d.message.find("alias *a4 repeats 21111 nodes and makes the document larger than 100000 nodes once "
                       "aliases are expanded") != std::string::npos);
}

TEST_CASE("yaml bounds: aliases within the limit load, counted as what they repeat") {
  CHECK(parse("a: &x [1, 2, 3]\nb: *x\nc: *x\n").ok);
  // Root map 1 + keys 3 + list 4 + two aliases of 4 = 16 nodes.
  CHECK(parse("a: &x [1, 2, 3]\nb: *x\nc: *x\n", {1024, 16}).ok);
  const auto over = parse("a: &x [1, 2, 3]\nb: *x\nc: *x\n", {1024, 15});
  REQUIRE_FALSE(over.ok);
  CHECK(over.diagnostics[0].line == 3);
  CHECK(over.diagnostics[0].column == 4);
  CHECK(over.diagnostics[0].message.find("alias *x repeats 4 nodes") != std::string::npos);
}

TEST_CASE("yaml bounds: an alias inside the collection it names (a loop) is refused") {
  const auto r = parse("a: &w { not: *w }\n");
  REQUIRE_FALSE(r.ok);
  CHECK(r.diagnostics[0].line == 1);
  CHECK(r.diagnostics[0].column == 14);
  CHECK(r.diagnostics[0].message == "alias *w refers to the list or map it is inside (a loop); write that part out");
}

TEST_CASE("yaml bounds: a document of more plain nodes than the limit is refused where it passes it") {
  std::string text = "[";
  for (int i = 0; i < 100'000; ++i) text += "1,";
  text += "1]\n";
  const auto r = parse(text);
  REQUIRE_FALSE(r.ok);
  CHECK(r.diagnostics[0].line == 1);
  CHECK(r.diagnostics[0].column == 2 * 99'999 + 2);  // the 100000th scalar: the list itself is node 1
  CHECK(r.diagnostics[0].message.find("more than 100000 nodes") != std::string::npos);
}

TEST_CASE("yaml bounds: text over the size limit is refused before parsing") {
  const auto r = parse(std::string(1024 * 1024 + 1, '#'));
  REQUIRE_FALSE(r.ok);
  CHECK(r.diagnostics[0].to_string() == "f.yaml: the file is larger than 1 MiB, the limit for this file");
  CHECK(parse(std::string(1024 * 1024, '#')).ok);
}

TEST_CASE("yaml bounds: a tab used as indentation is named as the cause of the syntax error") {
  for (const char* text : {"a:\n\tb: 1\n", "a:\n  b: 1\n\tc: 2\n", "a:\n  - 1\n \t- 2\n"}) {
    CAPTURE(std::string(text));
    const auto r = parse(text);
    REQUIRE_FALSE(r.ok);
    REQUIRE(r.diagnostics.size() == 1);
    const int line = std::string(text).starts_with("a:\n\t") ? 2 : 3;
    const int column = std::string(text).find(" \t") != std::string::npos ? 2 : 1;
    CHECK(r.diagnostics[0].line == line);
    CHECK(r.diagnostics[0].column == column);
    CHECK(r.diagnostics[0].message ==
          "tab character at " + std::to_string(line) + ":" + std::to_string(column) + "; YAML indents with spaces");
  }
  // Tabs that are not indentation are fine, and other syntax errors keep yaml-cpp's words.
  CHECK(parse("a: [1,\t2]\nb: \"x\ty\"\n").ok);
  const auto other = parse("a: [1, 2\n");
  REQUIRE_FALSE(other.ok);
  CHECK(other.diagnostics[0].message.starts_with("YAML syntax error: "));
}

TEST_CASE("yaml bounds: the config file is read only up to the limit, and refused past it") {
  std::string templ = (fs::temp_directory_path() / "h2r-bounds-XXXXXX").string();
  REQUIRE(mkdtemp(templ.data()) != nullptr);
  const fs::path dir = templ;
  const std::string big = std::string(1024 * 1024, '#') + "\nversion: 1\n";
  std::ofstream(dir / "h2rd.yaml") << big;
  std::ofstream(dir / "bomb.yaml") << billion_laughs();

  auto config = load_config((dir / "h2rd.yaml").string());
  REQUIRE_FALSE(config);
  CHECK(config.error()[0].message == "the file is larger than 1 MiB, the limit for this file");
  auto bomb = load_config((dir / "bomb.yaml").string());
  REQUIRE_FALSE(bomb);
  CHECK(bomb.error()[0].to_string().find("bomb.yaml:6:25: alias *a4 repeats") != std::string::npos);
  auto missing = load_config((dir / "none.yaml").string());
  REQUIRE_FALSE(missing);
  CHECK(missing.error()[0].message.find("cannot read the config file: No such file or directory") != std::string::npos);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

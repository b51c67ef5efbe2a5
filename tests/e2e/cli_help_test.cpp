// Issue 17 item 1: `--help` on every command and subcommand, printed from the table the parser uses.
// The test walks that table itself, so a command added to it cannot be missed here.
#include "h2rd/cli/command_table.hpp"
#include "support/process.hpp"
#include "support/test_paths.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

using namespace h2r;

namespace {

std::vector<std::string> words_of(std::string_view path) {
  std::vector<std::string> words;
  std::istringstream in{std::string(path)};
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// h2rd with a config that does not exist: help must not need one.
test::ProcessResult h2rd(std::vector<std::string> words) {
  words.insert(words.begin(), {test::h2rd_path(), "-c", "/nonexistent/h2rd.yaml"});
  return test::run_process(words);
}

} // namespace

TEST_CASE("cli help: every command and subcommand in the table answers --help with exit 0 and all its options") {
  REQUIRE(cli::command_table().size() >= 17);   // today's commands: the table only grows
  for (const auto& spec : cli::command_table()) {
    INFO(spec.path);
    auto words = words_of(spec.path);
    words.push_back("--help");
    auto r = h2rd(words);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("usage: h2rd [-c CONFIG] " + std::string(spec.path)) != std::string::npos);
    CHECK(r.out.find(std::string(spec.summary)) != std::string::npos);
    for (const auto& option : spec.options) {
      INFO(option.name);
      CHECK(r.out.find(std::string(option.name) + (option.takes_value() ? " " + std::string(option.placeholder) : "")) !=
            std::string::npos);
      CHECK(r.out.find(std::string(option.help)) != std::string::npos);
    }
    // -h works the same, and --help after other words (an operand, an option) still wins.
    words.back() = "-h";
    CHECK(h2rd(words).exit_code == 0);
    words.back() = "x";
    words.push_back("--help");
    CHECK(h2rd(words).exit_code == 0);
  }
}

TEST_CASE("cli help: a group's --help lists each subcommand with its options, and h2rd --help lists every group") {
  std::set<std::string> groups;
  for (const auto& spec : cli::command_table())
    if (auto space = spec.path.find(' '); space != std::string_view::npos) groups.insert(std::string(spec.path.substr(0, space)));
  CHECK(groups == std::set<std::string>{"connection", "events"});
  auto top = h2rd({"--help"});
  CHECK(top.exit_code == 0);
  for (const auto& spec : cli::command_table()) {
    INFO(spec.path);
    const auto words = words_of(spec.path);
    CHECK(top.out.find("  " + words[0]) != std::string::npos);
    if (words.size() < 2) continue;
    auto group = h2rd({words[0], "--help"});
    CHECK(group.exit_code == 0);
    CHECK(group.out.find(std::string(spec.path)) != std::string::npos);
    for (const auto& option : spec.options) CHECK(group.out.find(std::string(option.help)) != std::string::npos);
  }
}

TEST_CASE("cli help: options come from the table, so an unknown one is a usage error that points at --help") {
  auto unknown = h2rd({"events", "list", "--frobnicate"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("unknown option --frobnicate") != std::string::npos);
  CHECK(unknown.err.find("h2rd events list --help") != std::string::npos);
  // An option of another subcommand is not accepted here.
  CHECK(h2rd({"events", "show", "1", "--reason", "x"}).exit_code == 2);
  CHECK(h2rd({"events", "frobnicate"}).exit_code == 2);
  CHECK(h2rd({"events"}).exit_code == 2);
  // A value that reads like --help is a value, not a request for help.
  auto value = h2rd({"events", "reject", "1", "--reason", "--help"});
  CHECK(value.out.find("usage:") == std::string::npos);
}

// Issue 28 ("docs from one source"): h2rd(8) is the reference, the command table is what h2rd accepts;
// neither may name what the other lacks. In roff a dash is written `\-`, so "--json" reads `\-\-json`.
TEST_CASE("cli help: h2rd(8) names every command and option of the table, and no option the table lacks") {
  std::ifstream in(std::string(test::source_dir()) + "/docs/man/h2rd.8");
  REQUIRE(in);
  std::ostringstream read;
  read << in.rdbuf();
  const std::string page = read.str();
  std::string plain;   // `\-` → `-`, `\fB`/`\fR`/`\fI`/`\fP` dropped: the words a reader sees
  for (std::size_t i = 0; i < page.size(); ++i) {
    if (page[i] == '\\' && i + 1 < page.size() && page[i + 1] == '-') {
      plain += '-';
      ++i;
    } else if (page[i] == '\\' && i + 2 < page.size() && page[i + 1] == 'f') {
      i += 2;
    } else {
      plain += page[i];
    }
  }
  // The synopsis has a line for each top-level command (".B events", or ".B h2rd version").
  const auto synopsis_at = page.find(".SH SYNOPSIS");
  REQUIRE(synopsis_at != std::string::npos);
  const std::string synopsis = page.substr(synopsis_at, page.find("\n.SH ", synopsis_at + 1) - synopsis_at);
  for (const auto& spec : cli::command_table()) {
    const std::string command = words_of(spec.path).front();
    INFO(command);
    const bool named = synopsis.find("\n.B " + command + "\n") != std::string::npos ||
                       synopsis.find("\n.B " + command + " ") != std::string::npos ||
                       synopsis.find("\n.B h2rd " + command + "\n") != std::string::npos;
    CHECK(named);
  }
  std::set<std::string> table_options{"--config", "--help", "--version"};   // the global ones
  for (const auto& spec : cli::command_table()) {
    INFO(spec.path);
    // The synopsis names each command: "events" and "list" may stand apart (".BR list | show").
    for (const auto& word : words_of(spec.path)) CHECK(plain.find(word) != std::string::npos);
    for (const auto& option : spec.options) {
      INFO(option.name);
      table_options.insert(std::string(option.name));
      CHECK(plain.find(std::string(option.name)) != std::string::npos);
    }
  }
  // Every long option the page names exists in the table.
  for (std::size_t at = plain.find("--"); at != std::string::npos; at = plain.find("--", at + 2)) {
    std::size_t end = at + 2;
    while (end < plain.size() && (std::isalnum(static_cast<unsigned char>(plain[end])) || plain[end] == '-')) ++end;
    const std::string option = plain.substr(at, end - at);
    if (option.size() <= 2) continue;
    INFO(option);
    CHECK(table_options.count(option) == 1);
    at = end - 2;
  }
}

// Issue 28: `h2rd --version`, and -c accepted anywhere on the line (before `--`), as operators type it.
TEST_CASE("cli: --version prints the version, and -c after the command names the config as before it") {
  auto version = test::run_process({test::h2rd_path(), "--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out == test::run_process({test::h2rd_path(), "version"}).out);
  CHECK(version.out.rfind("h2rd ", 0) == 0);

  // The config named after the command is the one h2rd reads (and cannot find here).
  auto after = test::run_process({test::h2rd_path(), "status", "-c", "/nonexistent/after.yaml"});
  CHECK(after.exit_code != 2);
  CHECK(after.err.find("/nonexistent/after.yaml") != std::string::npos);
  auto after_long = test::run_process({test::h2rd_path(), "events", "list", "--config=/nonexistent/long.yaml"});
  CHECK(after_long.err.find("/nonexistent/long.yaml") != std::string::npos);
  // Twice is a usage error, not a silent choice.
  auto twice = test::run_process({test::h2rd_path(), "-c", "/nonexistent/a.yaml", "status", "-c", "/nonexistent/b.yaml"});
  CHECK(twice.exit_code == 2);
  CHECK(twice.err.find("given twice") != std::string::npos);
  // A value of the command's own option stays that option's: "-c" is the reason here.
  auto reason = h2rd({"events", "reject", "1", "--reason", "-c"});
  CHECK(reason.err.find("given twice") == std::string::npos);
  CHECK(reason.err.find("/nonexistent/h2rd.yaml") != std::string::npos);
}

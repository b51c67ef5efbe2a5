// Issue 17 item 1: `--help` on every command and subcommand, printed from the table the parser uses.
// The test walks that table itself, so a command added to it cannot be missed here.
#include "h2rd/cli/command_table.hpp"
#include "support/process.hpp"
#include "support/test_paths.hpp"

#include <doctest/doctest.h>

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

// The one table of h2rd's commands and their options. The parser (args.hpp: parse_command) accepts
// exactly the options listed here, and `--help` prints them from here, so the two cannot disagree.
// Adding an option is one line in command_table.cpp. Plain data: no other h2r header is needed.
#pragma once

#include <iosfwd>
#include <string_view>
#include <vector>

namespace h2r::cli {

struct OptionSpec {
  std::string_view name;          // "--reason"
  std::string_view placeholder;   // "TEXT"; empty: a flag that takes no value
  std::string_view help;          // one line

  bool takes_value() const { return !placeholder.empty(); }
};

struct CommandSpec {
  std::string_view path;          // "events reject": the command words
  std::string_view operands;      // "ID": the positional words after the path, as the synopsis shows them
  std::string_view summary;       // one line
  std::vector<OptionSpec> options;
};

// Every command and subcommand, top-level commands in the order of `h2rd --help`.
const std::vector<CommandSpec>& command_table();

// The entry for a path ("events reject"), or nullptr.
const CommandSpec* find_command(std::string_view path);
// True when `group` ("events") has subcommands ("events list", ...).
bool has_subcommands(std::string_view group);

// `h2rd PATH --help`: synopsis, summary and every option with its help.
void print_command_help(std::ostream& out, const CommandSpec& spec);
// `h2rd GROUP --help`: every subcommand with its options.
void print_group_help(std::ostream& out, std::string_view group);
// `h2rd --help`: the commands and the global options.
void print_top_help(std::ostream& out);

} // namespace h2r::cli

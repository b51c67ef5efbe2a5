// A small command-line reader: options with values, flags, and positional words. Wiring only. Which
// options a command takes comes from command_table.hpp, the same table `--help` prints.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace h2r::cli {

// sysexits-style codes that SPEC promises.
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failed = 1;
inline constexpr int k_exit_usage = 2;
inline constexpr int k_exit_config = 78;
inline constexpr int k_exit_drift = 3;     // `reconcile`: drift found (and not all of it fixed)

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;
  std::set<std::string> flags;

  bool has(const std::string& flag) const { return flags.count(flag) > 0; }
  std::optional<std::string> value(const std::string& name) const;
};

// Reads `words` knowing which options take a value and which are flags ("--x=v" and "--x v" both
// work). An unknown option or a missing value gives an error message.
std::optional<Args> parse_args(const std::vector<std::string>& words, const std::set<std::string>& value_options,
                               const std::set<std::string>& flag_options, std::string& error);

// Reads the words after the top-level command `group` ("events", "run") with the options the command
// table gives that command. When the group has subcommands, the first word names one and stays
// positional[0]. `--help` or `-h` anywhere prints that command's help (or the group's, without a
// subcommand). nullopt: help was printed (exit_code 0) or a usage error was (exit_code 2).
std::optional<Args> parse_command(std::string_view group, const std::vector<std::string>& words, int& exit_code);

} // namespace h2r::cli

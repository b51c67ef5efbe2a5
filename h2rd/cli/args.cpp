#include "h2rd/cli/args.hpp"

#include "h2rd/cli/command_table.hpp"

#include <iostream>

namespace h2r::cli {

std::optional<std::string> Args::value(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::optional<Args> parse_args(const std::vector<std::string>& words, const std::set<std::string>& value_options,
                               const std::set<std::string>& flag_options, std::string& error) {
  Args args;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.size() < 2 || w[0] != '-' || w == "-") {
      args.positional.push_back(w);
      continue;
    }
    if (w == "--") {
      args.positional.insert(args.positional.end(), words.begin() + static_cast<long>(i) + 1, words.end());
      break;
    }
    std::string name = w;
    std::optional<std::string> inline_value;
    if (auto eq = w.find('='); eq != std::string::npos) {
      name = w.substr(0, eq);
      inline_value = w.substr(eq + 1);
    }
    if (value_options.count(name)) {
      if (inline_value) {
        args.values[name] = *inline_value;
      } else if (i + 1 < words.size()) {
        args.values[name] = words[++i];
      } else {
        error = "option " + name + " needs a value";
        return std::nullopt;
      }
    } else if (flag_options.count(name) && !inline_value) {
      args.flags.insert(name);
    } else {
      error = "unknown option " + name;
      return std::nullopt;
    }
  }
  return args;
}

namespace {

bool is_help(const std::string& word) { return word == "--help" || word == "-h"; }

// --help among the words, not counting a value of an option (`--reason --help` is a reason).
bool asks_for_help(const std::vector<std::string>& words, const std::set<std::string>& value_options) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "--") return false;
    if (is_help(words[i])) return true;
    if (value_options.count(words[i])) ++i;
  }
  return false;
}

} // namespace

std::optional<Args> parse_command(std::string_view group, const std::vector<std::string>& words, int& exit_code) {
  exit_code = k_exit_usage;
  const CommandSpec* spec = nullptr;
  if (has_subcommands(group)) {
    if (words.empty() || words[0].empty() || words[0][0] == '-') {
      if (asks_for_help(words, {})) {
        print_group_help(std::cout, group);
        exit_code = k_exit_ok;
      } else {
        std::cerr << "h2rd: " << group << " needs a command (see `h2rd " << group << " --help`)\n";
      }
      return std::nullopt;
    }
    spec = find_command(std::string(group) + " " + words[0]);
    if (!spec) {
      std::cerr << "h2rd: unknown " << group << " command '" << words[0] << "' (see `h2rd " << group << " --help`)\n";
      return std::nullopt;
    }
  } else {
    spec = find_command(group);
    if (!spec) {
      std::cerr << "h2rd: unknown command '" << group << "' (see `h2rd --help`)\n";
      return std::nullopt;
    }
  }
  std::set<std::string> value_options;
  std::set<std::string> flag_options;
  for (const auto& o : spec->options) (o.takes_value() ? value_options : flag_options).insert(std::string(o.name));
  if (asks_for_help(words, value_options)) {
    print_command_help(std::cout, *spec);
    exit_code = k_exit_ok;
    return std::nullopt;
  }
  std::string error;
  auto args = parse_args(words, value_options, flag_options, error);
  if (!args) {
    std::cerr << "h2rd: " << error << " (see `h2rd " << spec->path << " --help`)\n";
    return std::nullopt;
  }
  exit_code = k_exit_ok;
  return args;
}

} // namespace h2r::cli

// h2rd check: validate the config and the rules, every problem as file:line:col: message.
#include "daemon/cli/commands.hpp"
#include "daemon/cli/context.hpp"
#include "rules/rules.hpp"
#include "store/sqlite_store.hpp"

#include <iostream>
#include <sys/stat.h>

namespace h2r::cli {

int cmd_check(const std::string& config_path, const Words& words) {
  int parse_code = k_exit_ok;
  auto args = parse_command("check", words, parse_code);
  if (!args) return parse_code;
  if (!args->positional.empty()) {
    print_error("usage: h2rd check (see `h2rd check --help`)");
    return k_exit_usage;
  }
  Diagnostics all;
  auto config = load_config(config_path);
  if (!config) {
    all = config.error();
  } else {
    auto rules = load_rules_file(config->rules);
    if (!rules) {
      all = rules.error();
    } else {
      all = (*rules)->warnings();
      // With a database at hand: connections the rules name must exist, and template fields no
      // event has ever carried are worth a warning.
      struct stat st {};
      if (::stat(config->database.c_str(), &st) == 0) {
        if (auto store = open_sqlite_store(config->database)) {
          for (const auto& name : (*rules)->connections()) {
            auto row = (*store)->get_connection(name);
            if (row && !*row)
              all.push_back({config->rules, 0, 0, "targets: connection '" + name +
                                                      "' does not exist (see `h2rd connection list`)"});
          }
          auto seen = (*store)->seen_fields();
          if (seen && !seen->empty())
            for (const auto& field : (*rules)->referenced_fields())
              if (!seen->count(field))
                all.push_back({config->rules, 0, 0, "field '" + field + "' is used by the rules but no event has carried it yet", true});
        }
      }
    }
  }
  if (args->has("--json")) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : all)
      out.push_back({{"file", d.file}, {"line", d.line}, {"column", d.column}, {"message", d.message},
                     {"severity", d.warning ? "warning" : "error"}});
    print_json({{"ok", !has_errors(all)}, {"problems", out}});
  } else {
    for (const auto& d : all) std::cerr << d.to_string() << "\n";
    if (!has_errors(all)) std::cout << "config and rules are valid\n";
  }
  return has_errors(all) ? k_exit_config : k_exit_ok;
}

} // namespace h2r::cli

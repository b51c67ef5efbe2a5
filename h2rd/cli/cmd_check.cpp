// h2rd check: validate the config and the rules, every problem as file:line:col: message. With the
// database at hand it also checks the rules against the installation (connections that exist, fields
// events carry); without one it says what it could not check, and --strict makes that a failure.
#include "h2rd/cli/commands.hpp"
#include "h2rd/cli/context.hpp"
#include "rules/rules.hpp"
#include "core/db_url.hpp"
#include "store/open_store.hpp"

#include <algorithm>
#include <iostream>
#include <sys/stat.h>

namespace h2r::cli {
namespace {

// Which store the config names, and whether it answered.
struct DatabaseReport {
  std::string backend;    // "SQLite" or "PostgreSQL"
  std::string location;   // the file, or the URL without any password
  bool reachable = false;
  long long connections = 0;
  std::string problem;    // why not reachable
};

// The rules against the installation: the check_references() problems, plus a warning per thing
// that could not be checked (no database yet, or one that does not open).
Diagnostics check_installation(const Config& config, const Rules& rules, int& unchecked, DatabaseReport& report) {
  std::optional<std::vector<std::string>> connections;
  std::set<std::string> seen;
  std::string why_not;
  const std::string shown = redact_database(config.database);
  report.backend = std::string(store_backend(config.database));
  report.location = shown;
  struct stat st {};
  if (!is_database_url(config.database) && ::stat(config.database.c_str(), &st) != 0) {
    why_not = "there is no database at " + shown + " yet (`h2rd connection add` creates it)";
  } else if (auto store = open_store(config.database, config.database_password_file, config.database_cache); !store) {
    why_not = "the database " + shown + " does not open: " + store.error().message;
  } else if (auto rows = (*store)->list_connections(); !rows) {
    why_not = "the database " + shown + " cannot be read: " + rows.error().message;
  } else {
    report.reachable = true;
    report.connections = static_cast<long long>(rows->size());
    connections.emplace();
    for (const auto& row : *rows) connections->push_back(row.name);
    if (auto fields = (*store)->seen_fields()) seen = std::move(*fields);
  }
  report.problem = why_not;
  Diagnostics out = check_references(rules, connections, seen);
  if (!why_not.empty()) {
    std::string names;
    for (const auto& ref : rules.connection_references()) names += (names.empty() ? "'" : ", '") + ref.name + "'";
    out.push_back({rules.source(), 0, 0, "not checked: whether connection(s) " + names + " exist, and which fields "
                                             "events carry beyond the SPEC's — " + why_not, true});
    ++unchecked;
  }
  return out;
}

} // namespace

int cmd_check(const std::string& config_path, const Words& words) {
  int parse_code = k_exit_ok;
  auto args = parse_command("check", words, parse_code);
  if (!args) return parse_code;
  if (!args->positional.empty()) {
    print_error("usage: h2rd check (see `h2rd check --help`)");
    return k_exit_usage;
  }
  const bool strict = args->has("--strict");
  Diagnostics all;
  int unchecked = 0;
  DatabaseReport database;
  auto config = load_config(config_path);
  if (!config) {
    all = config.error();
  } else {
    auto rules = load_rules_file(config->rules);
    if (!rules) {
      all = rules.error();
    } else {
      all = (*rules)->warnings();
      for (auto& d : check_installation(*config, **rules, unchecked, database)) all.push_back(std::move(d));
    }
  }
  const bool errors = has_errors(all);
  const auto warnings = static_cast<long long>(std::count_if(all.begin(), all.end(), [](const Diagnostic& d) { return d.warning; }));
  const bool ok = !errors && !(strict && warnings > 0);
  if (args->has("--json")) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : all)
      out.push_back({{"file", d.file}, {"line", d.line}, {"column", d.column}, {"message", d.message},
                     {"severity", d.warning ? "warning" : "error"}});
    nlohmann::json db = nullptr;
    if (!database.backend.empty())
      db = {{"backend", database.backend}, {"location", database.location}, {"reachable", database.reachable},
            {"connections", database.connections},
            {"problem", database.problem.empty() ? nlohmann::json(nullptr) : nlohmann::json(database.problem)}};
    print_json({{"ok", ok}, {"strict", strict}, {"complete", unchecked == 0}, {"database", db}, {"problems", out}});
  } else {
    for (const auto& d : all) std::cerr << d.to_string() << "\n";
    if (errors) {
      // the problems above say it all
    } else if (strict && warnings > 0) {
      std::cout << "check --strict: " << warnings << " warning(s), counted as problems\n";
    } else if (unchecked > 0) {
      std::cout << "config and rules are valid as far as they could be checked (see 'not checked' above)\n";
    } else {
      std::cout << "config and rules are valid" << (warnings > 0 ? " (with the warnings above)" : "") << "\n";
    }
    if (database.reachable)
      std::cout << "database: " << database.backend << " " << database.location << " (reachable, "
                << database.connections << " connection(s))\n";
    else if (!database.backend.empty())
      std::cout << "database: " << database.backend << " " << database.location << " (not reachable: see above)\n";
  }
  return ok ? k_exit_ok : k_exit_config;
}

} // namespace h2r::cli

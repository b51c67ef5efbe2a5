// h2rd reconcile [--connection NAME] [--apply]
#include "core/logging.hpp"
#include "h2rd/cli/commands.hpp"
#include "h2rd/cli/context.hpp"
#include "engine/engine_config.hpp"
#include "engine/reconciler.hpp"
#include "views/drift.hpp"

#include <algorithm>
#include <iostream>

namespace h2r::cli {

int cmd_reconcile(const std::string& config_path, const Words& words) {
  int parse_code = k_exit_ok;
  auto args = parse_command("reconcile", words, parse_code);
  if (!args) return parse_code;
  if (!args->positional.empty()) {
    print_error("usage: h2rd reconcile [--connection NAME] [--apply] (see `h2rd reconcile --help`)");
    return k_exit_usage;
  }
  int code = k_exit_ok;
  auto engine = open_engine_context(config_path, code);
  if (!engine) return code;
  const Context* ctx = &engine->ctx;
  const bool apply = args->has("--apply");
  auto report = reconcile(*ctx->store, *engine->connections, *engine->rules, args->value("--connection"), apply, SystemClock::instance(),
                          reconcile_retry(ctx->config));
  if (!report) {
    print_error("reconcile: " + report.error().message);
    return k_exit_failed;
  }
  nlohmann::json out = reconcile_json(*report, apply);
  const nlohmann::json& drift = out["drift"];
  const bool fix_failed = std::any_of(report->drift.begin(), report->drift.end(),
                                      [](const DriftItem& d) { return !d.fix_error.empty(); });
  // Exit status for scripts: 1 a fix failed; 3 employees drift (left unfixed); 0 otherwise. Zoom users no
  // employee accounts for (admins, service accounts) are listed but are no drift of h2r's to fix.
  const bool unfixed = std::any_of(report->drift.begin(), report->drift.end(),
                                   [](const DriftItem& d) { return d.kind != "unaccounted" && !d.fixed; });
  const int exit_code = fix_failed ? k_exit_failed : unfixed ? k_exit_drift : k_exit_ok;
  if (args->has("--json")) {
    out["exit_code"] = exit_code;
    print_json(out);
  } else {
    // The totals add up: checked = in sync + drift + left alone.
    std::cout << "employees checked: " << report->employees_checked << " = " << report->in_sync << " in sync + "
              << report->employee_drift() << " with drift + " << report->left_alone
              << " left alone (on leave, or no role with on_no_role: keep)\n"
              << "zoom users: " << report->zoom_users << ", of which " << report->unaccounted
              << " no employee accounts for (listed, never touched)\n";
    for (const auto& d : drift) {
      std::cout << "  [" << d["connection"].get<std::string>() << "] " << d["kind"].get<std::string>() << " "
                << d["userName"].get<std::string>();
      if (d["kind"] == "shared")   // the detail names the employees
        std::cout << " (id " << d["user_id"].get<std::string>() << ")";
      else if (!d["employee_id"].get<std::string>().empty())
        std::cout << " (employee " << d["employee_id"].get<std::string>() << ")";
      std::cout << ": " << d["detail"].get<std::string>();
      if (d["fixed"].get<bool>()) std::cout << " — fixed";
      if (!d["fix_error"].get<std::string>().empty()) std::cout << " — fix FAILED: " << d["fix_error"].get<std::string>();
      std::cout << "\n";
      for (const auto& c : d["changes"])
        std::cout << "      " << c["path"].get<std::string>() << ": zoom " << c["zoom"].dump() << ", rules " << c["rules"].dump() << "\n";
    }
    if (!apply && !report->drift.empty()) std::cout << "run with --apply to fix missing, attribute and active-state drift\n";
  }
  return exit_code;
}

} // namespace h2r::cli

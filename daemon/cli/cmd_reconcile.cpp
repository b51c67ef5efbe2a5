// h2rd reconcile [--connection NAME] [--apply]
#include "core/logging.hpp"
#include "daemon/cli/commands.hpp"
#include "daemon/cli/context.hpp"
#include "engine/reconciler.hpp"

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
  auto ctx = open_context(config_path, code);
  if (!ctx) return code;
  auto rules = load_rules_or_report(*ctx, code);
  if (!rules) return code;
  HttplibTransport transport;
  ConnectionRegistry registry(*ctx->store, *ctx->box, transport, SystemClock::instance());
  const bool apply = args->has("--apply");
  auto report = reconcile(*ctx->store, registry, *rules, args->value("--connection"), apply, SystemClock::instance());
  if (!report) {
    print_error("reconcile: " + report.error().message);
    return k_exit_failed;
  }
  bool fix_failed = false;
  nlohmann::json drift = nlohmann::json::array();
  for (const auto& d : report->drift) {
    nlohmann::json changes = nlohmann::json::array();
    for (const auto& c : d.changes) changes.push_back({{"path", c.path}, {"zoom", c.before}, {"rules", c.after}});
    drift.push_back({{"connection", d.connection}, {"kind", d.kind}, {"employee_id", d.employee_id},
                     {"userName", d.user_name}, {"user_id", d.user_id}, {"detail", d.detail}, {"changes", changes},
                     {"fixed", d.fixed}, {"fix_error", d.fix_error}});
    fix_failed = fix_failed || !d.fix_error.empty();
  }
  if (args->has("--json")) {
    print_json({{"zoom_users", report->zoom_users}, {"employees_checked", report->employees_checked},
                {"in_sync", report->in_sync}, {"drift", drift}, {"applied", apply}});
  } else {
    std::cout << "zoom users: " << report->zoom_users << ", employees checked: " << report->employees_checked
              << ", in sync: " << report->in_sync << ", drift: " << report->drift.size() << "\n";
    for (const auto& d : drift) {
      std::cout << "  [" << d["connection"].get<std::string>() << "] " << d["kind"].get<std::string>() << " "
                << d["userName"].get<std::string>();
      if (!d["employee_id"].get<std::string>().empty()) std::cout << " (employee " << d["employee_id"].get<std::string>() << ")";
      std::cout << ": " << d["detail"].get<std::string>();
      if (d["fixed"].get<bool>()) std::cout << " — fixed";
      if (!d["fix_error"].get<std::string>().empty()) std::cout << " — fix FAILED: " << d["fix_error"].get<std::string>();
      std::cout << "\n";
      for (const auto& c : d["changes"])
        std::cout << "      " << c["path"].get<std::string>() << ": zoom " << c["zoom"].dump() << ", rules " << c["rules"].dump() << "\n";
    }
    if (!apply && !report->drift.empty()) std::cout << "run with --apply to fix missing, attribute and active-state drift\n";
  }
  return fix_failed ? k_exit_failed : k_exit_ok;
}

} // namespace h2r::cli

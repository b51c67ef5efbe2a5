// h2rd provision EMPLOYEE [--apply]: what h2r would do for one employee now and why (which role each
// target's rules match, the condition that failed), and with --apply, do it: an on-demand update is
// queued and runs at the daemon's next cycle with the guard and supervision applied
// (lib/views/provision.hpp, the console's Preview shares it).
#include "core/time.hpp"
#include "engine/connection_registry.hpp"
#include "engine/engine_config.hpp"
#include "h2rd/cli/commands.hpp"
#include "h2rd/cli/context.hpp"
#include "h2rd/cli/events_view.hpp"
#include "rules/short_path.hpp"
#include "views/provision.hpp"

#include <iostream>

namespace h2r::cli {
namespace {

void print_why(const nlohmann::json& why) {
  for (const auto& t : why) {
    const std::string connection = t["connection"].get<std::string>();
    if (!t["taken"].get<bool>()) {
      std::cout << "  [" << connection << "] not a target for this employee: " << t["why_not"].get<std::string>() << "\n";
      continue;
    }
    for (const auto& r : t["roles"]) {
      if (r["matched"].get<bool>()) std::cout << "  [" << connection << "] role " << r["role"].get<std::string>() << " matches\n";
      else std::cout << "  [" << connection << "] role " << r["role"].get<std::string>() << " does not: " << r["why_not"].get<std::string>() << "\n";
    }
    if (t["roles"].empty() || !t["roles"].back()["matched"].get<bool>())
      std::cout << "  [" << connection << "] no role matches: on_no_role applies\n";
  }
}

} // namespace

int cmd_provision(const std::string& config_path, const Words& words) {
  int code = k_exit_ok;
  auto args = parse_command("provision", words, code);
  if (!args) return code;
  if (args->positional.size() != 1 || args->positional[0].empty() || args->positional[0].size() > 256) {
    print_error("usage: h2rd provision EMPLOYEE_ID [--apply] [--json] (see `h2rd provision --help`)");
    return k_exit_usage;
  }
  const std::string employee_id = args->positional[0];
  auto engine = open_engine_context(config_path, code);
  if (!engine) return code;
  Store& store = *engine->ctx.store;
  const Rules& rules = *engine->rules;
  const SystemTime now = SystemClock::instance().now();
  auto preview = preview_provision(store, *engine->connections, rules, engine->ctx.config, employee_id, now);
  const long long now_ms = to_unix_ms(now);
  if (!preview) {
    print_error(preview.error().message);
    return k_exit_failed;
  }
  auto out = provision_json(*preview, rules.version(), now_ms);
  bool failed = false;
  for (const auto& p : preview->planned) failed = failed || p.failed;
  if (args->has("--apply")) {
    auto id = queue_provision(store, *preview, cli_actor(), now_ms);
    if (!id) {
      print_error("cannot queue the on-demand event: " + id.error().message);
      return k_exit_failed;
    }
    out["queued"] = {{"id", *id}, {"event_id", preview->event.event.event_id}};
  }
  if (args->has("--json")) {
    print_json(out);
    return failed ? k_exit_failed : k_exit_ok;
  }
  std::cout << "employee " << employee_id << (out["name"].get<std::string>().empty() ? "" : " (" + out["name"].get<std::string>() + ")")
            << ", HR status " << out["status"].get<std::string>() << ", rules " << rules.version() << "\n";
  std::cout << "why:\n";
  print_why(out["why"]);
  if (!out["open"].empty()) {
    std::cout << "first, " << out["open"].size() << " open event(s) of this employee, in the order the daemon runs them:\n";
    for (const auto& o : out["open"]) {
      std::cout << "  " << o["event_id"].get<std::string>() << " (" << o["type"].get<std::string>() << ", " << o["state"].get<std::string>() << ")\n";
      print_planned_calls(std::cout, o, "    ");
    }
  }
  std::cout << "now:\n";
  print_planned_calls(std::cout, out["plan"]);
  if (out.contains("queued"))
    std::cout << "queued as event " << out["queued"]["id"].dump() << " (" << out["queued"]["event_id"].get<std::string>()
              << "): the daemon runs it at its next cycle, with the guard and supervision applied\n";
  else
    std::cout << "nothing changed: `h2rd provision " << employee_id << " --apply` queues it\n";
  return failed ? k_exit_failed : k_exit_ok;
}

} // namespace h2r::cli

// h2rd plan --rules NEW.yaml: what a rules edit would change at Zoom, before it is made — per linked
// employee old → new, and totals. h2rd resync: queue those resyncs now (rules.on_change: manual).
// Both use diff_rules (lib/engine/resync.hpp), as the daemon does on a reload.
#include "core/clock.hpp"
#include "core/time.hpp"
#include "h2rd/cli/commands.hpp"
#include "h2rd/cli/context.hpp"
#include "engine/resync.hpp"
#include "zoom/scim_client.hpp"

#include <iostream>

namespace h2r::cli {
namespace {

// A SCIM path as the rules name it: the extension URNs shortened.
std::string short_path(const std::string& path) {
  for (const auto& [urn, name] : {std::pair{k_zoom_license_urn, "zoom.licenses."}, std::pair{k_zoom_user_urn, "zoom."},
                                  std::pair{k_scim_enterprise_urn, "enterprise."}}) {
    const std::string prefix = std::string(urn) + ".";
    if (path.rfind(prefix, 0) == 0) return name + path.substr(prefix.size());
  }
  return path;
}

void print_totals(const ResyncTotals& t) {
  std::cout << "totals: employees=" << t.employees << " role_moves=" << t.role_moves << " licenses_on=" << t.licenses_on
            << " licenses_off=" << t.licenses_off << " attributes=" << t.attributes << " deprovisions=" << t.deprovisions
            << " reactivations=" << t.reactivations << "\n";
}

void print_diff(const ResyncDiff& diff) {
  std::cout << "rules " << (diff.from_version.empty() ? "?" : diff.from_version) << " → " << diff.to_version << ": "
            << diff.totals.employees << " linked employee(s) would change at Zoom\n";
  for (const auto& item : diff.items) {
    for (const auto& c : item.changes) {
      std::cout << item.employee_id << " (" << c.connection << " " << c.user_name << "): " << c.action;
      if (c.role_before != c.role_after && c.action != "deprovision")
        std::cout << ", role " << (c.role_before.empty() ? "-" : c.role_before) << " → " << c.role_after;
      std::cout << "\n";
      for (const auto& ch : c.changes)
        std::cout << "  " << short_path(ch.path) << ": " << json_text(ch.before) << " → " << json_text(ch.after) << "\n";
    }
  }
  print_totals(diff.totals);
}

} // namespace

int cmd_plan_rules(const std::string& config_path, const Args& args) {
  if (!args.positional.empty()) {
    print_error("plan --rules takes no event files (see `h2rd plan --help`)");
    return k_exit_usage;
  }
  const std::string path = *args.value("--rules");
  int code = k_exit_ok;
  auto ctx = open_context_without_key(config_path, code);
  if (!ctx) return code;
  auto in_force = load_rules_or_report(*ctx, code);
  if (!in_force) return code;
  auto proposed = load_rules_file(path);
  if (!proposed) {
    for (const auto& d : proposed.error()) std::cerr << d.to_string() << "\n";
    return k_exit_config;
  }
  auto diff = diff_rules(*ctx->store, in_force.get(), **proposed);
  if (!diff) {
    print_error(diff.error().message);
    return k_exit_failed;
  }
  if (args.has("--json")) print_json(diff->to_json());
  else print_diff(*diff);
  return k_exit_ok;
}

int cmd_resync(const std::string& config_path, const Words& words) {
  int code = k_exit_ok;
  auto args = parse_command("resync", words, code);
  if (!args) return code;
  if (!args->positional.empty()) {
    print_error("usage: h2rd resync [--json] (see `h2rd resync --help`)");
    return k_exit_usage;
  }
  auto ctx = open_context_without_key(config_path, code);
  if (!ctx) return code;
  auto rules = load_rules_or_report(*ctx, code);
  if (!rules) return code;
  // The rules Zoom still reflects, kept by the daemon under rules.on_change: manual: the clearing base.
  const ResyncBase base = load_resync_base(*ctx->store);
  auto diff = diff_rules(*ctx->store, base.rules.get(), *rules);
  if (!diff) {
    print_error(diff.error().message);
    return k_exit_failed;
  }
  auto queued = queue_resyncs(*ctx->store, *diff, to_unix_ms(SystemClock::instance().now()));
  if (!queued) {
    print_error(queued.error().message);
    return k_exit_failed;
  }
  if (auto r = clear_resync_base(*ctx->store); !r) print_error(r.error().message);
  if (args->has("--json")) {
    nlohmann::json out = diff->to_json();
    out["queued"] = queued->queued;
    out["already_open"] = queued->already_open;
    print_json(out);
  } else {
    std::cout << "queued " << queued->queued << " resync event(s) for rules " << diff->to_version;
    if (queued->already_open) std::cout << " (" << queued->already_open << " employee(s) already had one open)";
    std::cout << "; see `h2rd events list --type resync`\n";
    print_totals(diff->totals);
  }
  return k_exit_ok;
}

} // namespace h2r::cli

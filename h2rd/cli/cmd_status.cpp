// h2rd status: queue by state, connections' health, rules in force, last cycle, and an ATTENTION
// block with everything that needs a person.
#include "h2rd/cli/commands.hpp"
#include "h2rd/cli/context.hpp"
#include "core/clock.hpp"
#include "views/views.hpp"

#include <fmt/format.h>

#include <iostream>

namespace h2r::cli {
namespace {

void print_config(const nlohmann::json& config) {
  if (config.is_null()) return;
  const auto& e = config["effective"];
  std::cout << "\nconfig: workers " << json_text(e.value("scheduler.workers", nlohmann::json())) << ", interval "
            << json_text(e.value("scheduler.interval", nlohmann::json())) << ", retry base "
            << json_text(e.value("retry.base", nlohmann::json())) << " (max "
            << json_text(e.value("retry.max", nlohmann::json())) << ", "
            << json_text(e.value("retry.max_attempts", nlohmann::json())) << " attempts), last reload "
            << json_text(config["reloaded"]);
  if (!config["reload_error"].is_null()) std::cout << " FAILED: " << json_text(config["reload_error"]);
  if (!config["restart_needed"].empty()) {
    std::cout << "\n  restart needed for:";
    for (const auto& c : config["restart_needed"]) std::cout << " " << c["key"].get<std::string>();
  }
}

// Every daemon row on the database, one line each: live, late, or gone with the claims it still holds.
void print_daemons(const nlohmann::json& daemons) {
  if (!daemons.is_array()) return;
  long long live = 0;
  for (const auto& d : daemons) live += d["state"] == "live" ? 1 : 0;
  std::cout << "\ndaemons (" << live << " live";
  if (daemons.size() > static_cast<std::size_t>(live)) std::cout << " of " << daemons.size();
  std::cout << "):";
  for (const auto& d : daemons) {
    const std::string state = d["state"].get<std::string>();
    std::cout << "\n  " << json_text(d["owner"]) << ": " << (state == "live" ? "live" : state == "late" ? "LATE" : "GONE")
              << ", host " << json_text(d["host"]) << ", pid " << json_text(d["pid"]) << ", version "
              << json_text(d["version"]) << ", heartbeat " << fmt::format("{:.0f}", d["heartbeat_age_s"].get<double>())
              << " s ago, claims " << json_text(d["claims"]);
    if (state != "live" && d["claims"].get<int>() > 0) std::cout << " (held until " << json_text(d["claims_until"]) << ")";
    if (d["leader"].get<bool>()) std::cout << ", LEADER";
  }
}

} // namespace

int cmd_status(const std::string& config_path, const Words& words) {
  int parse_code = k_exit_ok;
  auto args = parse_command("status", words, parse_code);
  if (!args) return parse_code;
  if (!args->positional.empty()) {
    print_error("usage: h2rd status (see `h2rd status --help`)");
    return k_exit_usage;
  }
  int code = k_exit_ok;
  auto ctx = open_status_context(config_path, code);
  if (!ctx) return code;
  auto status = status_json(*ctx->store, ctx->config, to_unix_ms(std::chrono::system_clock::now()));
  if (!status) {
    print_error(status.error().message);
    return k_exit_failed;
  }
  const nlohmann::json& out = *status;
  const nlohmann::json& daemon = out["daemon"];
  const nlohmann::json& queue = out["queue"];
  const nlohmann::json& conns = out["connections"];
  const std::string state = daemon["state"].get<std::string>();
  if (args->has("--json")) {
    print_json(out);
    return k_exit_ok;
  }
  std::cout << "daemon: ";
  if (state == "stopped")
    std::cout << "not running";
  else if (!daemon["here"].get<bool>())   // none recorded on this host: the store's heartbeats (several daemons)
    std::cout << (state == "running" ? "running" : "LATE (no recent heartbeat)") << ", "
              << json_text(daemon["live"]) << " live and " << json_text(daemon["late"])
              << " late on the database (daemons below)";
  else
    std::cout << (state == "running" ? "running" : "STUCK (heartbeat stale)") << ", pid " << json_text(daemon["pid"])
              << ", since " << json_text(daemon["started"]) << ", heartbeat "
              << json_text(daemon["heartbeat"]) << ", metrics " << json_text(daemon["metrics"]);
  std::cout << "\nqueue:";
  for (auto it = queue.begin(); it != queue.end(); ++it) std::cout << " " << it.key() << "=" << it->get<long long>();
  std::cout << "\nrules: version " << json_text(out["rules"]["version"]);
  if (!out["rules"]["error"].is_null())
    std::cout << " (the last reload FAILED: " << json_text(out["rules"]["error"]) << ")";
  std::cout << "\nlast cycle: " << json_text(out["last_cycle"]);
  print_config(out["config"]);
  print_daemons(out["daemons"]);
  std::cout << "\nconnections:\n";
  if (conns.empty()) std::cout << "  (none)\n";
  for (const auto& c : conns) {
    std::cout << "  " << c["name"].get<std::string>() << ": ";
    if (c["healthy"].is_null()) {
      std::cout << "not used yet\n";
      continue;
    }
    std::cout << (c["healthy"].get<bool>() ? "healthy" : "UNHEALTHY") << ", last success " << json_text(c["last_success"]);
    if (!c["last_error"].is_null()) std::cout << ", last error: " << json_text(c["last_error"]);
    if (!c["paused_until"].is_null()) std::cout << ", paused until " << json_text(c["paused_until"]);
    std::cout << "\n";
  }
  if (!out["attention"].empty()) {
    std::cout << "ATTENTION (" << out["attention"].size() << "):\n";
    for (const auto& item : out["attention"]) std::cout << "  - " << item["message"].get<std::string>() << "\n";
  }
  return k_exit_ok;
}

} // namespace h2r::cli

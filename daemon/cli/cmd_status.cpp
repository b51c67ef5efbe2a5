// h2rd status: queue by state, connections' health, rules in force, last cycle, and an ATTENTION
// block with everything that needs a person.
#include "daemon/cli/commands.hpp"
#include "daemon/cli/context.hpp"
#include "core/clock.hpp"
#include "daemon/cli/status_attention.hpp"
#include "service/config_state.hpp"
#include "service/liveness.hpp"

#include <iostream>

namespace h2r::cli {
namespace {

// What the running daemon runs with (meta `config.running`); null while no daemon runs.
nlohmann::json config_json(Store& store, const std::string& daemon_state) {
  auto running = daemon_state == "stopped" ? std::nullopt : load_running_config(store);
  if (!running) return nullptr;
  nlohmann::json restart = nlohmann::json::array();
  for (const auto& c : running->restart_needed) restart.push_back({{"key", c.key}, {"running", c.before}, {"file", c.after}});
  return {{"effective", running->effective},
          {"reloaded", time_json(running->reloaded_ms)},
          {"restart_needed", restart},
          {"reload_error", running->reload_error.empty() ? nlohmann::json() : nlohmann::json(running->reload_error)}};
}

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
  Store& store = *ctx->store;
  auto counts = store.count_events_by_state();
  auto connections = store.list_connections();
  if (!counts || !connections) {
    print_error(!counts ? counts.error().message : connections.error().message);
    return k_exit_failed;
  }
  auto meta = [&](const std::string& key) {
    auto v = store.get_meta(key);
    return v && *v ? **v : std::string();
  };
  auto meta_json = [&](const std::string& key) {   // absent or empty: null
    const std::string v = meta(key);
    return v.empty() ? nlohmann::json() : nlohmann::json(v);
  };
  nlohmann::json queue = nlohmann::json::object();
  for (auto s : {EventState::pending, EventState::waiting, EventState::held, EventState::done, EventState::skipped,
                 EventState::failed, EventState::rejected}) {
    auto it = counts->find(s);
    queue[std::string(to_string(s))] = it == counts->end() ? 0 : it->second;
  }
  nlohmann::json conns = nlohmann::json::array();
  for (const auto& c : *connections) {
    auto h = store.get_connection_health(c.name);
    nlohmann::json j = {{"name", c.name}, {"healthy", nullptr}};
    if (h && *h) {
      j["healthy"] = (*h)->healthy;
      j["last_success"] = time_json((*h)->last_success_at_ms);
      j["last_error"] = (*h)->last_error.empty() ? nlohmann::json() : nlohmann::json((*h)->last_error);
      j["paused_until"] = time_json((*h)->paused_until_ms);
      j["pause_reason"] = (*h)->pause_reason.empty() ? nlohmann::json() : nlohmann::json((*h)->pause_reason);
    }
    conns.push_back(j);
  }
  std::string last_cycle = meta("cycle.last");
  DaemonLiveness live = daemon_liveness(store, std::chrono::system_clock::now());
  nlohmann::json daemon = {{"state", live.state},
                           {"up", live.state != "stopped"},
                           {"pid", live.pid == 0 ? nlohmann::json() : nlohmann::json(live.pid)},
                           {"heartbeat", time_json(live.heartbeat_ms)},
                           {"started", time_json(live.started_ms)},
                           {"metrics", live.state == "stopped" || live.metrics_listen.empty() ? nlohmann::json()
                                                                                              : nlohmann::json(live.metrics_listen)}};
  nlohmann::json out = {{"daemon", daemon},
                        {"queue", queue},
                        {"connections", conns},
                        {"rules", {{"version", meta_json("rules.version")}, {"error", meta_json("rules.error")}}},
                        {"last_cycle", last_cycle.empty() ? nlohmann::json() : time_json(std::stoll(last_cycle))}};
  out["config"] = config_json(store, live.state);
  out["attention"] = attention_items(store, ctx->config, queue, meta("rules.error"), live.state,
                                     to_unix_ms(std::chrono::system_clock::now()));
  if (args->has("--json")) {
    print_json(out);
    return k_exit_ok;
  }
  std::cout << "daemon: ";
  if (live.state == "stopped")
    std::cout << "not running";
  else
    std::cout << (live.state == "running" ? "running" : "STUCK (heartbeat stale)") << ", pid " << live.pid
              << ", since " << json_text(daemon["started"]) << ", heartbeat "
              << json_text(daemon["heartbeat"]) << ", metrics " << json_text(daemon["metrics"]);
  std::cout << "\nqueue:";
  for (auto it = queue.begin(); it != queue.end(); ++it) std::cout << " " << it.key() << "=" << it->get<long long>();
  std::cout << "\nrules: version " << json_text(out["rules"]["version"]);
  if (!out["rules"]["error"].is_null())
    std::cout << " (the last reload FAILED: " << json_text(out["rules"]["error"]) << ")";
  std::cout << "\nlast cycle: " << json_text(out["last_cycle"]);
  print_config(out["config"]);
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

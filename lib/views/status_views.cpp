#include "views/views.hpp"

#include "hr/rejected_files.hpp"
#include "ops/config_state.hpp"
#include "ops/liveness.hpp"
#include "store/gone_daemons.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

namespace h2r {
namespace {

std::string count_of(long long n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

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

// Every daemon row on this database (lib/ops/liveness.hpp daemon_row_state: live, late, gone), by
// owner; null when the store cannot list them. Rows of daemons that stopped cleanly are gone from the
// store; a gone one stays listed until its row is removed (k_gone_daemon_kept_ms). `attention` gets one
// item per gone daemon that still holds claims: they wait for their lease, then the next daemon's claim
// takes them over.
nlohmann::json daemons_json(Store& store, const Config& config, long long now_ms, nlohmann::json& attention) {
  auto rows = store.list_daemons(now_ms, k_gone_daemon_kept_ms);
  if (!rows) return nullptr;
  const std::string here = this_host_name();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : *rows) {
    const std::string state = daemon_row_state(d, now_ms, config.claim_lease.count(), here);
    out.push_back({{"owner", d.owner},
                   {"host", d.host},
                   {"pid", d.pid},
                   {"version", d.version},
                   {"state", state},
                   {"started", time_json(d.started_at_ms)},
                   {"heartbeat", time_json(d.heartbeat_at_ms)},
                   {"heartbeat_age_s", static_cast<double>(std::max(0LL, now_ms - d.heartbeat_at_ms)) / 1000.0},
                   {"claims", d.claims},
                   {"claims_until", time_json(d.claims == 0 ? 0 : d.claims_until_ms)},
                   {"leader", d.leader}});
    if (state != "gone" || d.claims == 0) continue;
    attention.push_back(
        {{"kind", "daemon_gone"}, {"owner", d.owner}, {"count", d.claims}, {"until", time_json(d.claims_until_ms)},
         {"message", "daemon " + d.owner + " is gone (last heartbeat " + time_text(d.heartbeat_at_ms) +
                         ") and still holds " + count_of(d.claims, "claimed event") +
                         (d.claims_until_ms <= now_ms ? ", whose lease ran out at " : " until ") +
                         time_text(d.claims_until_ms) + "; the next daemon that claims takes them over"}});
  }
  return out;
}

long long count_state(const nlohmann::json& daemons, const char* state) {
  if (!daemons.is_array()) return 0;
  return std::count_if(daemons.begin(), daemons.end(), [&](const nlohmann::json& d) { return d["state"] == state; });
}

} // namespace

nlohmann::json attention_items(Store& store, const Config& config, const nlohmann::json& queue,
                               const std::string& rules_error, const std::string& daemon_state, long long now_ms) {
  nlohmann::json out = nlohmann::json::array();
  if (daemon_state == "stuck")
    out.push_back({{"kind", "daemon_stuck"},
                   {"message", "the daemon's heartbeat is stale: it is running but not making progress "
                               "(its log says why; `systemctl restart h2rd`)"}});
  if (daemon_state == "late")
    out.push_back({{"kind", "daemon_late"},
                   {"message", "no daemon's heartbeat is recent (over half of scheduler.claim_lease): they start "
                               "no Zoom call until one succeeds (daemon.heartbeat_failed in their log says why)"}});
  if (!rules_error.empty())
    out.push_back({{"kind", "rules_reload_failed"},
                   {"message", "the last rules reload FAILED, the previous rules stay in force: " + rules_error +
                                   " (fix " + config.rules + "; `h2rd check` shows every problem)"}});
  if (auto running = daemon_state == "stopped" ? std::nullopt : load_running_config(store)) {
    if (!running->reload_error.empty())
      out.push_back({{"kind", "config_reload_failed"},
                     {"message", "the last reload of " + config.path + " FAILED, nothing changed and the running "
                                 "settings stay: " + running->reload_error +
                                 " (fix the file, `h2rd check` shows every problem, then `systemctl reload h2rd`)"}});
    if (!running->restart_needed.empty()) {
      std::string keys;
      nlohmann::json names = nlohmann::json::array();
      for (const auto& c : running->restart_needed) {
        keys += (keys.empty() ? "" : ", ") + c.key;
        names.push_back(c.key);
      }
      out.push_back({{"kind", "config_restart_needed"}, {"keys", names},
                     {"message", "h2rd.yaml changes " + keys + ", which only a restart applies; the daemon runs "
                                 "with the old values until then (`systemctl restart h2rd`)"}});
    }
  }
  const long long failed = queue.value("failed", 0LL);
  if (failed > 0)
    out.push_back({{"kind", "failed_events"}, {"count", failed},
                   {"message", count_of(failed, "event") + " failed: `h2rd events list --state failed` shows "
                               "why; after fixing the cause, `h2rd events retry --failed` queues them again"}});
  const long long held = queue.value("held", 0LL);
  if (held > 0)
    out.push_back({{"kind", "held_events"}, {"count", held},
                   {"message", count_of(held, "event") + " held for approval (`h2rd events list --state "
                               "held`; `h2rd events approve ID|--all` or `h2rd events reject ID`)"}});
  if (held > 0) {
    // Conflicts (h2r-events(5), Conflicts) each name the two employees and the Zoom user: shown one by one.
    // The guard's holds (h2r-rules(5), lifecycle.guard): one line a file, with its first reason.
    constexpr std::size_t k_conflicts_shown = 5;
    EventFilter filter;
    filter.state = EventState::held;
    filter.limit = 10'000;
    std::vector<EventRow> conflicts;
    std::map<std::string, std::pair<long long, std::string>> guarded;   // file → count, reason
    bool all_read = true;   // more held events than one read takes: the counts below are lower bounds
    if (auto rows = store.list_events(filter)) {
      all_read = rows->size() < static_cast<std::size_t>(filter.limit);
      for (auto& e : *rows) {
        if (e.reason.rfind(k_conflict_prefix, 0) == 0) conflicts.push_back(std::move(e));
        else if (e.reason.rfind(k_guard_prefix, 0) == 0) {
          auto& [count, reason] = guarded[e.source_file];
          if (count++ == 0) reason = e.reason;
        }
      }
    }
    for (const auto& [file, held_file] : guarded)
      out.push_back({{"kind", "guard_held"}, {"file", file}, {"count", held_file.first}, {"count_complete", all_read},
                     {"message", std::string(all_read ? "" : "at least ") + count_of(held_file.first, "change") +
                                     " of " + file + " held by the guard: " +
                                     held_file.second.substr(k_guard_prefix.size()) + " (`h2rd events list --state held --file " +
                                     file + "`)"}});
    for (std::size_t i = 0; i < conflicts.size() && i < k_conflicts_shown; ++i)
      out.push_back({{"kind", "conflict"}, {"event", conflicts[i].id}, {"event_id", conflicts[i].event_id},
                     {"employee_id", conflicts[i].employee_id},
                     {"message", "event " + std::to_string(conflicts[i].id) + " (" + conflicts[i].event_id +
                                     ", employee " + conflicts[i].employee_id + ") is held as a " + conflicts[i].reason}});
    if (conflicts.size() > k_conflicts_shown)
      out.push_back({{"kind", "conflict"}, {"count", conflicts.size() - k_conflicts_shown},
                     {"message", std::to_string(conflicts.size() - k_conflicts_shown) +
                                     " more conflicts (`h2rd events list --state held`)"}});
  }
  auto rejected = rejected_files(config.inbox);
  if (!rejected) {
    out.push_back({{"kind", "rejected_files"}, {"count", nullptr}, {"message", rejected.error().message}});
  } else if (rejected->count > 0) {
    const std::string report = config.inbox + "/rejected/" + rejected->newest + ".error.txt";
    out.push_back({{"kind", "rejected_files"}, {"count", rejected->count}, {"newest", rejected->newest},
                   {"report", report},
                   {"message", count_of(rejected->count, "event file") + " rejected in " + config.inbox +
                                   "/rejected/, newest " + rejected->newest + ": `cat " + report +
                                   "` lists its problems; fix the file and drop it into the inbox again, then "
                                   "delete it from rejected/"}});
  }
  if (auto connections = store.list_connections()) {
    for (const auto& c : *connections) {
      auto h = store.get_connection_health(c.name);
      if (!h || !*h) continue;
      const ConnectionHealth& health = **h;
      if (!health.healthy)
        out.push_back({{"kind", "connection_unhealthy"}, {"connection", c.name},
                       {"message", "connection " + c.name + " is UNHEALTHY: " +
                                       (health.last_error.empty() ? std::string("no error recorded") : health.last_error) +
                                       " (`h2rd connection test " + c.name + "`; new credentials: `h2rd connection "
                                       "update " + c.name + "`)"}});
      if (health.paused_until_ms > now_ms)
        out.push_back({{"kind", "connection_paused"}, {"connection", c.name},
                       {"message", "connection " + c.name + " is paused until " + time_text(health.paused_until_ms) +
                                       (health.pause_reason.empty() ? std::string() : ": " + health.pause_reason) +
                                       " (calls resume by themselves then)"}});
    }
  }
  return out;
}

Result<nlohmann::json> status_json(Store& store, const Config& config, long long now_ms) {
  auto counts = store.count_events_by_state();
  if (!counts) return unexpected(std::move(counts).error());
  auto connections = store.list_connections();
  if (!connections) return unexpected(std::move(connections).error());
  auto meta = [&](const std::string& key) {
    auto v = store.get_meta(key);
    return v && *v ? **v : std::string();
  };
  auto meta_json = [&](const std::string& key) {   // absent or empty: null
    const std::string v = meta(key);
    return v.empty() ? nlohmann::json() : nlohmann::json(v);
  };
  nlohmann::json queue = nlohmann::json::object();
  for (auto s : k_event_states) {
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
      j["last_error_at"] = time_json((*h)->last_error_at_ms);
      j["paused_until"] = time_json((*h)->paused_until_ms);
      j["pause_reason"] = (*h)->pause_reason.empty() ? nlohmann::json() : nlohmann::json((*h)->pause_reason);
    }
    conns.push_back(j);
  }
  const std::string last_cycle = meta(k_meta_cycle_last);
  long long last_cycle_ms = 0;
  if (!last_cycle.empty()) {
    char* end = nullptr;
    last_cycle_ms = std::strtoll(last_cycle.c_str(), &end, 10);
    if (*end != '\0') last_cycle_ms = 0;
  }
  // The daemon pid recorded here (a daemon on this host), else what the store's heartbeats say: on
  // PostgreSQL the daemons may run on other hosts.
  nlohmann::json gone_items = nlohmann::json::array();
  nlohmann::json daemons = daemons_json(store, config, now_ms, gone_items);
  const long long n_live = count_state(daemons, "live"), n_late = count_state(daemons, "late");
  DaemonLiveness live = daemon_liveness(store, from_unix_ms(now_ms));
  const bool local = live.state != "stopped";
  const std::string state = local ? live.state : n_live > 0 ? "running" : n_late > 0 ? "late" : "stopped";
  nlohmann::json daemon = {{"state", state},
                           {"up", state != "stopped"},
                           {"here", local},
                           {"live", n_live},
                           {"late", n_late},
                           {"gone", count_state(daemons, "gone")},
                           {"pid", live.pid == 0 ? nlohmann::json() : nlohmann::json(live.pid)},
                           {"heartbeat", time_json(live.heartbeat_ms)},
                           {"started", time_json(live.started_ms)},
                           {"metrics", !local || live.metrics_listen.empty() ? nlohmann::json()
                                                                           : nlohmann::json(live.metrics_listen)}};
  nlohmann::json out = {{"daemon", daemon},
                        {"queue", queue},
                        {"connections", conns},
                        {"rules", {{"version", meta_json(k_meta_rules_version)}, {"error", meta_json(k_meta_rules_error)}}},
                        {"last_cycle", time_json(last_cycle_ms)}};
  out["daemons"] = daemons;
  out["config"] = config_json(store, state);
  out["attention"] = attention_items(store, config, queue, meta(k_meta_rules_error), state, now_ms);
  out["attention"].insert(out["attention"].begin(), gone_items.begin(), gone_items.end());
  return out;
}

} // namespace h2r

// Daemon: wires the inbox, the rules, the engine and the scheduler loop together for `h2rd run`, with
// what operating it needs: systemd notifications and watchdog, GET /metrics and /healthz, webhook
// alerts, and a pid/heartbeat in the store for `h2rd status`.
// Signals arrive as commands (request_reload, request_shutdown) from a dedicated thread; the loop acts
// on them between cycles, never inside a signal handler.
#pragma once

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "engine/membership.hpp"
#include "hr/inbox.hpp"
#include "secrets/secret_box.hpp"
#include "ops/alerts.hpp"
#include "console/console_open.hpp"
#include "ops/config_state.hpp"
#include "ops/health.hpp"
#include "ops/metrics.hpp"
#include "ops/observed_transport.hpp"
#include "daemon/rules_holder.hpp"
#include "ops/sd_notify.hpp"
#include "ops/status_server.hpp"

#include <atomic>
#include <map>

namespace h2r {

// After SIGTERM/SIGINT, `h2rd run` gives the loop this long to finish the event in hand and stop;
// then it exits anyway (the unfinished events stay due and run again on the next start).
inline constexpr std::chrono::seconds k_shutdown_deadline{40};
// `run --once` waits for retries and circuit cool-downs this long in all (`--max-wait`), then leaves
// what is still waiting `pending` with its next attempt time.
inline constexpr std::chrono::minutes k_default_max_wait{5};
inline constexpr std::chrono::hours k_max_max_wait{24};

// The daemon's bookkeeping writes (meta keys: pid, heartbeat, last cycle, resync base) never stop it, but
// a failure is logged, never dropped: `store.meta_write_failed what=... error=...`.
void log_write_failure(const Result<void>& written, std::string_view what);

// At a daemon's start: on a store only one daemon uses (SQLite, under the single-instance lock) every
// claim was left by a process that is gone, so all are given back (due now, not when their lease
// ends); on a shared() store other daemons' claims are live and none is touched (a dead daemon's
// expire). Returns how many were given back.
Result<int> release_claims_at_start(Store& store);

class Daemon {
public:
  Daemon(const Config& config, Store& store, const SecretBox& box, HttpTransport& transport, const Clock& clock,
         bool once, SdNotifier notifier = SdNotifier::from_environment());
  ~Daemon();

  // Loads the rules, prepares the inbox, and for `run` binds the `listen` endpoint. Errors: kind
  // invalid when the rules or the inbox are unusable (problems logged), permanent when the endpoint
  // cannot be bound.
  Result<void> start();
  // `run --once`: ingest the inbox, run every due event, waiting out retries and cool-downs (not future
  // dates) for at most `max_wait` in all. Prints a summary line on stdout. Exit code: 1 when an event
  // ended `failed`, else 0 (events still pending after max_wait are counted in the summary, not failed).
  int run_once(std::chrono::milliseconds max_wait = k_default_max_wait);
  // `run`: until request_shutdown(). Exit code.
  int run();

  // Thread-safe; called from the signal thread.
  void request_shutdown();
  void request_reload();

  Engine& engine() { return m_engine; }
  RulesHolder& rules() { return m_rules; }
  Metrics& metrics() { return m_metrics; }
  Membership& membership() { return m_membership; }
  // The verdict /healthz serves: scheduler heartbeat fresh, the database answering, its file still the
  // one on disk and writable, and every added check passing.
  HealthReport health();
  // Adds a check to health() (e.g. "store writes failing"). Call before start(); the check runs on the
  // status server's threads.
  void add_health_check(HealthCheck check) { m_health_checks.push_back(std::move(check)); }
  // The /metrics exposition.
  std::string metrics_text();

private:
  void reload_now();
  // SIGHUP's part for h2rd.yaml (daemon_reload.cpp): validates the file; when good, applies every live
  // key (apply_live_config) and logs `config.restart_needed key=…` for each other changed key; when
  // not, changes nothing and logs `config.reload_failed`. Records the outcome for `h2rd status`.
  void reload_config();
  // Hands the live keys of m_config to their owners: logger, engine, breakers, inbox, alerts (the
  // scheduler interval is read by run() itself).
  void apply_live_config();
  // Re-reads the console's token file (SIGHUP): added tokens work, removed ones end their sessions.
  // A file that cannot be read changes nothing (logged).
  void reload_console_tokens();
  // When timezone or lifecycle.hire.lead_days differ from those the store's waiting events were timed
  // with (meta schedule.settings), gives each waiting event the due time they make now
  // (reschedule_waiting, lib/engine/reschedule.hpp) and logs `reload.rescheduled` with the counts.
  // Called at start (`run` and `run --once`), after SIGHUP and after a rules change; a no-op when the
  // settings are those stored, so several daemons on one database reschedule once.
  void reschedule_if_settings_changed(const std::string& trigger);
  // Writes m_running_config to the store (meta `config.running`).
  void record_running_config();
  // New rules in force (reload, or a start under other rules than the last run): queue a resync for
  // each linked employee they change, or (rules.on_change: manual) log how many (daemon_resync.cpp).
  void on_rules_changed(const RulesChange& change);
  void note_cycle(const CycleReport& report, std::chrono::steady_clock::duration took);
  void check_connections();
  // Several daemons (daemon_cluster.cpp): this daemon's row, and the heartbeat thread's loop — a beat
  // every 5 s, or claim_lease/4 when shorter (claims extended, leader lease renewed, pacing re-shared) until shutdown.
  MembershipOptions membership_options() const;
  void heartbeat_loop();
  // The first beat, at start: an error when the store refuses it.
  Result<void> join_cluster();
  void beat_once();
  void persist_heartbeat(bool force);
  void watchdog_loop();
  std::map<std::string, long long> queue_counts();
  ScimClientOptions client_options(bool once);
  // engine_options(m_config) (engine/engine_config.hpp) with `once` and the daemon's hooks.
  EngineOptions hooked_engine_options(bool once);

  Config m_config;   // restart-only keys never change after construction; live keys change in reload_config()
  Store& m_store;
  const Clock& m_clock;
  SdNotifier m_notifier;
  Metrics m_metrics;
  Heartbeat m_heartbeat;
  ObservedTransport m_transport;
  AlertSender m_alerts;
  RulesHolder m_rules;
  Shutdown m_shutdown;       // stops everything
  Shutdown m_wake;           // wakes the scheduler early (new file, reload, shutdown)
  ConnectionRegistry m_connections;
  Engine m_engine;
  Membership m_membership;   // this daemon among those sharing the database (after m_engine: its owner)
  Inbox m_inbox;
  StatusServer m_status;
  ConsoleHandle m_console;   // the admin console on `listen` (console.enabled)
  bool m_once;
  std::atomic<bool> m_reload_requested{false};
  std::vector<HealthCheck> m_health_checks;   // set before start(), read-only after
  std::map<std::string, bool> m_connection_healthy;   // last seen, for connection.unhealthy alerts
  std::chrono::steady_clock::time_point m_heartbeat_persisted{};
  std::string m_last_cycle_text = "none yet";
  RunningConfig m_running_config;   // what `h2rd status` is told about the config in force
};

} // namespace h2r

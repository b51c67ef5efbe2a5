#include "daemon/daemon.hpp"

#include "core/fiber.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "engine/engine_config.hpp"
#include "engine/provisioner.hpp"
#include "hr/rejected_files.hpp"
#include "ops/liveness.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <thread>
#include <unistd.h>

namespace h2r {
namespace {

constexpr std::chrono::milliseconds k_rules_poll{1000};   // how often the rules file is checked for edits
constexpr std::chrono::milliseconds k_shared_poll{1000};   // how often a daemon on a shared database looks for due events
// A worker fiber's pacing wait looks at the shutdown flag this often (a thread's wakes on it at once).
constexpr std::chrono::milliseconds k_fiber_wait_slice{200};

std::string outcome_state_name(EventState state) {
  return state == EventState::pending ? "retrying" : std::string(to_string(state));
}

} // namespace

ScimClientOptions Daemon::client_options(bool once) {
  ScimClientOptions options = scim_client_options(m_config);
  // `run --once` waits for a 429's pause between cycles, where it counts against --max-wait: a call
  // never sleeps through a Retry-After (whatever it says) and the run ends within its bound.
  if (once) options.max_inline_pause = std::chrono::milliseconds(0);
  options.observer = [this](const ScimCallRecord& call) {
    m_metrics.observe_scim(call);
    m_heartbeat.beat();   // an answered (or timed-out) call is progress
  };
  // Rate-limit waits wake on shutdown. A worker fiber gives its thread back while it waits, looking
  // at the shutdown flag every k_fiber_wait_slice (core/fiber.hpp); a thread waits on the flag itself.
  options.sleep_until = [this](SystemTime t) {
    for (;;) {
      const auto left = t - m_clock.now();
      if (left <= SystemTime::duration(0)) return true;
      if (m_shutdown.requested()) return false;
      if (!fiber::sleep_for(std::min<SystemTime::duration>(left, k_fiber_wait_slice))) return !m_shutdown.wait_for(left);
    }
  };
  return options;
}

EngineOptions Daemon::hooked_engine_options(bool once) {
  EngineOptions options = engine_options(m_config);
  options.once = once;
  options.on_outcome = [this](const EventRow& event, const EventOutcome& outcome) {
    m_heartbeat.beat();
    m_metrics.count_event(to_string(event.type), outcome_state_name(outcome.state));
    if (outcome.state == EventState::failed)
      m_alerts.post("event.failed", {{"id", event.id}, {"event_id", event.event_id}, {"type", to_string(event.type)},
                                     {"employee_id", event.employee_id}, {"reason", outcome.reason}});
  };
  options.on_applied = [this](const ActionReport& report) { m_metrics.count_applied(report); };
  options.on_guard_held = [this](const EventRow& member, int held, const std::string& reason) {
    m_alerts.post("guard.held", {{"file", member.source_file}, {"count", held}, {"reason", reason},
                                 {"action", "held for approval: h2rd events list --state held --file " +
                                                member.source_file + ", then approve or reject"}});
  };
  options.on_conflict = [this](const EventRow& event, const std::string& reason) {
    m_alerts.post("event.conflict", {{"id", event.id}, {"event_id", event.event_id}, {"type", to_string(event.type)},
                                     {"employee_id", event.employee_id}, {"reason", reason},
                                     {"action", "held until an operator decides: h2rd events show " +
                                                    std::to_string(event.id) + ", then approve or reject"}});
  };
  options.stop_requested = [this] { return m_shutdown.requested(); };
  options.on_store_write_failed = [this](std::string_view what) { m_metrics.count_store_write_failure(what); };
  options.may_start_calls = [this] { return m_membership.may_start_calls(); };
  options.on_claims = [this](int claimed, int rescued) { m_metrics.count_claims(claimed, rescued); };
  options.on_lost_claim = [this] { m_metrics.count_lease_loss(); };
  return options;
}

Daemon::Daemon(const Config& config, Store& store, const SecretBox& box, HttpTransport& transport, const Clock& clock,
               bool once, SdNotifier notifier)
    : m_config(config), m_store(store), m_clock(clock), m_notifier(std::move(notifier)),
      m_transport(transport, m_metrics), m_alerts(config.notify_webhook, transport), m_rules(config.rules, &store),
      m_connections(store, box, m_transport, clock, client_options(once), config.breaker),
      m_engine(store, m_connections, [this] { return m_rules.current(); }, hooked_engine_options(once), clock),
      m_membership(store, clock, membership_options()),
      m_inbox(InboxOptions{.dir = config.inbox, .max_file_bytes = config.max_file_bytes,
                           .retention_days = config.retention_days, .dates = config.inbox_dates},
              [this](const std::string& file) { return m_engine.begin_ingest(file, [this] { m_wake.poke(); }); },
              clock),
      m_status(StatusHandlers{[this] { return metrics_text(); }, [this] { return health(); }}), m_once(once) {
  m_rules.on_change([this](const RulesChange& change) { on_rules_changed(change); });
  m_health_checks.push_back(DatabaseFileCheck(config.database));
  // Outcome and hold writes the database refused: /healthz is 503 until one succeeds again.
  m_health_checks.push_back(StoreWritesCheck([this] { return m_engine.store_writes_failing_since_ms(); }));
  // Several daemons: one whose heartbeat the database has not recorded lately starts no Zoom call.
  m_health_checks.push_back([this] { return m_membership.stale_reason(); });
}

Daemon::~Daemon() {
  m_status.stop();
  m_alerts.stop();
}

Result<void> Daemon::start() {
  // SQLite: the caller (`h2rd run`) holds the database's single-instance lock, so every claim in the
  // store was left by a process that is gone, and its events are due again now rather than when the
  // lease ends. A shared store (PostgreSQL): other daemons' claims are live; a dead one's expire.
  H2R_TRY(release_claims_at_start(m_store));
  H2R_TRY(reserve_linked_logins(m_store, to_unix_ms(m_clock.now())));
  H2R_TRY(join_cluster());
  if (!m_rules.reload("start"))
    return fail(ErrorKind::invalid, "the rules file " + m_config.rules + " is not valid (see the log; `h2rd check` lists every problem)");
  reschedule_if_settings_changed("start");   // timezone or lead days edited since the last run
  if (auto r = m_inbox.prepare(); !r) {
    spdlog::error("inbox.unusable dir=\"{}\" error=\"{}\"", escape_for_log(m_config.inbox), escape_for_log(r.error().message));
    return fail(ErrorKind::invalid, "the inbox " + m_config.inbox + " is not usable: " + r.error().message);
  }
  if (!m_once && !m_config.listen.empty()) {
    if (m_config.console.enabled) {
      auto console = open_console(m_config, m_clock);
      if (!console) {
        spdlog::error("console.unusable tokens=\"{}\" error=\"{}\"", escape_for_log(m_config.console.tokens),
                      escape_for_log(console.error().message));
        return unexpected(std::move(console).error());
      }
      m_console = std::move(*console);
      m_console.console->set_engine(
          ConsoleEngine{&m_connections, &m_transport, [this] { return m_rules.current(); }, &m_metrics});
      m_status.set_install([this](httplib::Server& server) { m_console.console->install(server); });
    }
    auto port = m_status.start(m_config.listen);
    if (!port) {
      spdlog::error("metrics.bind_failed listen=\"{}\" error=\"{}\"", escape_for_log(m_config.listen), escape_for_log(port.error().message));
      return unexpected(std::move(port).error());
    }
    auto address = parse_listen(m_config.listen);
    const std::string host = address->host.find(':') != std::string::npos ? "[" + address->host + "]" : address->host;
    log_write_failure(m_store.set_meta(k_meta_metrics_listen, host + ":" + std::to_string(*port)), k_meta_metrics_listen);
  } else if (!m_once) {
    log_write_failure(m_store.set_meta(k_meta_metrics_listen, ""), k_meta_metrics_listen);
  }
  return {};
}

std::map<std::string, long long> Daemon::queue_counts() {
  std::map<std::string, long long> out;
  for (auto s : k_event_states)
    out[std::string(to_string(s))] = 0;
  if (auto counts = m_store.count_events_by_state())
    for (const auto& [state, n] : *counts) out[std::string(to_string(state))] = n;
  return out;
}

HealthReport Daemon::health() {
  auto probe = m_store.get_meta(k_meta_daemon_pid);
  Result<void> database = probe ? Result<void>{} : Result<void>(unexpected(probe.error()));
  HealthReport report = evaluate_health(m_heartbeat.age(), k_heartbeat_max_age, database);
  for (const auto& check : m_health_checks) {
    auto problem = check();
    if (!problem) continue;
    report.reason = report.ok ? *problem : report.reason + "; " + *problem;
    report.ok = false;
  }
  return report;
}

std::string Daemon::metrics_text() {
  LiveGauges live;
  live.queue = queue_counts();
  if (auto rejected = rejected_files(m_config.inbox)) live.rejected_files = rejected->count;
  auto rules = m_rules.current();
  live.rules_version = rules ? rules->version() : "";
  live.heartbeat_age_seconds = std::chrono::duration<double>(m_heartbeat.age()).count();
  live.healthy = health().ok;
  live.daemons = m_membership.daemons();
  live.leader = m_membership.leader();
  live.pace = m_connections.pace_counters();
  return m_metrics.render(live);
}

void log_write_failure(const Result<void>& written, std::string_view what) {
  if (!written)
    spdlog::warn("store.meta_write_failed what={} error=\"{}\"", what, escape_for_log(written.error().message));
}

void Daemon::persist_heartbeat(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - m_heartbeat_persisted < k_heartbeat_persist_every) return;
  m_heartbeat_persisted = now;
  log_write_failure(m_store.set_meta(k_meta_daemon_heartbeat, std::to_string(to_unix_ms(m_clock.now()))),
                    k_meta_daemon_heartbeat);
}

void Daemon::check_connections() {
  if (!m_membership.leader()) return;   // one daemon alerts for all
  auto connections = m_store.list_connections();
  if (!connections) return;
  for (const auto& c : *connections) {
    auto h = m_store.get_connection_health(c.name);
    if (!h || !*h) continue;
    auto [it, inserted] = m_connection_healthy.try_emplace(c.name, true);
    const bool healthy = (*h)->healthy;
    if (it->second && !healthy) {
      const std::string reason = !(*h)->pause_reason.empty() ? (*h)->pause_reason : (*h)->last_error;
      m_alerts.post("connection.unhealthy", {{"connection", c.name}, {"reason", reason},
                                             {"last_error", (*h)->last_error}});
    }
    it->second = healthy;
  }
}

void Daemon::note_cycle(const CycleReport& report, std::chrono::steady_clock::duration took) {
  const long long now_ms = to_unix_ms(m_clock.now());
  log_write_failure(m_store.set_meta(k_meta_cycle_last, std::to_string(now_ms)), k_meta_cycle_last);
  m_metrics.count_cycle(std::chrono::duration<double>(took).count(), now_ms);
  if (report.processed || report.held)
    spdlog::info("cycle.done processed={} done={} skipped={} superseded={} failed={} held={} retrying={}",
                 report.processed, report.done, report.skipped, report.superseded, report.failed, report.held,
                 report.retrying);
  check_connections();
  if (m_notifier.enabled()) {
    auto q = queue_counts();
    m_last_cycle_text = fmt::format("{} (processed {}, failed {})", format_utc(m_clock.now()), report.processed,
                                    report.failed);
    m_notifier.send(fmt::format("STATUS=queue pending={} waiting={} held={} failed={}; last cycle {}", q["pending"],
                                q["waiting"], q["held"], q["failed"], m_last_cycle_text));
  }
}

int Daemon::run_once(std::chrono::milliseconds max_wait) {
  std::thread heartbeat_thread([this] { heartbeat_loop(); });
  auto scan = m_inbox.scan();
  spdlog::info("inbox.scanned accepted={} rejected={} deferred={}", scan.accepted, scan.rejected, scan.deferred);
  CycleReport total;
  std::optional<SystemTime> next_retry;
  auto waited = SystemTime::duration(0);
  for (;;) {
    auto started = std::chrono::steady_clock::now();
    CycleReport report = m_engine.run_cycle();
    note_cycle(report, std::chrono::steady_clock::now() - started);
    total.done += report.done;
    total.skipped += report.skipped;
    total.superseded += report.superseded;
    total.failed += report.failed;
    total.held += report.held;
    total.store_failed = total.store_failed || report.store_failed;
    next_retry = report.next_retry;
    // A store failure ends the run: its events stay due for the next run, and the exit code says so.
    if (!next_retry || report.store_failed || m_shutdown.requested()) break;
    // Wait for the retries and cool-downs — no longer than needed, and no more than max_wait in all.
    auto wait = std::max(*next_retry - m_clock.now(), SystemTime::duration(0));
    if (waited + wait > max_wait) {
      spdlog::info("cycle.wait_budget_spent waited_s={:.1f} max_wait_s={:.1f} next_retry={}",
                   std::chrono::duration<double>(waited).count(), std::chrono::duration<double>(max_wait).count(),
                   format_utc(*next_retry));
      break;
    }
    if (wait > SystemTime::duration(0)) {
      spdlog::info("cycle.waiting_for_retry seconds={:.1f}", std::chrono::duration<double>(wait).count());
      waited += wait;
      if (m_shutdown.wait_for(wait)) break;
    }
  }
  // Events still waiting (a retry, a cool-down, or behind a held event): pending, not failed.
  const long long pending = queue_counts()["pending"];
  // superseded (late events that changed nothing, h2r-events(5)) only when there were some.
  const std::string superseded = total.superseded ? fmt::format(" superseded={}", total.superseded) : "";
  std::string summary = fmt::format("run --once: done={} skipped={}{} failed={} held={} pending={}", total.done,
                                    total.skipped, superseded, total.failed, total.held, pending);
  if (pending > 0 && next_retry)
    summary += " (next attempt " + format_utc(*next_retry) + "; run again then, or see `h2rd events list --state pending`)";
  spdlog::info("run.once_done done={} skipped={} superseded={} failed={} held={} pending={}", total.done, total.skipped,
               total.superseded, total.failed, total.held, pending);
  std::fprintf(stdout, "%s\n", summary.c_str());
  std::fflush(stdout);
  m_shutdown.request();   // ends the heartbeat thread
  heartbeat_thread.join();
  m_membership.leave();
  m_alerts.stop();
  return total.failed > 0 || total.store_failed ? 1 : 0;
}

void Daemon::reload_now() {
  m_reload_requested = false;
  m_notifier.send("RELOADING=1\n" + SdNotifier::monotonic_usec());
  spdlog::info("daemon.reload trigger=SIGHUP");
  // The config: validated; its live keys apply now, the others are named as needing a restart.
  reload_config();
  const bool ok = m_rules.reload("SIGHUP");
  reschedule_if_settings_changed("SIGHUP");   // timezone (config) or lead days (rules) changed
  m_connections.reset();   // re-read connections (updated secrets, rate limits); health is re-learned
  auto rules = m_rules.current();
  m_notifier.send(ok ? "READY=1\nSTATUS=reloaded; rules " + (rules ? rules->version() : std::string("none"))
                     : "READY=1\nSTATUS=reload FAILED, old rules in force: " + m_rules.last_error());
}

void Daemon::watchdog_loop() {
  const auto interval = *m_notifier.watchdog_interval();
  bool withheld = false;
  while (!m_shutdown.wait_for(interval)) {
    if (m_heartbeat.age() <= k_heartbeat_max_age) {
      m_notifier.send("WATCHDOG=1");
      if (withheld) spdlog::info("watchdog.resumed");
      withheld = false;
    } else if (!withheld) {
      withheld = true;
      spdlog::error("watchdog.withheld heartbeat_age_s={:.0f} reason=\"scheduler stuck\"",
                    std::chrono::duration<double>(m_heartbeat.age()).count());
    }
  }
}

int Daemon::run() {
  const long long now_ms = to_unix_ms(m_clock.now());
  log_write_failure(m_store.set_meta(k_meta_daemon_started, std::to_string(now_ms)), k_meta_daemon_started);
  log_write_failure(m_store.set_meta(k_meta_daemon_pid, std::to_string(::getpid())), k_meta_daemon_pid);
  record_running_config();
  persist_heartbeat(true);
  std::thread inbox_thread([this] { m_inbox.watch(m_shutdown); });
  std::thread heartbeat_thread([this] { heartbeat_loop(); });
  std::thread watchdog_thread;
  if (m_notifier.watchdog_interval()) watchdog_thread = std::thread([this] { watchdog_loop(); });
  spdlog::info("daemon.started pid={} inbox=\"{}\" rules=\"{}\" version={} listen={}", ::getpid(),
               escape_for_log(m_config.inbox), escape_for_log(m_config.rules), m_rules.current() ? m_rules.current()->version() : "none",
               m_config.listen.empty() ? "off" : m_config.listen);
  m_notifier.send("READY=1\nSTATUS=serving; first cycle starting\nMAINPID=" + std::to_string(::getpid()));
  auto last_cycle = std::chrono::steady_clock::time_point{};
  while (!m_shutdown.requested()) {
    m_heartbeat.beat();
    if (m_reload_requested) reload_now();
    m_rules.reload_if_changed();
    last_cycle = std::chrono::steady_clock::now();
    CycleReport report = m_engine.run_cycle();
    note_cycle(report, std::chrono::steady_clock::now() - last_cycle);
    persist_heartbeat(true);
    // Sleep until the next interval tick, a poke (new file, reload), or shutdown — checking the rules
    // file for edits and beating the heartbeat once a second meanwhile.
    // On a shared database other daemons store work and give claims back without poking this one:
    // look at least every k_shared_poll (one indexed query when nothing is due).
    auto next_tick = last_cycle + (m_store.shared() ? std::min<std::chrono::milliseconds>(m_config.scheduler_interval, k_shared_poll)
                                                    : m_config.scheduler_interval);
    if (report.next_retry) {
      auto until_retry = std::chrono::duration_cast<std::chrono::steady_clock::duration>(*report.next_retry - m_clock.now());
      next_tick = std::min(next_tick, std::chrono::steady_clock::now() + std::max(until_retry, std::chrono::steady_clock::duration(0)));
    }
    while (!m_shutdown.requested() && !m_reload_requested) {
      m_heartbeat.beat();
      persist_heartbeat(false);
      auto left = next_tick - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration(0)) break;
      if (m_wake.wait_poked(std::min<std::chrono::steady_clock::duration>(left, k_rules_poll))) break;
      if (m_rules.reload_if_changed()) break;
    }
  }
  spdlog::info("daemon.stopping");
  m_notifier.send("STOPPING=1\nSTATUS=stopping");
  m_shutdown.request();
  inbox_thread.join();
  heartbeat_thread.join();
  m_membership.leave();
  if (watchdog_thread.joinable()) watchdog_thread.join();
  m_status.stop();
  m_alerts.stop();
  if (m_membership.others_live() == 0) {   // the daemon facts of `h2rd status` stay while another daemon runs
    log_write_failure(m_store.set_meta(k_meta_daemon_pid, ""), k_meta_daemon_pid);
    log_write_failure(m_store.set_meta(k_meta_metrics_listen, ""), k_meta_metrics_listen);
  }
  spdlog::info("daemon.stopped");
  return 0;
}

void Daemon::request_shutdown() {
  m_shutdown.request();
  m_wake.request();
}

void Daemon::request_reload() {
  m_reload_requested = true;
  m_wake.poke();
}

} // namespace h2r

// Engine: turns stored events into Zoom changes. Ingest (the inbox's sink) resolves effective dates
// and queues events; a cycle takes every due event (one head event per employee, so an employee's
// events apply in effective-date then arrival order), applies supervision and the mass-deactivation
// guard, runs the rest on `workers` threads, and records each outcome in one transaction.
#pragma once

#include "core/clock.hpp"
#include "engine/connection_registry.hpp"
#include "engine/planner.hpp"
#include "engine/provisioner.hpp"
#include "hr/event.hpp"
#include "rules/rules.hpp"
#include "store/store.hpp"

#include <functional>
#include <random>

namespace h2r {

struct EngineOptions {
  std::string time_zone = "UTC";
  int max_future_days = 1095;                  // limits.max_future_days: a later effective date rejects the file
  int workers = 4;
  int max_attempts = 12;                       // transient failures before an event is failed
  std::chrono::milliseconds retry_base{30'000};
  std::chrono::milliseconds retry_max{6 * 3600'000};
  std::chrono::milliseconds unhealthy_recheck{10'000};  // deferral while a connection is unusable (no Zoom call: cheap)
  bool once = false;                           // `run --once`: an unusable connection fails events
  int batch = 10'000;                          // most events taken in one step of a cycle
  // Hooks for the daemon (metrics, alerts, heartbeat, shutdown); each may be empty. on_outcome and
  // stop_requested are called from worker threads.
  std::function<void(const EventRow&, const EventOutcome&)> on_outcome;   // after the outcome is recorded
  std::function<void(int held, int max)> on_guard_held;                   // the guard held `held` deactivations
  std::function<bool()> stop_requested;        // true: take no further events (they stay due)
};

struct CycleReport {
  int processed = 0, done = 0, skipped = 0, failed = 0, held = 0, retrying = 0;
  std::optional<SystemTime> next_retry;        // earliest future retry of any pending event (this cycle's or older)
};

class Engine {
public:
  using RulesSource = std::function<RulesPtr()>;

  Engine(Store& store, ConnectionRegistry& connections, RulesSource rules, EngineOptions options, const Clock& clock);

  // The inbox's sink: queues one file's events in one transaction (duplicates logged and ignored).
  // An effective date that cannot be resolved, or lies outside check_effective_window (core/time.hpp),
  // is an `invalid` error naming the record and line (the file is rejected whole).
  Result<void> ingest(const std::string& file_name, const std::vector<HrEvent>& events);

  // Runs every event due now, until none is left. Thread-safe against the CLI (other process) only
  // through the store; call from one thread at a time.
  CycleReport run_cycle();

  // Backoff after failed attempt `attempt` (1-based), full jitter: uniform in [0, cap] with
  // cap = min(retry_max, retry_base·2^(attempt-1)), raised to at least min(k_min_backoff, cap).
  std::chrono::milliseconds backoff(int attempt);
  static constexpr std::chrono::milliseconds k_min_backoff{100};
  static constexpr int k_retry_scan_limit = 100'000;   // pending events looked at for next_retry

private:
  struct Work {
    EventRow event;
    EventPlan plan;
  };
  EventOutcome process(const Work& work, const std::string& rules_version);
  // The employee's links in each of `connections`.
  std::vector<LinkRow> links_of(const std::string& employee_id, const std::vector<ConnectionRow>& connections);
  // Transient: pending again after backoff(attempts) (or Zoom's retry_at if later), failed after
  // max_attempts with the last error; anything else: failed at once with Zoom's detail.
  void fail_or_retry(EventOutcome& outcome, const EventRow& event, const Error& error);
  // A connection-wide "not now" (unusable, paused, daily limit, token refused): pending until it may
  // be usable, attempts unchanged; under `once`, failed when no wait could end it.
  void defer(EventOutcome& outcome, const EventRow& event, const Error& error);

  Store& m_store;
  ConnectionRegistry& m_connections;
  RulesSource m_rules;
  EngineOptions m_options;
  const Clock& m_clock;
  std::mutex m_rng_mutex;
  std::mt19937_64 m_rng{std::random_device{}()};
};

} // namespace h2r

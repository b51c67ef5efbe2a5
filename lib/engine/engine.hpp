// Engine: turns stored events into Zoom changes. Ingest (the inbox's sink) resolves effective dates
// and queues events; a cycle takes every due event (one head event per employee, so an employee's
// events apply in effective-date then arrival order), applies supervision and the mass-deactivation
// guard, runs the rest in one lane per connection (its first target's; dispatcher.hpp), and records
// the outcomes, those handed in together in one transaction (group commit: outcome_batcher.hpp).
//
// Claims: a cycle claims its due events (Store::claim_due_events) before any Zoom call; every write
// about an event (outcome, hold) is fenced by that claim, so an operator's reject in the meantime
// wins and the stale outcome is dropped ("event.lost_claim"). Store errors are never "no data": a
// failed read gives the claim back untouched (no Zoom call, no attempt used) and ends the cycle after
// its batch; a failed write ends the cycle at once (no event is taken again in it), is logged as
// "store.write_failed" and shows in store_writes_failing_since_ms().
#pragma once

#include "core/clock.hpp"
#include "core/fiber.hpp"
#include "core/mutex.hpp"
#include "engine/connection_registry.hpp"
#include "engine/outcome_batcher.hpp"
#include "engine/planner.hpp"
#include "engine/provisioner.hpp"
#include "engine/schedule.hpp"
#include "hr/event.hpp"
#include "hr/inbox.hpp"
#include "rules/rules.hpp"
#include "store/store.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <string_view>
#include <random>

namespace h2r {

// The options a live reload of h2rd.yaml may change (Engine::apply_options): the one list of them. The
// config keys behind them are the live keys of config/config_diff.cpp; engine_options
// (engine/engine_config.hpp) maps one to the other.
struct EngineLiveOptions {
  std::string time_zone = "UTC";
  int max_future_days = 1095;                  // limits.max_future_days: a later effective date rejects the file
  // Concurrency (engine/dispatcher.hpp): each connection runs its events on fibers of its own, as many
  // as its rate limit × observed latency needs, at least `workers` and at most max_connection_workers.
  // Events that call no connection run on `workers` fibers. All fibers share EngineOptions::threads.
  int workers = 4;
  int max_connection_workers = 64;
  int max_attempts = 12;                       // transient failures before an event is failed
  std::chrono::milliseconds retry_base{30'000};
  std::chrono::milliseconds retry_max{6 * 3600'000};

  bool operator==(const EngineLiveOptions&) const = default;
};

struct EngineOptions : EngineLiveOptions {
  std::chrono::milliseconds unhealthy_recheck{10'000};  // deferral while a connection is unusable (no Zoom call: cheap)
  bool once = false;                           // `run --once`: a connection that needs a person fails events
  int batch = 10'000;                          // most events taken in one step of a cycle
  // How long a claim keeps other claimers away from an event (scheduler.claim_lease). The daemon's
  // heartbeat (engine/membership.hpp) extends its claims every 5 s (claim_lease/4 when shorter); a dead daemon's claims
  // are taken over once it ran out (a rescue), or released when it restarts on SQLite.
  std::chrono::milliseconds claim_lease{30 * 60'000};
  std::string owner;                           // the claim owner; "" = "host:pid:random", made by the Engine
  // The threads that run every worker fiber (scheduler.threads; core/fiber.hpp), made at the first
  // cycle that has work. Not live: a restart changes it.
  int threads = 8;
  // Hooks for the daemon (metrics, alerts, heartbeat, shutdown); each may be empty. on_outcome and
  // stop_requested are called from worker fibers (on the threads of the engine's FiberPool).
  std::function<void(const EventRow&, const EventOutcome&)> on_outcome;   // after the outcome is recorded
  // One target's writes made at Zoom (PUT/POST/PATCH/DELETE, with their attribute changes), as soon as
  // they all succeeded, whatever the event's outcome; called from worker threads. Never for a dry run.
  std::function<void(const ActionReport&)> on_applied;
  // The guard held a set of changes (guard_set; `count` of them still to run) with `reason`; from the cycle's thread.
  std::function<void(const EventRow& member, int count, const std::string& reason)> on_guard_held;
  // An event held as a conflict (its reason starts with k_conflict_prefix: one Zoom user, two
  // employees; an employee id reused), once the hold is stored; called from the cycle's or a worker thread.
  std::function<void(const EventRow&, const std::string& reason)> on_conflict;
  std::function<bool()> stop_requested;        // true: take no further events (they stay due)
  std::function<void(std::string_view what)> on_store_write_failed;    // a fenced write failed (not a lost claim)
  // Several daemons: false = take no event and start no SCIM call now (the heartbeat is too old to
  // know the claims still hold); checked before claiming and before each event's first call, from
  // worker threads. Empty = always true.
  std::function<bool()> may_start_calls;
  std::function<void(int claimed, int rescued)> on_claims;   // after each claim: how many, and taken over
  std::function<void()> on_lost_claim;         // an outcome or hold refused: the claim was lost
};

struct CycleReport {
  int processed = 0, done = 0, skipped = 0, superseded = 0, failed = 0, held = 0, retrying = 0;
  int deferred = 0;                            // claims given back unworked (a store read failed)
  int lost_claims = 0;                         // outcomes refused: an operator or another claimer came first
  bool store_failed = false;                   // a store read or write failed: the cycle ended early
  std::optional<SystemTime> next_retry;        // earliest future retry of any pending event (this cycle's or older)
};

class Engine {
public:
  using RulesSource = std::function<RulesPtr()>;

  Engine(Store& store, ConnectionRegistry& connections, RulesSource rules, EngineOptions options, const Clock& clock);

  // The inbox's sink: queues one file's events in one transaction (duplicates logged and ignored).
  // An effective date that cannot be resolved, or lies outside check_effective_window (core/time.hpp),
  // is an `invalid` error naming the record and line (the file is rejected whole).
  // Repeats of an event_id within `events` are an `invalid` error too.
  Result<void> ingest(const std::string& file_name, const std::vector<HrEvent>& events);
  // The same, chunk by chunk, for the inbox (engine_ingest.cpp): one store transaction from here to
  // the session's commit (other store calls wait meanwhile); effective dates are checked per chunk
  // and the first bad one is the commit's `invalid` error. `on_stored` runs after a commit stored it.
  Result<std::unique_ptr<IngestSession>> begin_ingest(const std::string& file_name,
                                                      std::function<void()> on_stored = {});

  // Runs every event due now, until none is left. Thread-safe against the CLI (other process) only
  // through the store; call from one thread at a time.
  CycleReport run_cycle();

  // Backoff after failed attempt `attempt` (1-based), full jitter: uniform in [0, cap] with
  // cap = min(retry_max, retry_base·2^(attempt-1)), raised to at least min(k_min_backoff, cap).
  std::chrono::milliseconds backoff(int attempt);

  // The one entry point for settings that change while the daemon runs (a reload of h2rd.yaml):
  // the EngineLiveOptions part of `options` is taken (the daemon passes engine_options(config),
  // engine/engine_config.hpp); the rest (hooks, owner, once, batch, claim_lease, unhealthy_recheck)
  // stays as constructed.
  // Thread-safe. A cycle adopts them at its next batch boundary (never while a batch runs); ingest()
  // uses them from the first cycle boundary after this call.
  void apply_options(const EngineOptions& options);
  // The settings in force now (for `h2rd status` and tests). Thread-safe.
  EngineOptions options() const;

  // When fenced store writes (outcomes, holds) began failing: the clock's unix ms of the first failure
  // since the last success, 0 while they succeed. Thread-safe; /healthz answers 503 while it is set.
  long long store_writes_failing_since_ms() const { return m_writes_failing_since_ms.load(); }
  const std::string& owner() const { return m_options.owner; }
  static constexpr std::chrono::milliseconds k_min_backoff{100};
  static constexpr int k_retry_scan_limit = 100'000;   // pending events looked at for next_retry
  // An event taken over from a dead daemon more often than this fails (it may be what kills them).
  static constexpr int k_max_rescues = 3;

private:
  struct Work {
    EventRow event;
    EventPlan plan;
  };
  // One cycle's running totals, shared by its steps and worker threads.
  struct Cycle {
    explicit Cycle(const Rules& r) : rules(r) {}
    const Rules& rules;
    Mutex mutex;
    CycleReport report H2R_GUARDED_BY(mutex);
    long long checked_ms = 0;                  // when the last claim looked for due events
    std::atomic<bool> store_failed{false};     // end the cycle: no event is taken again
    OutcomeBatcher* outcomes = nullptr;        // while workers run: their outcomes are written together
  };

  // The steps of run_cycle, in order.
  // Promotes waiting events and claims the due ones; nullopt when the store failed.
  std::optional<std::vector<EventRow>> claim_batch(Cycle& cycle);
  // How many events one claim takes: options.batch, or on a shared store (several daemons) a few
  // seconds of this daemon's work at its share of the connections' rate limits.
  int claim_limit();
  // Logs and counts the events this claim took over from a dead daemon (engine_claims.cpp), and fails
  // those taken over more than k_max_rescues times (removed from `claimed`).
  void take_over(std::vector<EventRow>& claimed, Cycle& cycle);
  // The guard's decision for the set `member` belongs to (engine_claims.cpp): `hold` "" when the set's
  // changes still to run fit the budget across every daemon (Store::reserve_guard), else the hold
  // reason; `counted` false when the store could not count them (the caller gives the set back).
  // `work` is the batch (its members of the set are counted as planned).
  struct GuardVerdict {
    bool counted = true;
    std::string hold;
    bool new_refusal = false;   // refused by this call, not an earlier decision (the alert goes once)
  };
  GuardVerdict reserve_guard(const EventRow& member, const std::vector<Work>& work, Cycle& cycle);
  // Reserves the approved changes of the batch that take something away (they never wait, but they
  // use the budget); a store that cannot count them is logged.
  void reserve_approved(const std::vector<Work>& work, const Cycle& cycle);
  // The set's changes still to run within the guard's window that take something away: those in `work`,
  // and the set's other open events (pending or waiting, not approved) due before `until_ms`, planned on
  // the stored employee and links; with the latest due time among them. nullopt when the store cannot tell.
  std::optional<SetChanges> set_changes(const EventRow& member, const std::vector<Work>& work, const Rules& rules,
                                        long long until_ms);
  bool may_start_calls() const { return !m_options.may_start_calls || m_options.may_start_calls(); }
  // Reads each claimed event's employee and links and plans it; an event whose reads fail is given back.
  std::vector<Work> plan_batch(std::vector<EventRow>& claimed, Cycle& cycle);
  // Holds the conflicts and the supervised events (not approved yet) and removes them from `work`.
  void hold_supervised(std::vector<Work>& work, Cycle& cycle);
  // Gives back every event of the batch that addresses a Zoom userName (case aside, per connection)
  // an earlier event of the same batch addresses: it runs in the next batch, after the first one's
  // link is recorded, so it sees who owns that user.
  void defer_same_address(std::vector<Work>& work);
  // Holds every change that takes something away of each set (an inbox file, a rules edit's resync) the
  // guard refuses: those of this batch now, the set's later ones when they come (on any daemon).
  void apply_guard(std::vector<Work>& work, Cycle& cycle);
  // Runs `work` in one lane per connection, each sized from that connection's rate and latency; claims
  // of work not taken (stop, store failure) are given back.
  void run_workers(std::vector<Work>& work, Cycle& cycle);
  // Records one event's outcome and counts it; a failed write marks the cycle failed.
  // Records the outcome; false when it was not recorded (refused or failed).
  bool finish(const Work& work, EventOutcome& outcome, Cycle& cycle);
  // A history note on `event` listing the Zoom calls sent before its outcome was refused.
  void note_sent_before_decision(const EventRow& event, const std::vector<std::string>& sent);
  // The earliest future retry of any pending event, into report.next_retry.
  void scan_retries(Cycle& cycle);

  // Gives a claim back without changing the event (best effort: a lease covers a failure).
  void release(const EventRow& event);
  // A fenced write's failure: lost claim (counted, logged) or store failure (cycle ends, flag set).
  void note_write_failure(const EventRow& event, std::string_view what, const Error& error, Cycle& cycle);
  void note_write_success();
  // Takes the options of the last apply_options() into m_options, on the cycle's thread between batches.
  void adopt_options();
  // The settings that time an event ingested now: a reload's time zone at once (a file read after a
  // reload must not be timed by the settings it replaced, which the daemon has just rescheduled away),
  // the rules' hire lead days.
  ScheduleOptions current_schedule() const;
  // After a file timed under `used` is stored: when the settings changed meanwhile (a reload while it
  // was read, after the daemon rescheduled the waiting events), its events — and any other waiting
  // event — get the times the settings in force give (reschedule_waiting; idempotent).
  void reschedule_after_ingest(const ScheduleOptions& used, const std::string& file_name);

  EventOutcome process(const Work& work, const std::string& rules_version);
  // Transient: pending again after backoff(attempts) (or Zoom's retry_at if later), failed after
  // max_attempts with the last error; anything else: failed at once with Zoom's detail.
  void fail_or_retry(EventOutcome& outcome, const EventRow& event, const Error& error);
  // A connection-wide "not now" (unusable, paused, daily limit, token refused): pending until it may
  // be usable, attempts unchanged; under `once`, failed when only a person can end it (credentials refused).
  void defer(EventOutcome& outcome, const EventRow& event, const Error& error);

  Store& m_store;
  ConnectionRegistry& m_connections;
  RulesSource m_rules;
  // m_options is written only by adopt_options() under m_options_mutex, on the cycle's thread while no
  // worker runs; workers read it unlocked, ingest() (the inbox's thread) and options() under the mutex.
  EngineOptions m_options;
  mutable Mutex m_options_mutex;
  std::optional<EngineOptions> m_pending_options H2R_GUARDED_BY(m_options_mutex);
  const Clock& m_clock;
  Mutex m_rng_mutex;
  std::mt19937_64 m_rng H2R_GUARDED_BY(m_rng_mutex){std::random_device{}()};
  std::atomic<long long> m_writes_failing_since_ms{0};
  std::unique_ptr<FiberPool> m_fibers;   // made by the cycle's thread at the first run_workers(); the cycle's thread only
  // The guard's decisions for sets (guard_set), kept until they leave their window: a set's later
  // batches pass, or are held, without counting the set again (the store keeps the same decision for
  // that long). The cycle's thread only.
  struct GuardDecided {
    long long until_ms = 0;
    std::string hold;            // "" granted, else the hold reason
    std::string rules_version;   // a decision under other rules (another max, other plans) is asked again
  };
  std::map<std::string, GuardDecided> m_guard_decided;
};

} // namespace h2r

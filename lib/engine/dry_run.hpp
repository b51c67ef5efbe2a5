// DryRun: `h2rd plan` — the engine's schedule and cycles played forward over event files (and the
// queued events of the same employees) without a write anywhere. It uses the engine's own steps:
// schedule_event (effective date, time zone, lead days → due), runs_before (an employee's order),
// plan_in_date_order, hold_before_calls, the guard's rules (guard_counts, still_to_run_in,
// guard_request, decide_guard: a set of changes at a time, as Engine::apply_guard) and the Provisioner
// in dry-run mode (only GETs reach Zoom) with the owner check of `run` (a Zoom user or login another
// employee's link has is a conflict: the event is shown held, as `run` holds it).
#pragma once

#include "engine/connection_registry.hpp"
#include "engine/planner.hpp"
#include "engine/schedule.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace h2r {

struct PlannedEvent {
  EventRow event;               // as stored, or (from a file) as ingest would store it, id 0
  bool queued = false;          // already in the store: pending, waiting or held
  // The cycle that would take it: now, or the instant it falls due. nullopt: only after a held earlier
  // event of the same employee (`blocked_by`) is approved.
  std::optional<long long> runs_at_ms;
  std::string due_why;          // why not now: the effective date, lead days, a retry, an earlier event
  std::string blocked_by;       // HR event_id of the held earlier event
  std::string hold;             // why `run` would hold it instead of making its calls ("" = it runs)
  EventPlan plan;
  std::vector<nlohmann::json> actions;   // ActionReport::to_json() per target, or {connection, error}
  bool failed = false;          // a target could not be planned
  bool due_now(long long now_ms) const { return runs_at_ms && *runs_at_ms <= now_ms && hold.empty(); }
};

// The EventRow ingest would store for `row`: the id is assigned by the caller.
EventRow event_row(const NewEvent& row, long long id, const std::string& source_file);

class DryRun {
public:
  DryRun(Store& store, ConnectionRegistry& connections, const Rules& rules, SystemTime now)
      : m_store(store), m_connections(connections), m_rules(rules), m_now_ms(to_unix_ms(now)) {}

  // Plans `file_events` (from event_row, in file order) after the open events stored for the same
  // employees, in the order and cycles the engine would run them. Store read errors are returned.
  Result<std::vector<PlannedEvent>> run(std::vector<EventRow> file_events);
  // The plan of the open stored event `id` (pending, waiting or held), planned as run() plans it among
  // its employee's open events (`h2rd plan` with no file); nullopt when no open event has that id.
  Result<std::optional<PlannedEvent>> plan_stored(long long id);

  // Open events stored per employee looked at, at most (per state).
  static constexpr int k_queue_limit = 10'000;

private:
  // One employee's events, in the order the engine takes them.
  struct Lane {
    std::vector<PlannedEvent>* events = nullptr;
    std::size_t next = 0;            // the employee's next event not yet taken
    long long ready_ms = 0;          // when the previous one ran
    std::string held_by;             // HR id of a held event: nothing after it runs
    bool open() const { return held_by.empty() && next < events->size(); }
    PlannedEvent& head() const { return (*events)[next]; }
  };
  using Lanes = std::map<std::string, Lane>;
  using Batch = std::vector<std::pair<Lane*, PlannedEvent*>>;
  // The planned events, as the engine would take them.
  using Order = std::vector<PlannedEvent*>;

  // run(), with the open events of `employees` planned even when no file event names them.
  Result<std::vector<PlannedEvent>> run_for(std::vector<EventRow> file_events, const std::vector<std::string>& employees);
  // Each employee's events: the open ones stored, then `file_events`, in the order the engine runs them.
  Result<std::map<std::string, std::vector<PlannedEvent>>> queues(std::vector<EventRow> file_events,
                                                                  const std::vector<std::string>& employees);
  // The cycles from now on, as Engine::run_cycle: at each instant, batches of each employee's next due
  // event until none is due; then the next instant an event falls due.
  Result<void> run_cycles(Lanes& lanes, Order& order);
  // A held stored event at the head of its lane: shown where it stands, blocking the rest.
  Result<void> take_stored_holds(Lanes& lanes, Order& order);
  // Each open lane's head due at `at`, in the order a claim takes them (due time, then id).
  static Batch due_batch(Lanes& lanes, long long at);
  // Plans the batch's events at `at`: why then, their calls, and the holds before any call.
  Result<void> plan_batch(const Batch& batch, long long at, Order& order);
  // Why `planned` runs at `at` rather than now ("" when now).
  std::string due_why(const Lane& lane, const PlannedEvent& planned, long long at) const;
  // The guard, as Engine::apply_guard: holds the batch's changes of each set it refuses.
  Result<void> apply_guard(const Batch& batch, const Lanes& lanes, long long at);
  // The guard's decision for the set of `member` (the hold reason, "" granted), as Engine::reserve_guard
  // over this plan's own reservations (m_guard_sets) in place of the store's.
  Result<std::string> reserve_guard(const PlannedEvent& member, const Batch& batch, const Lanes& lanes, long long at);
  // The set's changes still to run, as Engine::set_changes: the batch's, and the set's events not taken
  // yet and due within the window, each planned on what the events before it left.
  Result<SetChanges> set_changes(const std::string& set, const Batch& batch, const Lanes& lanes, long long until_ms);
  // The batch taken: each lane moves on, or stops behind its held event.
  static void advance(const Batch& batch);
  // The next instant an open lane's head falls due; nullopt when none.
  static std::optional<long long> next_due(const Lanes& lanes);
  // What waits behind a held event: planned in order (as if the held one were approved), no due time.
  Result<void> plan_blocked(Lanes& lanes, Order& order);

  // Plans `planned` and carries its intents out in dry run; a call the owner check refuses (a Zoom user
  // or login another employee's) is the conflict `run` would hold it with, in m_call_conflicts.
  Result<void> plan_one(PlannedEvent& planned);
  // The employee and links `event` is planned on: as the planned events before it left them.
  Result<PlanInputs> inputs_for(const EventRow& event);
  // Why the engine would hold this planned event before its calls (hold_before_calls; "" = it runs).
  std::string plan_hold(const PlannedEvent& planned);
  // As Store::links_to_zoom_user, with the links this plan has made, changed or removed so far.
  Result<std::vector<LinkRow>> owners(const std::string& connection, const std::string& zoom_user_id,
                                      const std::string& user_name);

  Store& m_store;
  ConnectionRegistry& m_connections;
  const Rules& m_rules;
  long long m_now_ms;
  std::vector<ConnectionRow> m_connection_rows;
  std::map<std::string, EmployeeRow> m_employees;                                  // after the planned events
  std::map<std::pair<std::string, std::string>, std::optional<LinkRow>> m_links;  // (connection, employee)
  std::map<const PlannedEvent*, std::string> m_call_conflicts;   // the owner check's refusal, per event
  std::map<std::string, GuardSetRow> m_guard_sets;   // the guard's reservations in this plan, by set
  std::map<std::string, std::string> m_refusals;    // set → the reason it was refused (a refusal stands)
};

} // namespace h2r

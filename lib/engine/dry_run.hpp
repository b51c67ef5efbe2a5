// DryRun: `h2rd plan` — the engine's schedule and cycles played forward over event files (and the
// queued events of the same employees) without a write anywhere. It uses the engine's own steps:
// schedule_event (effective date, time zone, lead days → due), runs_before (an employee's order),
// plan_event, supervision_hold, the guard (a set of changes at a time, as Engine::apply_guard) and the
// Provisioner in dry-run mode (only GETs reach Zoom).
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
  // run(), with the open events of `employees` planned even when no file event names them.
  Result<std::vector<PlannedEvent>> run_for(std::vector<EventRow> file_events, const std::vector<std::string>& employees);
  Result<void> plan_one(PlannedEvent& planned);
  // The employee and links `event` is planned on: as the planned events before it left them.
  Result<PlanInputs> inputs_for(const EventRow& event);
  // Why the engine would hold this planned event ("" when it would run).
  std::string plan_hold(const EventRow& event, const EventPlan& plan) const;

  Store& m_store;
  ConnectionRegistry& m_connections;
  const Rules& m_rules;
  long long m_now_ms;
  std::vector<ConnectionRow> m_connection_rows;
  std::map<std::string, EmployeeRow> m_employees;                                  // after the planned events
  std::map<std::pair<std::string, std::string>, std::optional<LinkRow>> m_links;  // (connection, employee)
};

} // namespace h2r

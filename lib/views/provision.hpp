// Provision on demand (issue 27; Entra's "provision on demand"): for one employee h2r keeps, what h2r
// would do now and why — which role each target's rules match, which condition failed — and, on
// request, do it through the queue like any event, so that the guard, supervision and the employee's
// date order apply. One implementation for `h2rd provision EMPLOYEE [--apply]` and the console's
// POST /api/v1/employees/{id}/provision.
#pragma once

#include "config/config.hpp"
#include "engine/dry_run.hpp"
#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace h2r {

struct ProvisionPreview {
  EmployeeRow employee;
  NewEvent event;                        // the update (no field changed), or terminate for one who left
  std::vector<PlannedEvent> planned;     // the employee's open events, then that update (queued false)
  std::vector<TargetTrace> trace;        // why the rules decide as they do for the record
};

// not_found when h2r keeps no record of `employee_id` (only a hire or rehire introduces one: h2r never
// searches Zoom for someone it does not know). Only lookups (GET) reach Zoom.
Result<ProvisionPreview> preview_provision(Store& store, ConnectionRegistry& connections, const Rules& rules,
                                           const Config& config, const std::string& employee_id, SystemTime now);

// {employee_id, name, status, rules_version, why: [{connection, taken, why_not, roles: [{role,
// matched, why_not}]}], open: [planned_json of each open event before it], plan: planned_json of the
// on-demand update (short_path on each change)}.
nlohmann::json provision_json(const ProvisionPreview& preview, const std::string& rules_version, long long now_ms);

// The on-demand event for `employee` at `now`: an update (no field changed), or a terminate for one
// who left; event_id on-demand-<employee>-<ms>. Scheduled as ingest would (due now).
Result<NewEvent> on_demand_event(const EmployeeRow& employee, const Rules& rules, const Config& config, SystemTime now);

// Queues `events` (on_demand_event's) in one ingest as the store's actor `actor`, source
// k_on_demand_source_prefix + actor: one set for the guard (a "fix all" that would take away more than
// lifecycle.guard.max is held whole). Returns the new events' ids, in order; an event_id stored before
// is an error (conflict) and nothing is queued.
Result<std::vector<long long>> queue_on_demand(Store& store, const std::vector<NewEvent>& events, const std::string& actor,
                                               long long now_ms);

// Queues the preview's update (source k_on_demand_source_prefix + actor, engine/planner.hpp: its
// intents push the whole user even when the link says nothing changed; event_id
// on-demand-<employee>-<ms>) as the
// store's actor `actor`; the daemon runs it at its next cycle, after the employee's earlier events.
// Returns the new event's id.
Result<long long> queue_provision(Store& store, const ProvisionPreview& preview, const std::string& actor, long long now_ms);

} // namespace h2r

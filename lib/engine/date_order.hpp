// Date order: what h2r pushes for an employee is the state the employee's events give when folded in
// effective-date order (arrival order breaks ties), whatever order they arrive in (h2r-events(5),
// DATE ORDER).
//
// The scheduler already runs an employee's open events in that order (schedule.hpp, runs_before). What
// is left is the late event: one that arrives (or is retried) after an event dated later has ended. It
// is folded under those later events: the fields they set win over its own, and when one of them
// changes the employee's status (hire, rehire, leave, return, terminate), the late event's own status
// change is void. What is left of it is planned as usual; when nothing is left, it ends `superseded`,
// naming the event that supersedes it, and Zoom is not touched.
#pragma once

#include "core/expected.hpp"
#include "engine/planner.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace h2r {

// The employee's events that have ended (done, skipped, superseded or failed: every event whose record
// h2r kept; never a rejected one, never a resync) and come after `event` in date order, oldest first.
// At most k_later_events_limit of them (the newest by arrival): an employee with more is folded under
// those alone.
inline constexpr int k_later_events_limit = 1000;
Result<std::vector<EventRow>> later_final_events(Store& store, const EventRow& event);

// plan_event for `event` folded under `later` (as later_final_events gives them). Without later events
// this is plan_event itself. A superseded event's plan has no intents, keeps the folded record and
// carries the reason in EventPlan::superseded (and note).
EventPlan plan_in_date_order(const EventRow& event, const std::optional<EmployeeRow>& before,
                             const std::vector<LinkRow>& links, const Rules& rules, const std::vector<EventRow>& later);

} // namespace h2r

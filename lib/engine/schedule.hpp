// Schedule: the rules that decide when an event may run and whether it runs or is held — the one
// code path both the Engine (ingest, cycles) and `h2rd plan` (dry run) use.
//
//   effective date → instant (time zone; empty = now), checked against the date window;
//   hire lead days → due time (a hire runs that many days before its effective date);
//   an employee's events run in effective-instant, then arrival, order;
//   a supervised event (not approved) is held; a cycle whose deactivations would pass the guard's
//   maximum holds every deactivation of its batch.
#pragma once

#include "core/clock.hpp"
#include "core/expected.hpp"
#include "engine/planner.hpp"
#include "hr/event.hpp"
#include "rules/rules.hpp"
#include "store/store.hpp"

#include <string>

namespace h2r {

struct ScheduleOptions {
  std::string time_zone = "UTC";
  int max_future_days = 1095;   // limits.max_future_days
  int hire_lead_days = 0;       // rules lifecycle.hire_lead_days
};

// The event as ingest stores it: effective and due instants, pending (due now) or waiting. An effective
// date that cannot be resolved or lies outside check_effective_window (core/time.hpp) is an `invalid`
// error naming the record, line and field.
Result<NewEvent> schedule_event(const HrEvent& event, const ScheduleOptions& options, SystemTime now);

// Why `event` (as schedule_event made it) is due when it is, for people: "" when due at its effective
// instant, else "N day(s) of lifecycle.hire_lead_days before the effective date".
std::string due_reason(const EventType type, long long effective_at_ms, long long due_at_ms);

// The order of one employee's events: effective instant, then arrival (id). The scheduler takes an
// employee's next event only when every earlier one has ended.
bool runs_before(const EventRow& a, const EventRow& b);

// The hold reason of a supervised event that is not approved yet; "" when it may run.
std::string supervision_hold(const EventRow& event, const Lifecycle& lifecycle);

// The hold reason of a resync (a rules edit) that is not approved and would deactivate or delete a
// Zoom user, or take a license or a user type away, while lifecycle.resync.deprovision is
// `supervised` (the default); "" when it may run.
std::string resync_hold(const EventRow& event, const EventPlan& plan, const Lifecycle& lifecycle);

// The guard (lifecycle.guard) counts what takes something away: a plan that deactivates or deletes a
// Zoom user, turns a license or feature off, or makes the user Basic.
bool takes_away(const EventPlan& plan);

// The set of changes an event belongs to for the guard, granted or held whole: its inbox file as it
// arrived, or its rules edit's resync — "<source file>@<received at ms>".
std::string guard_set(const EventRow& event);

// The hold reason each change of a set the guard refused gets: `count` of the set's changes still to
// run would pass lifecycle.guard.max beside `counted` already reserved within lifecycle.guard.per.
std::string guard_hold(const EventRow& member, int count, int counted, const Lifecycle& lifecycle);

} // namespace h2r

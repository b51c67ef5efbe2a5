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

#include <functional>
#include <optional>
#include <string>
#include <vector>

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

// When an event of `type` effective at `effective` is due: a hire lifecycle.hire.lead_days earlier (whole
// days in the time zone), any other at its effective instant. The one rule of schedule_event and
// reschedule_event.
SystemTime due_time(EventType type, SystemTime effective, const ScheduleOptions& options);

// A waiting event's effective and due instants recomputed from its effective date under `options` (a
// reload or a start changed timezone or lifecycle.hire.lead_days): pending when the new due time is
// not after `now`. nullopt when nothing changes, or the event is not waiting, is claimed, has no
// effective date ("now" stays as it was), or its date no longer resolves. The change's reason is
// `reason` followed by the new and the old due time.
std::optional<EventReschedule> reschedule_event(const EventRow& event, const ScheduleOptions& options, SystemTime now,
                                                const std::string& reason);

// Why `event` (as schedule_event made it) is due when it is, for people: "" when due at its effective
// instant, else "N day(s) of lifecycle.hire_lead_days before the effective date".
std::string due_reason(const EventType type, long long effective_at_ms, long long due_at_ms);

// The order of one employee's events: effective instant, then arrival (id). The scheduler takes an
// employee's next event only when every earlier one has ended.
bool runs_before(const EventRow& a, const EventRow& b);

// How every supervision hold reason starts (supervision_hold, resync_hold), as k_guard_prefix and
// k_conflict_prefix (store/store.hpp) start theirs: the console groups held events by it.
inline constexpr std::string_view k_supervised_prefix = "supervised: ";

// The hold reason of a supervised event that is not approved yet; "" when it may run.
std::string supervision_hold(const EventRow& event, const Lifecycle& lifecycle);

// The hold reason of a resync (a rules edit) that is not approved and would deactivate or delete a
// Zoom user, or take a license or a user type away, while lifecycle.resync.deprovision is
// `supervised` (the default); "" when it may run.
std::string resync_hold(const EventRow& event, const EventPlan& plan, const Lifecycle& lifecycle);

// Every link of `link.connection` to the Zoom user of `link` (Store::links_to_zoom_user): how a hold
// decision asks who else a link marked shared belongs to.
using LinkSharers = std::function<Result<std::vector<LinkRow>>(const LinkRow& link)>;

// Why an event is held before any Zoom call: the one rule of Engine::hold_supervised and `h2rd plan`.
// A superseded event is never held (it changes nothing at Zoom). Unless the event is approved, a
// conflict comes first (EventPlan::conflict, an employee id reused?; or a link whose Zoom user another
// employee's link shares, asked of `sharers`: a mark the others moved on from is stale), then
// supervision (supervision_hold), then a resync that takes something away (resync_hold). "" = it runs.
std::string hold_before_calls(const EventRow& event, const EventPlan& plan, const Lifecycle& lifecycle,
                              const LinkSharers& sharers);

// The guard (lifecycle.guard) counts what takes something away: a plan that deactivates or deletes a
// Zoom user, turns a license or feature off, or makes the user Basic.
bool takes_away(const EventPlan& plan);

// The set of changes an event belongs to for the guard, granted or held whole: its inbox file as it
// arrived, or its rules edit's resync — "<source file>@<received at ms>".
std::string guard_set(const EventRow& event);

// The changes the guard counts: an event not approved whose plan takes something away.
bool guard_counts(const EventRow& event, const EventPlan& plan);

// A set's changes still to run within the guard's window (Engine::set_changes; `h2rd plan` alike).
struct SetChanges {
  int count = 0;
  long long last_due_ms = 0;   // the latest due time among them
  void add(const EventRow& event);
};

// Whether `other` (an open event not in the batch, before its plan is looked at) belongs to the
// changes of set `set` still to run before `until_ms`: pending or waiting, not approved, of that set,
// due before then. The caller adds it when guard_counts says its plan counts.
bool still_to_run_in(const EventRow& other, const std::string& set, long long until_ms);

// The request to the guard's budget (Store::reserve_guard) for the set of `member` at `now_ms`.
GuardRequest guard_request(const EventRow& member, const SetChanges& changes, long long now_ms,
                           const Lifecycle& lifecycle);

// The hold reason each change of a set the guard refused gets: `count` of the set's changes still to
// run would pass lifecycle.guard.max beside `counted` already reserved within lifecycle.guard.per.
std::string guard_hold(const EventRow& member, int count, int counted, const Lifecycle& lifecycle);

} // namespace h2r

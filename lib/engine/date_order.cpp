#include "engine/date_order.hpp"

#include "core/time.hpp"
#include "engine/schedule.hpp"

#include <algorithm>

namespace h2r {
namespace {

bool changes_status(EventType type) { return type != EventType::update && type != EventType::resync; }

bool folded_in(EventState state) {
  return state == EventState::done || state == EventState::skipped || state == EventState::superseded ||
         state == EventState::failed;
}

std::string describe(const EventRow& e) {
  const std::string date = e.effective_raw.empty() ? format_utc(from_unix_ms(e.effective_at_ms)) : e.effective_raw;
  return "event " + std::to_string(e.id) + " (" + std::string(to_string(e.type)) + " effective " + date +
         (e.event_id.empty() ? "" : ", HR id " + e.event_id) + ")";
}

} // namespace

Result<std::vector<EventRow>> later_final_events(Store& store, const EventRow& event) {
  EventFilter filter;
  filter.employee_id = event.employee_id;
  filter.effective_from_ms = event.effective_at_ms;
  filter.limit = k_later_events_limit;
  auto rows = H2R_TRY(store.list_events(filter));
  std::erase_if(rows, [&](const EventRow& e) {
    return e.id == event.id || e.type == EventType::resync || !folded_in(e.state) || !runs_before(event, e);
  });
  std::sort(rows.begin(), rows.end(), runs_before);
  return rows;
}

EventPlan plan_in_date_order(const EventRow& event, const std::optional<EmployeeRow>& before,
                             const std::vector<LinkRow>& links, const Rules& rules, const std::vector<EventRow>& later) {
  if (later.empty() || event.type == EventType::resync) return plan_event(event, before, links, rules);
  // Only a hire or rehire introduces an employee: a late event about an unknown one stays unknown.
  if (!before && event.type != EventType::hire && event.type != EventType::rehire)
    return plan_event(event, before, links, rules);
  // The later events' fields, applied after this event's own: theirs win. Those h2r stored already are
  // in `before`, so applying them again changes nothing; an event that was skipped before the employee
  // was known (an unknown employee's) adds its fields now.
  EventRow folded = event;
  const EventRow* status_by = nullptr;   // the last later event that sets the status
  const EventRow* fields_by = nullptr;   // the last later event that sets one of this event's fields
  for (const auto& e : later) {
    if (changes_status(e.type)) status_by = &e;
    for (const auto& [key, value] : e.fields) {
      if (event.fields.count(key)) fields_by = &e;
      folded.fields[key] = value;
    }
  }
  std::optional<EmployeeRow> start = before;
  if (status_by) {
    // A later hire, leave, return or terminate decides the status: this event's own change of it is void.
    folded.type = EventType::update;
    folded.leave_type.reset();
    if (!start) start = EmployeeRow{event.employee_id, {}, HrStatus::unknown, 0};
    start->status = status_after(status_by->type, HrStatus::unknown);
  }
  EventPlan plan = plan_event(folded, start, links, rules);
  const EventRow* by = status_by ? status_by : fields_by;
  if (!by || folded.type != EventType::update) return plan;
  // Superseded: nothing of it is left (the record as it was), or a later status leaves Zoom untouched.
  const bool record_unchanged = start && plan.employee.record == start->record;
  if (!record_unchanged && !(status_by && plan.intents.empty())) return plan;
  plan.intents.clear();
  plan.conflict.clear();
  plan.store_employee = true;
  plan.superseded = "superseded by " + describe(*by) + ", which comes later in date order and " +
                    (status_by ? "sets the employee's status" : "sets the same fields") +
                    "; Zoom holds what the employee's events give in date order, so nothing was changed at Zoom";
  plan.note = plan.superseded;
  return plan;
}

} // namespace h2r

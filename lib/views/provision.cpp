#include "views/provision.hpp"

#include "views/views.hpp"

namespace h2r {

Result<NewEvent> on_demand_event(const EmployeeRow& employee, const Rules& rules, const Config& config, SystemTime now) {
  HrEvent e;
  e.event_id = "on-demand-" + employee.employee_id + "-" + std::to_string(to_unix_ms(now));
  // The event that gives the employee's status again: an update for one who is active (or whom HR
  // never hired through h2r), a terminate for one who left (deactivated, or deleted, as the rules say);
  // one on leave keeps what the leave gave (an update changes nothing at Zoom for them).
  e.type = employee.status == HrStatus::terminated ? EventType::terminate : EventType::update;
  e.employee_id = employee.employee_id;
  e.fields = {{"employee_id", employee.employee_id}};
  const ScheduleOptions schedule{config.timezone, config.max_future_days, rules.lifecycle().hire_lead_days};
  return schedule_event(e, schedule, now);
}

Result<std::vector<long long>> queue_on_demand(Store& store, const std::vector<NewEvent>& events, const std::string& actor,
                                               long long now_ms) {
  // An event_id stored before (the same employee, the same millisecond) would be skipped by ingest while
  // the rest is stored: refused before anything is, so that the answer says what was queued.
  for (const auto& e : events)
    if (H2R_TRY(store.find_event(e.event.event_id)))
      return fail(ErrorKind::conflict, "an on-demand event of employee " + e.event.employee_id +
                                           " was queued this same millisecond: nothing was queued, ask again");
  store.set_actor(actor);
  auto result = H2R_TRY(store.ingest(std::string(k_on_demand_source_prefix) + actor, events, now_ms));
  if (result.duplicate_count > 0)
    return fail(ErrorKind::conflict, "an on-demand event was stored meanwhile by another request: see `h2rd events list "
                                     "--file on-demand:" + actor + "`");
  std::vector<long long> ids;
  for (const auto& e : events) {
    auto row = H2R_TRY(store.find_event(e.event.event_id));
    if (!row) return fail(ErrorKind::permanent, "the on-demand event " + e.event.event_id + " was stored but cannot be read back");
    ids.push_back(row->id);
  }
  return ids;
}

Result<ProvisionPreview> preview_provision(Store& store, ConnectionRegistry& connections, const Rules& rules,
                                           const Config& config, const std::string& employee_id, SystemTime now) {
  auto employee = H2R_TRY(store.get_employee(employee_id));
  if (!employee)
    return fail(ErrorKind::not_found, "h2r keeps no record of employee '" + employee_id +
                                          "': only a hire or rehire introduces one, and Zoom is never searched for others");
  ProvisionPreview out;
  out.employee = std::move(*employee);
  out.event = H2R_TRY(on_demand_event(out.employee, rules, config, now));
  out.planned = H2R_TRY(DryRun(store, connections, rules, now).run({event_row(out.event, 0, std::string(k_on_demand_source_prefix) + "preview")}));
  out.trace = rules.trace(out.employee.record);
  return out;
}

nlohmann::json provision_json(const ProvisionPreview& preview, const std::string& rules_version, long long now_ms) {
  nlohmann::json why = nlohmann::json::array();
  for (const auto& t : preview.trace) {
    nlohmann::json roles = nlohmann::json::array();
    for (const auto& r : t.roles) roles.push_back({{"role", r.role}, {"matched", r.matched}, {"why_not", r.why_not}});
    why.push_back({{"connection", t.connection}, {"taken", t.taken}, {"why_not", t.why_not}, {"roles", roles}});
  }
  nlohmann::json open = nlohmann::json::array();
  nlohmann::json plan;
  for (const auto& p : preview.planned) {
    if (p.queued) open.push_back(planned_json(p, now_ms, true));
    else plan = planned_json(p, now_ms, true);
  }
  return {{"employee_id", preview.employee.employee_id}, {"name", record_name(preview.employee.record)}, {"status", to_string(preview.employee.status)},
          {"rules_version", rules_version}, {"why", why}, {"open", open}, {"plan", plan}};
}

Result<long long> queue_provision(Store& store, const ProvisionPreview& preview, const std::string& actor, long long now_ms) {
  auto ids = H2R_TRY(queue_on_demand(store, {preview.event}, actor, now_ms));
  return ids.front();
}

} // namespace h2r

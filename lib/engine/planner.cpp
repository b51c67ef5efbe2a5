#include "engine/planner.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <set>

namespace h2r {
namespace {

std::optional<LinkRow> link_for(const std::vector<LinkRow>& links, const std::string& connection) {
  for (const auto& l : links)
    if (l.connection == connection) return l;
  return std::nullopt;
}

// The value `fields` set for `key`, else the one `record` has ("" when neither).
std::string value_after(const EmployeeRecord& record, const FieldPatch& fields, const std::string& key) {
  if (auto it = fields.find(key); it != fields.end()) return it->second.value_or("");
  auto it = record.find(key);
  return it == record.end() ? std::string() : it->second;
}

std::string value_of(const EmployeeRecord& record, const std::string& key) {
  auto it = record.find(key);
  return it == record.end() ? std::string() : it->second;
}

// Both known and different, case aside.
bool differs(const std::string& a, const std::string& b) {
  return !a.empty() && !b.empty() && ascii_lower(a) != ascii_lower(b);
}

} // namespace

HrStatus status_after(EventType type, HrStatus before) {
  switch (type) {
  case EventType::hire:
  case EventType::rehire:
  case EventType::return_to_work: return HrStatus::active;
  case EventType::leave: return HrStatus::on_leave;
  case EventType::terminate: return HrStatus::terminated;
  case EventType::update:
  case EventType::resync: return before;
  }
  return before;
}

std::string identity_change(const EmployeeRecord& before, const FieldPatch& fields, const std::string& employee_id) {
  const std::string old_email = value_of(before, "email"), new_email = value_after(before, fields, "email");
  const std::string old_first = value_of(before, "first_name"), new_first = value_after(before, fields, "first_name");
  const std::string old_last = value_of(before, "last_name"), new_last = value_after(before, fields, "last_name");
  if (!differs(old_email, new_email) || !differs(old_first, new_first) || !differs(old_last, new_last)) return "";
  return "conflict: employee id reused? employee " + employee_id + " is known as " + old_first + " " + old_last +
         " <" + old_email + ">; this event makes it " + new_first + " " + new_last + " <" + new_email +
         ">. Nothing was changed at Zoom. Approve it (`h2rd events approve ID`) if this is the same person, "
         "else reject it and have HR send the new person under a new employee id";
}

std::string_view to_string(IntentKind kind) {
  switch (kind) {
  case IntentKind::provision: return "provision";
  case IntentKind::update_existing: return "update_existing";
  case IntentKind::deactivate: return "deactivate";
  case IntentKind::remove: return "delete";
  }
  return "unknown";
}

bool EventPlan::deactivates() const {
  return std::any_of(intents.begin(), intents.end(), [](const Intent& i) {
    return i.kind == IntentKind::deactivate || i.kind == IntentKind::remove;
  });
}

bool already_pushed(const Intent& intent) {
  if (!intent.link) return false;
  const LinkRow& link = *intent.link;
  if (intent.kind == IntentKind::deactivate) return !link.active;
  if (intent.kind == IntentKind::remove || !intent.desired) return false;
  const bool want_active = intent.kind == IntentKind::provision || link.active;
  return link.pushed_digest == desired_digest(*intent.desired, want_active) && link.active == want_active;
}

std::map<std::string, DesiredUser> resync_clearing_base(const EventRow& event) {
  std::map<std::string, DesiredUser> out;
  auto it = event.fields.find(std::string(k_resync_base_field));
  if (it == event.fields.end() || !it->second) return out;
  auto base = nlohmann::json::parse(*it->second, nullptr, false);
  if (!base.is_object()) return out;
  for (const auto& [connection, user] : base.items()) {
    if (!user.is_object() || !user.contains("body")) continue;
    DesiredUser d;
    d.body = user["body"];
    d.role = user.value("role", "");
    out[connection] = std::move(d);
  }
  return out;
}

std::string resync_clearing_base_text(const std::map<std::string, DesiredUser>& base) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [connection, d] : base) out[connection] = {{"role", d.role}, {"body", d.body}};
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

EventPlan plan_event(const EventRow& event, const std::optional<EmployeeRow>& before,
                     const std::vector<LinkRow>& links, const Rules& rules) {
  EventPlan plan;
  plan.employee = before.value_or(EmployeeRow{event.employee_id, {}, HrStatus::unknown, 0});
  plan.employee.employee_id = event.employee_id;
  const bool introduces = event.type == EventType::hire || event.type == EventType::rehire;
  if (!before && !introduces && event.type != EventType::resync) {
    // Never search Zoom by address for someone h2r does not know: that address may be anyone's.
    plan.note = std::string(k_unknown_employee) + ": h2r has no record of employee " + event.employee_id +
                " (only a hire or rehire introduces one), so Zoom is neither searched nor changed";
    plan.store_employee = false;
    return plan;
  }
  if (introduces && before) plan.conflict = identity_change(before->record, event.fields, event.employee_id);
  const EmployeeRecord old_record = plan.employee.record;
  const HrStatus old_status = plan.employee.status;
  const bool resync = event.type == EventType::resync;
  if (!resync) apply_patch(plan.employee.record, event.fields);   // a resync's fields are its clearing base
  plan.employee.status = status_after(event.type, old_status);

  const auto decisions = rules.decide(plan.employee.record);
  std::map<std::string, std::optional<DesiredUser>> previous;
  if (resync)
    for (auto& [connection, desired] : resync_clearing_base(event)) previous[connection] = std::move(desired);
  else if (!old_record.empty())
    for (auto& d : rules.decide(old_record)) previous[d.connection] = d.desired;

  const auto fallback_user_name = [&](const std::optional<LinkRow>& link) {
    if (link) return link->user_name;
    auto it = plan.employee.record.find("email");
    return it == plan.employee.record.end() ? std::string() : it->second;
  };
  std::set<std::string> decided;
  const auto add = [&](const std::string& connection, IntentKind kind, const std::optional<DesiredUser>& desired,
                       std::string why) {
    Intent intent;
    intent.connection = connection;
    intent.kind = kind;
    intent.desired = desired;
    intent.link = link_for(links, connection);
    intent.user_name = desired ? desired->user_name : fallback_user_name(intent.link);
    if (desired && intent.link && intent.link->pushed_body.is_object())
      intent.cleared = cleared_from_pushed(intent.link->pushed_body, *desired);
    else if (desired && previous.count(connection) && previous[connection])
      intent.cleared = cleared_attributes(*previous[connection], *desired);
    intent.why = std::move(why);
    intent.push_anyway = event.source_file.starts_with(k_on_demand_source_prefix);
    plan.intents.push_back(std::move(intent));
  };
  // Every connection the employee is in or should be in gets `kind_for_all`.
  const auto everywhere = [&](IntentKind kind, const std::string& why) {
    for (const auto& d : decisions) {
      decided.insert(d.connection);
      add(d.connection, kind, d.desired, why);
    }
    for (const auto& l : links)
      if (!decided.count(l.connection)) add(l.connection, kind, std::nullopt, why);
  };
  const bool deprovision = rules.on_no_role() == OnNoRole::deprovision;
  // Provision where a role matches; where none does (or no target takes the employee any more),
  // deprovision per on_no_role.
  const auto provision_by_role = [&](IntentKind kind, const std::string& why) {
    for (const auto& d : decisions) {
      decided.insert(d.connection);
      if (d.desired)
        add(d.connection, kind, d.desired, why);
      else if (deprovision)
        add(d.connection, IntentKind::deactivate, std::nullopt, "no role matches (on_no_role: deprovision)");
    }
    for (const auto& l : links)
      if (!decided.count(l.connection) && deprovision)
        add(l.connection, IntentKind::deactivate, std::nullopt, "no target takes the employee (on_no_role: deprovision)");
    if (plan.intents.empty())
      plan.note = decisions.empty() ? "no target matches the employee"
                                    : (deprovision ? "no role matches and no Zoom user is linked"
                                                   : "no role matches (on_no_role: keep)");
  };

  const auto& lifecycle = rules.lifecycle();
  switch (event.type) {
  case EventType::hire:
  case EventType::rehire:
  case EventType::return_to_work:
    provision_by_role(IntentKind::provision, std::string(to_string(event.type)));
    break;
  case EventType::update:
    if (plan.employee.status == HrStatus::active)
      provision_by_role(IntentKind::provision, "update");
    else if (plan.employee.status == HrStatus::unknown)
      provision_by_role(IntentKind::update_existing, "update of an employee h2r has not seen hired");
    else
      plan.note = std::string("record updated; the employee is ") + std::string(to_string(plan.employee.status)) +
                  ", so Zoom is left as it is";
    break;
  case EventType::leave: {
    LeaveType kind = event.leave_type.value_or(LeaveType::long_term);
    auto it = lifecycle.leave.find(kind);
    if (it != lifecycle.leave.end() && it->second == LeaveAction::deactivate)
      everywhere(IntentKind::deactivate, "leave (" + std::string(to_string(kind)) + ")");
    else
      plan.note = "leave (" + std::string(to_string(kind)) + ") keeps the Zoom user (lifecycle.leave)";
    break;
  }
  case EventType::resync:
    // The stored record and status under the rules in force now; never a new user (links only).
    if (plan.employee.status == HrStatus::active || plan.employee.status == HrStatus::unknown) {
      provision_by_role(plan.employee.status == HrStatus::active ? IntentKind::provision : IntentKind::update_existing,
                        "resync (rules " + rules.version() + ")");
      std::erase_if(plan.intents, [](const Intent& i) { return !i.link; });
      if (plan.intents.empty()) plan.note = "no Zoom user is linked; a resync never creates one";
    } else {
      plan.note = std::string("the employee is ") + std::string(to_string(plan.employee.status)) +
                  ", so Zoom is left as it is";
    }
    break;
  case EventType::terminate:
    everywhere(lifecycle.terminate == TerminateAction::remove ? IntentKind::remove : IntentKind::deactivate,
               "terminate");
    if (plan.intents.empty()) plan.note = "no target matches the employee and no Zoom user is linked";
    break;
  }
  return plan;
}

} // namespace h2r

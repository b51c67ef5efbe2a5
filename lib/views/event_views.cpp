#include "views/views.hpp"

#include "core/time.hpp"
#include "engine/schedule.hpp"

#include <fmt/format.h>

namespace h2r {

std::string time_text(long long unix_ms) { return unix_ms == 0 ? "-" : format_utc(from_unix_ms(unix_ms)); }

nlohmann::json time_json(long long unix_ms) {
  return unix_ms == 0 ? nlohmann::json() : nlohmann::json(format_utc(from_unix_ms(unix_ms)));
}

nlohmann::json event_json(const EventRow& e, bool full, long long now_ms) {
  nlohmann::json j = {{"id", e.id},
                      {"event_id", e.event_id},
                      {"type", to_string(e.type)},
                      {"employee_id", e.employee_id},
                      {"state", to_string(e.state)},
                      {"reason", e.reason},
                      {"effective", time_json(e.effective_at_ms)},
                      {"effective_raw", e.effective_raw},
                      {"due", is_final(e.state) ? nlohmann::json() : time_json(e.due_at_ms)},
                      {"waits", wait_text(e, now_ms).empty() ? nlohmann::json() : nlohmann::json(wait_text(e, now_ms))},
                      {"source_file", e.source_file},
                      {"attempts", e.attempts}};
  if (e.leave_type) j["leave_type"] = to_string(*e.leave_type);
  if (e.state == EventState::held) j["hold"] = hold_kind(e);
  if (full) {
    nlohmann::json fields = nlohmann::json::object();
    for (const auto& [k, v] : e.fields) fields[k] = v ? nlohmann::json(*v) : nlohmann::json();
    j["fields"] = fields;
    j["approved"] = e.approved;
    j["rules_version"] = e.rules_version.empty() ? nlohmann::json() : nlohmann::json(e.rules_version);
    j["result"] = e.result.empty() ? nlohmann::json() : nlohmann::json::parse(e.result, nullptr, false);
    j["received"] = time_json(e.received_at_ms);
    j["updated"] = time_json(e.updated_at_ms);
  }
  return j;
}

namespace {

// "First Last" from a record's or an event's fields; "" when it has neither.
template <typename Fields, typename Get>
std::string name_in(const Fields& fields, Get get) {
  std::string out;
  for (const char* key : {"first_name", "last_name"}) {
    auto it = fields.find(key);
    if (it == fields.end()) continue;
    const std::string part = get(it->second);
    if (part.empty()) continue;
    if (!out.empty()) out += ' ';
    out += part;
  }
  return out;
}

} // namespace

Result<std::vector<LinkRow>> links_of(Store& store, const std::string& employee_id) {
  std::vector<LinkRow> out;
  for (const auto& c : H2R_TRY(store.list_connections()))
    if (auto link = H2R_TRY(store.get_link(c.name, employee_id))) out.push_back(std::move(*link));
  return out;
}

Result<nlohmann::json> event_detail_json(Store& store, const EventRow& e, long long now_ms) {
  auto j = event_json(e, true, now_ms);
  j["name"] = EmployeeNames(store).of(e);
  j["changes"] = event_changes_json(e);   // the result's attribute changes, named as rules.yaml names them
  j["zoom_users"] = nlohmann::json::array();
  for (const auto& link : H2R_TRY(links_of(store, e.employee_id)))
    j["zoom_users"].push_back({{"connection", link.connection}, {"zoom_user_id", link.zoom_user_id},
                               {"user_name", link.user_name}, {"active", link.active}});
  j["history"] = history_json(H2R_TRY(store.event_history(e.id)));
  return j;
}

std::string record_name(const EmployeeRecord& record) {
  return name_in(record, [](const std::string& v) { return v; });
}

const EmployeeRecord& EmployeeNames::record_of(const std::string& employee_id) {
  auto known = m_records.find(employee_id);
  if (known != m_records.end()) return known->second;
  auto employee = m_store.get_employee(employee_id);
  return m_records.emplace(employee_id, employee && *employee ? (*employee)->record : EmployeeRecord{}).first->second;
}

std::string EmployeeNames::of(const EventRow& e) {
  std::string name = name_in(e.fields, [](const std::optional<std::string>& v) { return v.value_or(""); });
  if (!name.empty()) return name;
  return record_name(record_of(e.employee_id));
}

std::string EmployeeNames::title_of(const EventRow& e) {
  if (auto it = e.fields.find("job_title"); it != e.fields.end() && it->second && !it->second->empty()) return *it->second;
  const EmployeeRecord& record = record_of(e.employee_id);
  auto it = record.find("job_title");
  return it == record.end() ? std::string() : it->second;
}

std::string hold_kind(const EventRow& e) {
  if (e.state != EventState::held) return "";
  if (e.reason.starts_with(k_guard_prefix)) return "guard";
  if (e.reason.starts_with(k_conflict_prefix)) return "conflict";
  if (e.reason.starts_with(k_supervised_prefix)) return "supervised";
  return "approval";
}

std::string event_effect(const EventRow& e, const Lifecycle& lifecycle) {
  if (e.type == EventType::terminate) return lifecycle.terminate == TerminateAction::remove ? "deletes" : "deactivates";
  if (e.type == EventType::leave) {   // no leave_type: long_term, as the planner reads it
    auto it = lifecycle.leave.find(e.leave_type.value_or(LeaveType::long_term));
    return it != lifecycle.leave.end() && it->second == LeaveAction::deactivate ? "deactivates" : "";
  }
  // A supervised resync names what it would do (resync_hold): "would delete", "would deactivate", or
  // a license or user type taken away.
  const std::string kind = hold_kind(e);
  if (e.type == EventType::resync && kind == "supervised") {
    if (e.reason.find(" would delete ") != std::string::npos) return "deletes";
    if (e.reason.find(" would deactivate ") != std::string::npos) return "deactivates";
    return "takes away";
  }
  return kind == "guard" ? "takes away" : "";
}

nlohmann::json history_json(const std::vector<EventHistoryRow>& history) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& h : history)
    out.push_back({{"at", time_json(h.at_ms)},
                   {"from", h.from ? nlohmann::json(to_string(*h.from)) : nlohmann::json()},
                   {"to", to_string(h.to)},
                   {"actor", h.actor},
                   {"reason", h.reason}});
  return out;
}

std::string wait_text(const EventRow& e, long long now_ms) {
  if (e.state != EventState::waiting && e.state != EventState::pending) return "";
  if (e.due_at_ms <= now_ms) return e.state == EventState::waiting ? "due now (the next cycle takes it)" : "";
  const std::string due = time_text(e.due_at_ms);
  if (e.state == EventState::waiting) {
    if (e.due_at_ms < e.effective_at_ms)
      return fmt::format("waits until {} (lifecycle.hire.lead_days before the effective date {})", due,
                         time_text(e.effective_at_ms));
    return fmt::format("waits until {} (effective date)", due);
  }
  if (e.attempts > 0)
    return fmt::format("retry after attempt {} at {}{}", e.attempts, due, e.reason.empty() ? "" : ": " + e.reason);
  return fmt::format("waits until {}{}", due, e.reason.empty() ? "" : ": " + e.reason);
}

} // namespace h2r

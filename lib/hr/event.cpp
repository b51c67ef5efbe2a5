#include "hr/event.hpp"

#include "core/json_text.hpp"

namespace h2r {

std::string_view to_string(EventType type) {
  switch (type) {
  case EventType::hire: return "hire";
  case EventType::update: return "update";
  case EventType::leave: return "leave";
  case EventType::return_to_work: return "return";
  case EventType::terminate: return "terminate";
  case EventType::rehire: return "rehire";
  case EventType::resync: return "resync";
  }
  return "unknown";
}

std::string_view to_string(LeaveType type) {
  switch (type) {
  case LeaveType::long_term: return "long_term";
  case LeaveType::fmla: return "fmla";
  case LeaveType::legal: return "legal";
  case LeaveType::security: return "security";
  }
  return "unknown";
}

std::optional<EventType> parse_event_type(std::string_view text) {
  if (text == to_string(EventType::resync)) return EventType::resync;
  return parse_hr_event_type(text);
}

std::optional<EventType> parse_hr_event_type(std::string_view text) {
  for (auto t : {EventType::hire, EventType::update, EventType::leave, EventType::return_to_work,
                 EventType::terminate, EventType::rehire})
    if (to_string(t) == text) return t;
  return std::nullopt;
}

std::optional<LeaveType> parse_leave_type(std::string_view text) {
  for (auto t : {LeaveType::long_term, LeaveType::fmla, LeaveType::legal, LeaveType::security})
    if (to_string(t) == text) return t;
  return std::nullopt;
}

void apply_patch(EmployeeRecord& record, const FieldPatch& patch) {
  for (const auto& [name, value] : patch) {
    if (value)
      record[name] = *value;
    else
      record.erase(name);
  }
}

std::string field_patch_json(const FieldPatch& patch) { return json_flat_object(patch); }

} // namespace h2r

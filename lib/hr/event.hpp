// The HR event model: what an HR system says happened to an employee.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace h2r {

// resync is h2r's own: queued when the rules change (an employee's Zoom user no longer matches them),
// never accepted from an HR file.
enum class EventType { hire, update, leave, return_to_work, terminate, rehire, resync };

// The source names of h2r's own events, in place of an inbox file's name: a rules edit's resyncs
// ("rules:" + the rules version) and an admin's on-demand events ("on-demand:" + who asked: `h2rd
// provision --apply`, the console). The inbox refuses a file named so (lib/hr/inbox.cpp): its
// events would pass for h2r's own.
inline constexpr std::string_view k_resync_source_prefix = "rules:";
inline constexpr std::string_view k_on_demand_source_prefix = "on-demand:";
enum class LeaveType { long_term, fmla, legal, security };

std::string_view to_string(EventType type);   // "hire", ..., "return", ...
std::string_view to_string(LeaveType type);   // "long_term", "fmla", "legal", "security"
std::optional<EventType> parse_event_type(std::string_view text);      // every kind, resync included
std::optional<EventType> parse_hr_event_type(std::string_view text);   // the kinds an HR file may carry
std::optional<LeaveType> parse_leave_type(std::string_view text);

// An employee's record as h2r last knew it: field name → value. A cleared field is absent.
using EmployeeRecord = std::map<std::string, std::string>;

// The employee fields an event carries: a value sets the field, nullopt (JSON null) clears it,
// and a field that is not in the map keeps its last known value.
using FieldPatch = std::map<std::string, std::optional<std::string>>;

// Applies `patch` on top of `record`.
void apply_patch(EmployeeRecord& record, const FieldPatch& patch);

// The patch as the stores keep it: a JSON object, keys in order, null for a cleared field (the same
// bytes as nlohmann's dump of the equivalent document, written directly: ingest writes one per event).
std::string field_patch_json(const FieldPatch& patch);

struct HrEvent {
  std::string event_id;                // unique per HR source
  EventType type = EventType::hire;
  std::optional<LeaveType> leave_type; // set for leave events
  std::string effective_date;          // as written (validated ISO date or date-time); empty = now
  std::string employee_id;             // also present in `fields` as "employee_id"
  FieldPatch fields;                   // employee fields, including employee_id
  int record = 0;                      // 1-based record number in its file
  int line = 0;                        // 1-based line in its file where the record starts (0 = unknown)
};

} // namespace h2r

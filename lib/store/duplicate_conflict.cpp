#include "store/duplicate_conflict.hpp"

#include "core/text.hpp"
#include "hr/readers.hpp"
#include "hr/text_checks.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <set>
#include <vector>

namespace h2r {
namespace {

constexpr std::size_t k_max_conflict_fields = 20;   // differing field names listed
constexpr std::size_t k_max_name_bytes = 100;        // of one field name in the list

// The employee fields whose values differ (present in one only, or unequal), by name.
void differing_fields(const std::string& stored, const std::string& now, std::vector<std::string>& out) {
  if (stored == now) return;
  const auto before = nlohmann::json::parse(stored, nullptr, false);
  const auto after = nlohmann::json::parse(now, nullptr, false);
  if (!before.is_object() || !after.is_object()) {
    out.push_back("the employee fields");
    return;
  }
  std::set<std::string> names;
  for (const auto& [k, v] : before.items()) names.insert(k);
  for (const auto& [k, v] : after.items()) names.insert(k);
  std::size_t listed = 0;
  for (const auto& name : names) {
    if (before.contains(name) && after.contains(name) && before[name] == after[name]) continue;
    if (++listed > k_max_conflict_fields) {
      out.push_back("…");
      return;
    }
    out.push_back("employee." + escape_for_log(name, k_max_name_bytes, ""));
  }
}

} // namespace

std::string duplicate_conflict(const StoredEventContent& stored, const HrEvent& event) {
  std::vector<std::string> differs;
  const std::string type(to_string(event.type));
  if (stored.type != type) differs.push_back("type (" + stored.type + ", now " + type + ")");
  const std::string leave = event.leave_type ? std::string(to_string(*event.leave_type)) : "";
  if (stored.leave_type != leave) differs.push_back("leave_type");
  if (stored.employee_id != event.employee_id) differs.push_back("employee.employee_id");
  if (stored.effective_raw != event.effective_date) differs.push_back("effective_date");
  differing_fields(stored.fields, field_patch_json(event.fields), differs);
  if (differs.empty()) return "";
  std::string list;
  for (const auto& d : differs) list += (list.empty() ? "" : ", ") + d;
  const FileProblem problem{event.record, event.line, "event_id",
                            "event_id " + hr_detail::quote_for_report(event.event_id, k_max_event_id_bytes) +
                                " was stored before from " + hr_detail::quote_for_report(stored.source_file, 300) +
                                " with other content: it differs in " + list +
                                " (an event_id names one event: send a new event_id for a new event)"};
  return problem.to_string();
}

Unexpected<Error> duplicate_conflict_error(const std::string& conflict, const HrEvent& event,
                                           const std::string& file_name) {
  spdlog::warn("event.duplicate_conflict event_id=\"{}\" file=\"{}\" problem=\"{}\" action=\"file rejected\"",
               escape_for_log(event.event_id), escape_for_log(file_name), escape_for_log(conflict));
  return fail(ErrorKind::invalid, conflict);
}

} // namespace h2r

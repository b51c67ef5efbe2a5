// check_references: the rules against the installation — connections that exist, fields events carry.
#include "rules/rules.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace h2r {
namespace {

std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  auto near = closest_match(name, candidates);
  return near ? " (did you mean '" + *near + "'?)" : "";
}

} // namespace

const std::vector<std::string>& spec_event_fields() {
  static const std::vector<std::string> fields{"cost_center", "department",      "email",         "employee_id",
                                               "employment_type", "first_name",  "job_title",     "last_name",
                                               "location",    "manager_email",   "phone"};
  return fields;
}

Diagnostics check_connection_references(const Rules& rules, const std::optional<std::vector<std::string>>& connections) {
  Diagnostics out;
  if (!connections) return out;
  for (const auto& ref : rules.connection_references()) {
    if (std::find(connections->begin(), connections->end(), ref.name) != connections->end()) continue;
    std::string message = "targets: connection '" + ref.name + "' does not exist";
    const std::string hint = did_you_mean(ref.name, *connections);
    message += hint.empty() ? " (add it with `h2rd connection add " + ref.name + " ...`; see `h2rd connection list`)"
                            : hint;
    out.push_back({rules.source(), ref.line, ref.column, std::move(message), false});
  }
  return out;
}

Diagnostics check_field_references(const Rules& rules, const std::set<std::string>& seen_fields) {
  Diagnostics out;
  std::vector<std::string> known = spec_event_fields();
  for (const auto& f : rules.declared_fields())
    if (std::find(known.begin(), known.end(), f) == known.end()) known.push_back(f);
  std::vector<std::string> carried = known;   // also what events have carried
  for (const auto& f : seen_fields)
    if (std::find(carried.begin(), carried.end(), f) == carried.end()) carried.push_back(f);
  for (const auto& ref : rules.field_references()) {
    if (ref.decides) {
      if (std::find(known.begin(), known.end(), ref.name) != known.end()) continue;
      std::string hint = did_you_mean(ref.name, known);
      if (hint.empty()) hint = " (if your HR system sends it, declare it: hr_fields: [" + ref.name + "])";
      out.push_back({rules.source(), ref.line, ref.column,
                     "field '" + ref.name + "' decides who gets which Zoom user but is neither an event field "
                     "(h2r-events(5)) nor declared in hr_fields" + hint, false});
      continue;
    }
    if (std::find(carried.begin(), carried.end(), ref.name) != carried.end()) continue;
    std::string hint = did_you_mean(ref.name, carried);
    if (hint.empty()) hint = " (fine if your HR system sends it; the SPEC's fields are employee_id, first_name, "
                             "last_name, email, department, job_title, location, manager_email, "
                             "employment_type, cost_center, phone)";
    out.push_back({rules.source(), ref.line, ref.column,
                   "field '" + ref.name + "' is not an event field and no event has carried it" + hint, true});
  }
  return out;
}

Diagnostics check_references(const Rules& rules, const std::optional<std::vector<std::string>>& connections,
                             const std::set<std::string>& seen_fields) {
  Diagnostics out = check_connection_references(rules, connections);
  for (auto& d : check_field_references(rules, seen_fields)) out.push_back(std::move(d));
  return out;
}

} // namespace h2r

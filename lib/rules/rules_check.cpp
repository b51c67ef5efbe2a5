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

Diagnostics check_references(const Rules& rules, const std::optional<std::vector<std::string>>& connections,
                             const std::set<std::string>& seen_fields) {
  Diagnostics out;
  if (connections) {
    for (const auto& ref : rules.connection_references()) {
      if (std::find(connections->begin(), connections->end(), ref.name) != connections->end()) continue;
      std::string message = "targets: connection '" + ref.name + "' does not exist";
      const std::string hint = did_you_mean(ref.name, *connections);
      message += hint.empty() ? " (add it with `h2rd connection add " + ref.name + " ...`; see `h2rd connection list`)"
                              : hint;
      out.push_back({rules.source(), ref.line, ref.column, std::move(message), false});
    }
  }
  std::vector<std::string> known = spec_event_fields();
  for (const auto& f : seen_fields)
    if (std::find(known.begin(), known.end(), f) == known.end()) known.push_back(f);
  for (const auto& ref : rules.field_references()) {
    if (std::find(known.begin(), known.end(), ref.name) != known.end()) continue;
    std::string hint = did_you_mean(ref.name, known);
    if (hint.empty()) hint = " (fine if your HR system sends it; the SPEC's fields are employee_id, first_name, "
                             "last_name, email, department, job_title, location, manager_email, "
                             "employment_type, cost_center, phone)";
    out.push_back({rules.source(), ref.line, ref.column,
                   "field '" + ref.name + "' is not an event field and no event has carried it" + hint, true});
  }
  return out;
}

} // namespace h2r

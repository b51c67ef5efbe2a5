// An event's stored result (EventOutcome::result: what `events show` and the console read) written as
// text directly: the same bytes as nlohmann::json{{"why", …}, {"targets", …}, {"actions", [
// ActionReport::to_json() …]}}.dump(), at a fraction of the cost (no document built per event).
#pragma once

#include "engine/provisioner.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace h2r {

struct ResultTarget {
  std::string connection;
  std::string role;   // "" when the target has no role (deprovisioning)
};

// Appends ActionReport::to_json().dump() to `out`.
void append_report_json(std::string& out, const ActionReport& report);

// The whole result: {"actions": [...], "targets": [...], "why": ...}, as nlohmann would dump it.
std::string event_result_json(std::string_view why, const std::vector<ResultTarget>& targets,
                              const std::vector<ActionReport>& actions);

} // namespace h2r

// `h2rd plan --json`'s item for one planned event, shared with the console's /api/v1/events/{id}/plan.
#include "views/views.hpp"

#include "rules/short_path.hpp"

namespace h2r {

nlohmann::json planned_json(const PlannedEvent& p, long long now_ms, bool short_paths) {
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& intent : p.plan.intents)
    targets.push_back({{"connection", intent.connection},
                       {"role", intent.desired && !intent.desired->role.empty() ? nlohmann::json(intent.desired->role) : nlohmann::json()},
                       {"intent", to_string(intent.kind)}});
  nlohmann::json item = {
      {"id", p.queued ? nlohmann::json(p.event.id) : nlohmann::json()},
      {"event_id", p.event.event_id},
      {"type", to_string(p.event.type)},
      {"employee_id", p.event.employee_id},
      {"source", p.queued ? "queued" : p.event.source_file},
      {"state", to_string(p.event.state)},
      {"effective", time_json(p.event.effective_at_ms)},
      {"due", p.runs_at_ms ? time_json(*p.runs_at_ms) : nlohmann::json()},
      {"due_now", p.due_now(now_ms)},
      {"due_why", p.due_why.empty() ? nlohmann::json() : nlohmann::json(p.due_why)},
      {"blocked_by", p.blocked_by.empty() ? nlohmann::json() : nlohmann::json(p.blocked_by)},
      {"hold", p.hold.empty() ? nlohmann::json() : nlohmann::json(p.hold)},
      {"targets", targets},
      {"note", p.plan.note},
      {"deactivates", p.plan.deactivates()},
      {"actions", p.actions}};
  if (short_paths)
    for (auto& action : item["actions"])
      if (action.contains("calls"))
        for (auto& call : action["calls"])
          if (call.contains("changes"))
            for (auto& change : call["changes"])
              if (change.contains("path") && change["path"].is_string())
                change["short_path"] = short_scim_path(change["path"].get<std::string>());
  return item;
}

} // namespace h2r

#include "views/drift.hpp"

namespace h2r {

bool fixable_on_demand(const DriftItem& item) {
  return !item.employee_id.empty() && (item.kind == "missing" || item.kind == "attributes" || item.kind == "active_state");
}

nlohmann::json reconcile_json(const ReconcileReport& report, bool applied) {
  nlohmann::json drift = nlohmann::json::array();
  for (const auto& d : report.drift) {
    nlohmann::json changes = nlohmann::json::array();
    for (const auto& c : d.changes) changes.push_back({{"path", c.path}, {"zoom", c.before}, {"rules", c.after}});
    drift.push_back({{"connection", d.connection}, {"kind", d.kind}, {"employee_id", d.employee_id},
                     {"employee_ids", d.employee_ids}, {"userName", d.user_name}, {"user_id", d.user_id},
                     {"detail", d.detail}, {"changes", changes}, {"fixed", d.fixed}, {"fix_error", d.fix_error},
                     {"fixable", fixable_on_demand(d)}});
  }
  return {{"zoom_users", report.zoom_users}, {"employees_checked", report.employees_checked},
          {"in_sync", report.in_sync}, {"employees_drifted", report.employee_drift()},
          {"left_alone", report.left_alone}, {"unaccounted", report.unaccounted}, {"drift", drift},
          {"applied", applied}};
}

} // namespace h2r

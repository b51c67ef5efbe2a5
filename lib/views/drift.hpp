// Drift (`h2rd reconcile` and the console's Drift page): the reconciler's report as JSON, one builder
// for both, and which of its items an on-demand event fixes.
#pragma once

#include "engine/reconciler.hpp"

#include <nlohmann/json.hpp>

namespace h2r {

// {zoom_users, employees_checked, in_sync, employees_drifted, left_alone, unaccounted, applied, drift:
// [{connection, kind, employee_id, employee_ids, userName, user_id, detail, changes: [{path, zoom,
// rules}], fixed, fix_error, fixable}]}. `fixable`: an employee's missing user, attribute or active-state
// drift, which provisioning the employee on demand puts right (never an unaccounted or shared user).
nlohmann::json reconcile_json(const ReconcileReport& report, bool applied);

bool fixable_on_demand(const DriftItem& item);

} // namespace h2r

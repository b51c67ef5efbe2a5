// Reconciler: compares each connection's Zoom users with what the rules say every known employee
// should have, reports drift, and — only when asked — fixes it. Zoom users that no employee accounts
// for are reported and never touched.
#pragma once

#include "engine/connection_registry.hpp"
#include "engine/provisioner.hpp"
#include "rules/rules.hpp"
#include "store/store.hpp"

namespace h2r {

struct DriftItem {
  std::string connection;
  std::string kind;            // missing | attributes | active_state | unaccounted
  std::string employee_id;     // "" for unaccounted
  std::string user_name;
  std::string user_id;
  std::string detail;          // one phrase for people
  std::vector<AttributeChange> changes;
  bool fixed = false;
  std::string fix_error;
};

// employees_checked = in_sync + employees with drift (drift items other than unaccounted) + left_alone.
struct ReconcileReport {
  long long zoom_users = 0;
  long long employees_checked = 0;
  long long in_sync = 0;
  long long left_alone = 0;    // checked, but the rules have no opinion: on leave, unknown, on_no_role keep
  long long unaccounted = 0;   // Zoom users no employee accounts for (also in `drift`, kind unaccounted)
  std::vector<DriftItem> drift;

  long long employee_drift() const { return static_cast<long long>(drift.size()) - unaccounted; }
};

// `only`: one connection, or all that the rules name. With `apply`, missing users are created (or
// linked), attributes pushed and active states corrected; links are stored.
Result<ReconcileReport> reconcile(Store& store, ConnectionRegistry& connections, const Rules& rules,
                                  const std::optional<std::string>& only, bool apply, const Clock& clock);

} // namespace h2r

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
  std::string kind;            // missing | attributes | active_state | unaccounted | shared
  std::string employee_id;     // "" for unaccounted; shared: the first of employee_ids
  // shared: every employee linked to the Zoom user (two or more, by id); otherwise employee_id alone
  // ("" for unaccounted: none).
  std::vector<std::string> employee_ids;
  std::string user_name;
  std::string user_id;
  std::string detail;          // one phrase for people
  std::vector<AttributeChange> changes;
  bool fixed = false;
  std::string fix_error;
};

// employees_checked = in_sync + employees with drift (one per drift item other than unaccounted and
// shared, one per employee of a shared item) + left_alone.
struct ReconcileReport {
  long long zoom_users = 0;
  long long employees_checked = 0;
  long long in_sync = 0;
  long long left_alone = 0;    // checked, but the rules have no opinion: on leave, unknown, on_no_role keep
  long long unaccounted = 0;   // Zoom users no employee accounts for (also in `drift`, kind unaccounted)
  std::vector<DriftItem> drift;

  long long employee_drift() const;
};

// `only`: one connection, or all that the rules name. With `apply`, missing users are created (or
// linked), attributes pushed and active states corrected; links are stored. A Zoom user linked to two
// or more employees (links older than the one-employee-per-Zoom-user key, marked `shared` by the
// schema migration) is reported once, kind shared, naming every such employee, and never changed,
// not even with `apply`: those employees' events are held as conflicts until an operator decides.
Result<ReconcileReport> reconcile(Store& store, ConnectionRegistry& connections, const Rules& rules,
                                  const std::optional<std::string>& only, bool apply, const Clock& clock);

} // namespace h2r

// Reconciler: compares each connection's Zoom users with what the rules say every known employee
// should have, reports drift, and — only when asked — fixes it. Zoom users that no employee accounts
// for are reported and never touched.
#pragma once

#include "config/config.hpp"
#include "engine/connection_registry.hpp"
#include "engine/provisioner.hpp"
#include "rules/rules.hpp"
#include "store/store.hpp"

#include <chrono>
#include <functional>

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

// How `reconcile` retries a Zoom call (a page of the users list, or one fix) that failed with a
// transient error (5xx, timeout, reset, a 429 not waited out inside the call): at most max_attempts
// tries in all, waiting between them as the daemon waits between an event's attempts (engine/backoff.hpp
// with retry.base and retry.max), or until Zoom's Retry-After when that is later. A wait longer than
// max_wait is not made: the error ends reconcile then.
struct ReconcileRetry {
  int max_attempts = 1;                              // 1: no retry
  std::chrono::milliseconds base{30'000};
  std::chrono::milliseconds max{10'000};
  std::chrono::milliseconds max_wait{10'000};
  std::function<void(std::chrono::milliseconds)> sleep;   // empty: a real sleep
};
inline constexpr int k_reconcile_max_attempts = 5;
inline constexpr std::chrono::milliseconds k_reconcile_max_wait{10'000};
// The retries `h2rd reconcile` makes with `config`: min(retry.max_attempts, k_reconcile_max_attempts)
// tries, retry.base doubling up to min(retry.max, k_reconcile_max_wait).
ReconcileRetry reconcile_retry(const Config& config);

// `only`: one connection, or all that the rules name. With `apply`, missing users are created (or
// linked), attributes pushed and active states corrected; links are stored. A Zoom user linked to two
// or more employees (links older than the one-employee-per-Zoom-user key, marked `shared` by the
// schema migration) is reported once, kind shared, naming every such employee, and never changed,
// not even with `apply`: those employees' events are held as conflicts until an operator decides.
Result<ReconcileReport> reconcile(Store& store, ConnectionRegistry& connections, const Rules& rules,
                                  const std::optional<std::string>& only, bool apply, const Clock& clock,
                                  const ReconcileRetry& retry = {});

} // namespace h2r

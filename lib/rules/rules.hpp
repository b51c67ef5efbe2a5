// Rules: the admin's rules.yaml — who goes to which Zoom account, with which role, licenses and
// attributes, and how each lifecycle stage acts (docs/man/h2r-rules.5).
#pragma once

#include "core/diagnostic.hpp"
#include "core/expected.hpp"
#include "hr/event.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace h2r {

enum class OnNoRole { deprovision, keep };
enum class LeaveAction { keep, deactivate };
enum class TerminateAction { deactivate, remove };   // remove = SCIM DELETE

struct Lifecycle {
  int hire_lead_days = 0;
  std::map<LeaveType, LeaveAction> leave{{LeaveType::long_term, LeaveAction::deactivate},
                                         {LeaveType::fmla, LeaveAction::keep},
                                         {LeaveType::legal, LeaveAction::keep},
                                         {LeaveType::security, LeaveAction::deactivate}};
  TerminateAction terminate = TerminateAction::deactivate;
  std::set<EventType> supervised;          // these lifecycles wait for `h2rd events approve`
  // lifecycle.resync.deprovision: a resync (a rules edit) that would deactivate, delete or take a
  // license or user type away waits for `h2rd events approve` (true, the default), or runs (false: "auto").
  bool resync_deprovision_supervised = true;
  // lifecycle.guard: at most guard_max deactivations, deletions and license or user type downgrades
  // within any guard_per, across every daemon; a set of changes (one inbox file, one rules edit's
  // resync) that would pass it is held whole (lib/engine/engine_claims.cpp). The old key
  // lifecycle.guard.max_deactivations_per_cycle is read as max.
  int guard_max = 50;
  std::chrono::milliseconds guard_per{3'600'000};
};
// lifecycle.guard.per's range: a window shorter than a second counts nothing, and the store keeps a
// week of reservations (Store::reserve_guard).
inline constexpr std::chrono::milliseconds k_guard_per_min{1'000};
inline constexpr std::chrono::milliseconds k_guard_per_max{7LL * 24 * 3'600'000};

// The Zoom user an employee should have in one connection.
struct DesiredUser {
  std::string role;                 // name of the matching role
  std::string user_name;            // the SCIM userName (an e-mail); "" when its template rendered empty
  // The SCIM user body: "schemas" (only the URNs in use), "userName" and every attribute the rules
  // produce (core, enterprise extension, Zoom extensions), roles/userType from the role. Never "id" or
  // "active": those are the engine's.
  nlohmann::json body;
  // Zoom group display names: each role's groups entry rendered for the employee (distinct, file order).
  std::vector<std::string> groups;
  // The groups entries (as written) that rendered empty for this employee: left out, not a problem.
  std::vector<std::string> groups_left_out;
  // Non-empty: the rules produced a value Zoom must not get (a text above its path's length limit,
  // scim_paths.hpp); that attribute is left out of `body`, and the provisioner fails the event with
  // this reason before sending anything.
  std::string problem;
};

// A rendered group name longer than this (UTF-8 code points), or with a control character, fails the
// event before any call (DesiredUser::problem): Zoom's group names are short display texts.
inline constexpr std::size_t k_max_group_name_chars = 128;

struct TargetDecision {
  std::string connection;
  std::optional<DesiredUser> desired;   // nullopt: no role matched (on_no_role applies)
};

// A name the rules refer to — a target's connection, an employee field — and where it is written
// (1-based line and column in the rules file; 0 when unknown).
struct RuleReference {
  std::string name;
  int line = 0;
  int column = 0;
  // For a field: it decides who gets which Zoom user — used in a condition (targets, roles) or in the
  // userName / e-mail address — so a misspelt name changes whose account is touched.
  bool decides = false;
};

// Why the rules decide as they do for one employee (`h2rd provision`, the console's Preview): per
// target in file order, whether its `when` takes the employee and, when not, the condition that
// failed; per role in order up to the first that matches, whether it matched and, when not, why not.
struct RoleTrace {
  std::string role;
  bool matched = false;
  std::string why_not;       // the failing condition, e.g. "department is 'Sales', not 'engineering' (line 12)"
};
struct TargetTrace {
  std::string connection;
  bool taken = false;
  std::string why_not;       // when the target's `when` does not take the employee
  std::vector<RoleTrace> roles;   // up to and including the first that matches (all when none does)
};

class Rules {
public:
  virtual ~Rules() = default;
  virtual const std::string& version() const = 0;       // short content hash of the file
  virtual const std::string& source() const = 0;        // file path (or display name)
  virtual const Lifecycle& lifecycle() const = 0;
  virtual OnNoRole on_no_role() const = 0;
  virtual std::vector<std::string> connections() const = 0;     // every connection a target names
  virtual std::set<std::string> referenced_fields() const = 0;  // employee fields used anywhere
  virtual std::vector<RuleReference> connection_references() const = 0;  // one per target, file order
  // Each employee field the rules use (conditions and templates), once, at the first place it appears.
  virtual std::vector<RuleReference> field_references() const = 0;
  // The group names of the roles' groups entries without a placeholder (the same for every employee),
  // distinct, in file order; the other entries are templates (`h2rd connection test --groups`).
  virtual std::vector<std::string> literal_groups() const = 0;
  // The HR fields the rules declare beyond the event format's (`hr_fields: [zone, badge]`).
  virtual const std::vector<std::string>& declared_fields() const = 0;
  // For each target whose `when` matches: the role (first match) and the Zoom user it gives.
  // Targets that do not match the employee are absent from the result.
  virtual std::vector<TargetDecision> decide(const EmployeeRecord& record) const = 0;
  // Every target, as decide() walks them, with why (TargetTrace). Empty for rules that cannot say.
  virtual std::vector<TargetTrace> trace(const EmployeeRecord& record) const {
    (void)record;
    return {};
  }
  virtual const Diagnostics& warnings() const = 0;
};

using RulesPtr = std::shared_ptr<const Rules>;

// Loads and validates rules; on any error, every problem found (file:line:col, sorted by place; warnings
// included) and no rules. On success, warnings() holds the warnings (unknown license names, roles that
// can never match).
Expected<RulesPtr, Diagnostics> load_rules_file(const std::string& path);
Expected<RulesPtr, Diagnostics> load_rules_text(const std::string& text, const std::string& display_name);

// The employee fields the event format of docs/man/h2r-events.5 names (employee_id, first_name, ... phone), sorted.
const std::vector<std::string>& spec_event_fields();

// What `h2rd check` adds to the loader's own checks, against the installation: a target naming a
// connection not in `connections` is an error (with a "did you mean"); nullopt = no connection list
// at hand, not checked.
Diagnostics check_connection_references(const Rules& rules, const std::optional<std::vector<std::string>>& connections);
// The fields the rules use, once per field at its first place, with a "did you mean": a field that
// decides (RuleReference::decides) and is neither an event field (spec_event_fields) nor declared in
// `hr_fields` is an error — a typo there silently matches no one or sends an empty login; any other
// field that is neither, nor in `seen_fields` (fields events have carried), is a warning.
Diagnostics check_field_references(const Rules& rules, const std::set<std::string>& seen_fields);
// Both of the above.
Diagnostics check_references(const Rules& rules, const std::optional<std::vector<std::string>>& connections,
                             const std::set<std::string>& seen_fields);

} // namespace h2r

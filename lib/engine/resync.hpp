// Resync: what a rules edit changes at Zoom. For every employee with a link, the desired state under
// the new rules (planned exactly as a `resync` event will be) against what was last pushed (the link's
// digest); each employee that differs gets one `resync` event. The daemon (on reload and at start) and
// `h2rd plan --rules` both call diff_rules, so they name the same employees.
#pragma once

#include "engine/planner.hpp"
#include "engine/provisioner.hpp"

#include <nlohmann/json.hpp>

namespace h2r {

// The source_file of the resync events a rules edit queues: k_resync_source_prefix (hr/event.hpp), then
// the new rules' version.

// One linked Zoom user whose last push differs from what the new rules want.
struct ResyncChange {
  std::string connection;
  std::string user_name;
  std::string action;                   // "update", "reactivate" or "deprovision"
  std::string role_before;              // the old rules' role ("" = none or unknown)
  std::string role_after;               // the new rules' role ("" = none)
  std::vector<AttributeChange> changes; // old → new per SCIM path (cleared paths end "" / false / [])
};

struct ResyncItem {
  std::string employee_id;
  std::vector<ResyncChange> changes;
  std::map<std::string, DesiredUser> base;   // the old rules' desired users: the resync's clearing base
};

struct ResyncTotals {
  int employees = 0;
  int role_moves = 0;
  int licenses_on = 0;
  int licenses_off = 0;
  int attributes = 0;    // other attribute changes (userType, title, ...), one per path per user
  int deprovisions = 0;
  int reactivations = 0;
};

struct ResyncDiff {
  std::string from_version;   // "" when the old rules are unknown
  std::string to_version;
  std::vector<ResyncItem> items;   // by employee_id
  ResyncTotals totals;
  nlohmann::json to_json() const;
};

// `old_rules` may be null (unknown: no old values, nothing to clear). Reads employees and links only.
Result<ResyncDiff> diff_rules(Store& store, const Rules* old_rules, const Rules& new_rules);

struct ResyncQueued {
  int queued = 0;
  int already_open = 0;   // an unfinished resync of that employee exists: not queued again
};

// Queues one `resync` per item of `diff` in one transaction, event_id "resync-<version>-<employee>",
// effective and due now.
Result<ResyncQueued> queue_resyncs(Store& store, const ResyncDiff& diff, long long now_ms);

// With rules.on_change: manual, the rules Zoom still reflects are kept in the store (meta) until
// `h2rd resync` queues the resyncs: they are its clearing base.
struct ResyncBase {
  bool known = false;        // a base is kept
  std::string version;
  RulesPtr rules;            // null when its text is not stored or no longer loads
};
ResyncBase load_resync_base(Store& store);
Result<void> save_resync_base(Store& store, const std::string& version, const std::string& text);
Result<void> clear_resync_base(Store& store);

// The event_id of the resync of `employee_id` for rules `version`.
std::string resync_event_id(const std::string& version, const std::string& employee_id);

} // namespace h2r

// The JSON shapes shared by the CLI's `--json` outputs and the console's /api/v1: an event (raw data,
// null where absent), its history, `h2rd status`, the ATTENTION items. One builder each, so the CLI
// and the API never disagree.
#pragma once

#include "config/config.hpp"
#include "engine/dry_run.hpp"
#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace h2r {

// "2026-11-28T10:15:00Z", or "-" for 0.
std::string time_text(long long unix_ms);
// For JSON: the same text, or null for 0 (absent).
nlohmann::json time_json(long long unix_ms);

// An event; `full` adds the HR fields, approval, rules version, result (what was decided and done) and
// the received/updated times.
nlohmann::json event_json(const EventRow& e, bool full, long long now_ms);
nlohmann::json history_json(const std::vector<EventHistoryRow>& history);
// `h2rd events show ID --json` and GET /api/v1/events/{id}: the full event plus the employee's `name`,
// their `zoom_users` (connection, zoom_user_id, user_name, active), the `changes` its result records
// (event_changes_json) and the `history`.
Result<nlohmann::json> event_detail_json(Store& store, const EventRow& e, long long now_ms);

// The names people know employees by, for lists of events (`h2rd events list`, the console's event
// lists; issue 27: "names in every event list"): the event's own first_name and last_name when it
// carries them, else those of the employee's last known record — a terminate often carries only the
// id. One store lookup per employee, kept for the object's life; "" when h2r knows no name.
// The employee's links to Zoom users, one per connection that has one (connection, Zoom user id,
// userName, active), for an event's detail and the employee page.
Result<std::vector<LinkRow>> links_of(Store& store, const std::string& employee_id);

// "First Last" from a record's first_name and last_name (either may be missing); "" with neither.
std::string record_name(const EmployeeRecord& record);

// title_of: the job_title the same way (the event's, else the last known record's), for the console's
// Review rows.
class EmployeeNames {
public:
  explicit EmployeeNames(Store& store) : m_store(store) {}
  std::string of(const EventRow& e);
  std::string title_of(const EventRow& e);

private:
  // The employee's last known record ({} when h2r has none or cannot read it), read once.
  const EmployeeRecord& record_of(const std::string& employee_id);
  Store& m_store;
  std::map<std::string, EmployeeRecord> m_records;
};

// Why a held event is held, as a word the console groups by: "guard" (the mass-deactivation guard held
// its file or resync), "supervised" (lifecycle.supervised or lifecycle.resync.deprovision),
// "conflict" (its Zoom user is another employee's), "approval" (any other hold); "" when not held.
// event_json carries it as "hold".
std::string hold_kind(const EventRow& e);

// What an open event takes away, for a badge beside it: "deletes" or "deactivates" (a terminate, by
// lifecycle.terminate; a leave whose type lifecycle.leave deactivates; a supervised resync, by its
// reason), "takes away" (a guard-held change that downgrades a license or user type), else "".
std::string event_effect(const EventRow& e, const Lifecycle& lifecycle);

// GET /api/v1/employees?q=QUERY&limit=&offset=: the employees h2r keeps whose id, name (first, last,
// or both), e-mail or a Zoom userName contains QUERY — Unicode case aside, or diacritics and script
// aside ("okafor" finds "Okafor", "alund" "Ålund"); every employee for an empty QUERY. Ordered by last
// name, first name, id: {"employees": [{employee_id, name, email, title, department, status,
// zoom_users: [{connection, user_name, active}], updated}], "total", "offset", "limit", "more"}.
// It reads every employee and link (one pass, no index): for a console, not a hot path.
Result<nlohmann::json> employee_search_json(Store& store, std::string_view query, int limit, int offset);

// The attribute changes an event made, from its result: [{connection, path, short_path (as rules.yaml
// writes it), before, after}]; [] when it recorded none.
nlohmann::json event_changes_json(const EventRow& e);

// One planned event as `h2rd plan --json` lists it: due, hold, targets, note and per connection the
// calls (method, path, summary) with their attribute changes {path, before, after}; `short_paths` adds
// each change's short_path (short_scim_path: the name rules.yaml uses).
nlohmann::json planned_json(const PlannedEvent& p, long long now_ms, bool short_paths = false);

// Why an open event has not run yet, e.g. "waits until 2026-12-05T00:00:00Z (effective date)";
// "" for a final event or one that is due.
std::string wait_text(const EventRow& e, long long now_ms);

// One item per thing that needs a person, in this order: the daemon stuck (or, with daemon_state
// "late", no daemon's heartbeat recent), a failed rules reload,
// failed events, held events, rejected files in the inbox, each unhealthy or paused connection.
// Each item: {"kind", "message"} plus "count" (events, files) or "connection"; rejected files also
// carry "newest" (a file name) and "report" (the path of its NAME.error.txt).
nlohmann::json attention_items(Store& store, const Config& config, const nlohmann::json& queue,
                               const std::string& rules_error, const std::string& daemon_state, long long now_ms);

// `h2rd status --json`: daemon (state running/stuck/late/stopped: the daemon pid recorded for this host
// when it runs, else the store's heartbeats; here, live/late/gone counts), queue, connections, rules,
// last_cycle, daemons (every daemon row on the database: owner, host, pid, version, state live/late/gone
// (ops/liveness.hpp daemon_row_state), started, heartbeat, heartbeat_age_s, claims, claims_until, leader;
// null when the store cannot list them), config, attention (first one daemon_gone item per gone daemon
// that still holds claims). Error when the store cannot be read.
Result<nlohmann::json> status_json(Store& store, const Config& config, long long now_ms);

} // namespace h2r

// Provisioner: carries one Intent out against one Zoom connection — the only engine code that calls
// Zoom. It looks a user up by userName before every create (also on retries and after restarts), so a
// create whose answer was lost never makes a second user. In dry-run mode (`h2rd plan`) it makes only
// GET calls and reports the writes it would make, with the attribute diff.
//
// Diffs are old → new: against the link's last pushed body (LinkRow::pushed_body) with Zoom's answer
// over it where h2r read one (a user found by userName; in dry run, GET /Users/{id}), and list only
// the paths whose value changes. Groups: h2r adds the user to the groups the rules give, records the
// ones it added (LinkRow::pushed_groups), and removes the user from a recorded group the rules no
// longer give (PATCH /Groups/{id}, remove member). A group the user was already in (Zoom's group
// lookup lists the user among its members) is someone else's: not added, not recorded, never removed.
//
// Steps are recorded when Zoom confirms them, not when the event ends: with a step recorder set, a
// create and each group add or removal is written at once (the link as it stands then: the body pushed,
// the groups h2r holds, no digest — so a retry does the rest instead of taking the "already pushed"
// short cut). A retry after a partial failure, or after a crash, then knows a group it finds the user
// in was its own add. An update or reactivation is recorded with the next step, or by the outcome.
#pragma once

#include "engine/planner.hpp"
#include "engine/scim_body.hpp"
#include "zoom/scim_client.hpp"

#include <functional>

namespace h2r {

struct PlannedCall {
  std::string method;      // POST PUT PATCH DELETE
  std::string target;      // user or group id; for a create, the userName
  std::string resource = "Users"; // the SCIM resource called: "Users" or "Groups"
  std::string summary;     // "create", "update", "deactivate", ...
  std::vector<AttributeChange> changes;
};

// The Zoom user id a dry run gives a user it would create (`h2rd plan`: later events of the same
// plan update "(new)").
inline constexpr const char* k_planned_user_id = "(new)";
// The id a dry run gives a group it would create (zoom.create_missing_groups).
inline constexpr const char* k_planned_group_id = "(new group)";

struct ActionReport {
  std::string connection;
  std::string action;      // created linked updated reactivated deactivated deleted unchanged absent skipped
  std::string user_id;
  std::string user_name;
  std::vector<PlannedCall> calls;       // writes made (or, in dry run, that would be made)
  std::optional<LinkRow> link;          // to store
  bool remove_link = false;
  nlohmann::json to_json() const;
};

// The links of the connection to Zoom user `zoom_user_id` or to userName `user_name` (case aside; ""
// matches nothing): Store::links_to_zoom_user for the intent's connection.
using OwnerLookup = std::function<Result<std::vector<LinkRow>>(const std::string& zoom_user_id,
                                                               const std::string& user_name)>;

// Reserves the login `user_name` for the employee (Store::reserve_user_name in the intent's connection,
// the userName folded): "" when it is the employee's now, else the id of the employee who holds it.
using NameReserver = std::function<Result<std::string>(const std::string& user_name)>;

// Writes `link` (the intent's link as it stands after a step Zoom confirmed): Store::put_link.
using StepRecorder = std::function<Result<void>(const LinkRow& link)>;

class Provisioner {
public:
  Provisioner(ScimClient& client, bool dry_run, long long now_ms) : m_client(client), m_dry_run(dry_run), m_now_ms(now_ms) {}

  // Ownership (h2r-events(5), Conflicts): with a lookup set, a Zoom user linked to another employee is
  // never changed, linked or deactivated for this one. Before it would (a user found by userName, a
  // desired userName another employee's link has) the call fails with reason owned_by_another, naming
  // both employees and the user, and nothing has been written at Zoom for this intent. Without one
  // (a dry run) nothing is checked.
  void set_owner_lookup(OwnerLookup lookup) { m_owners = std::move(lookup); }
  // With a reserver set (and not in dry run), check_owner also reserves the userName before the call it
  // guards: a login another employee holds (reserved by a daemon about to create it, say) is that
  // employee's, and the intent fails with owned_by_another as above.
  void set_name_reserver(NameReserver reserver) { m_reserve = std::move(reserver); }
  // With a recorder set (and not in dry run), each step is recorded when Zoom confirms it (see above).
  // A step whose record fails ends the intent with a transient error (the retry does the rest).
  void set_step_recorder(StepRecorder recorder) { m_record = std::move(recorder); }

  Result<ActionReport> carry_out(const Intent& intent, const std::string& employee_id);

private:
  // owned_by_another when a link of another employee than `employee_id` has Zoom user `zoom_user_id`
  // or userName `user_name` (either "" = not asked), or when another employee holds the reservation of
  // `user_name` (then nothing is reserved; otherwise the employee holds it after the call).
  Result<void> check_owner(const Intent& intent, const std::string& employee_id, const std::string& zoom_user_id,
                           const std::string& user_name);
  // Zoom's answer to a create or update must name the user sent (userName, case aside; an answer
  // without one says nothing); else a permanent error quoting the answer (server_text: bounded,
  // credentials redacted).
  static Result<void> check_answer(const ScimUser& answer, const std::string& sent_user_name, std::string_view what);
  // provision / update_existing: the linked user updated; else the user found by userName linked, or
  // (provision only) created.
  Result<ActionReport> provision(const Intent& intent, const std::string& employee_id);
  // The linked user (intent.link) updated, reactivated when wanted, its groups synced: true. False when
  // Zoom no longer has it (the report then drops the link, and the caller looks the userName up afresh).
  Result<bool> update_linked(ActionReport& report, const Intent& intent, const std::string& employee_id,
                             nlohmann::json& body, const std::vector<ScimGroup>& groups);
  // POST the desired user (no userName found), record it, then add it to its groups; when Zoom answers
  // that it exists, link_found instead.
  Result<ActionReport> create(ActionReport report, const Intent& intent, const std::string& employee_id,
                              nlohmann::json body, const std::vector<ScimGroup>& groups);
  // Links `user` (found by userName, so its groups are someone else's): updated against Zoom's answer,
  // reactivated when wanted, added to the desired groups.
  Result<ActionReport> link_found(ActionReport report, const Intent& intent, const std::string& employee_id,
                                  const ScimUser& user, nlohmann::json body, const std::vector<ScimGroup>& groups);
  Result<ActionReport> deprovision(const Intent& intent, const std::string& employee_id);
  // PUT `body`, reporting the paths that change from `before` (flatten_scim form; empty = unknown).
  Result<void> push_update(ActionReport& report, const std::string& id, const nlohmann::json& body,
                           const std::map<std::string, nlohmann::json>& before);
  Result<void> push_active(ActionReport& report, const std::string& id, bool active);
  // The desired groups as Zoom has them, looked up before any other write. A group the rules name that
  // does not exist is a permanent error, and nothing has been changed yet — unless the connection
  // creates missing groups (ScimClient::creates_missing_groups): then it is created (POST /Groups, a
  // call in `report`; in dry run only reported, with id k_planned_group_id). A create Zoom refuses
  // because the name exists (another event made it meanwhile: 409) looks the group up again.
  Result<std::vector<ScimGroup>> resolve_groups(ActionReport& report, const DesiredUser& desired);
  // A group `name` created (or found after Zoom's 409), for resolve_groups.
  Result<ScimGroup> create_group(ActionReport& report, const std::string& name);
  // Adds user `link.zoom_user_id` to each desired group it is not in, removes it from each group in
  // `link.pushed_groups` (the groups h2r added before) that is not desired, and leaves in
  // link.pushed_groups the groups to record now — also after each add or removal Zoom confirmed, when
  // it records that step (record_step). `legacy`: a link h2r pushed to before it kept pushed bodies
  // and groups (no pushed body, a digest), when it added every group the rules gave — a desired group
  // the user is already in is then taken as h2r's. Any doubt (no digest: a link the reconciler made
  // up, or one only ever deactivated) is not legacy.
  Result<void> sync_groups(ActionReport& report, const std::vector<ScimGroup>& desired, LinkRow& link, bool legacy);
  // Records `link` as it stands after a step Zoom confirmed, without its digest (the intent is not all
  // done); nothing in dry run or without a recorder.
  Result<void> record_step(LinkRow& link, std::string_view step);
  // `desired_text`: intent.desired->body.dump() when the caller has it ("": dump it here).
  LinkRow make_link(const Intent& intent, const std::string& employee_id, const std::string& id,
                    const std::string& user_name, bool active, std::string_view desired_text = {}) const;
  // make_link, recording `body` as pushed now and `groups` as the groups h2r added.
  LinkRow pushed_link(const Intent& intent, const std::string& employee_id, const std::string& id,
                      const std::string& user_name, bool active, nlohmann::json body,
                      std::vector<PushedGroup> groups, std::string_view desired_text = {}) const;

  ScimClient& m_client;
  OwnerLookup m_owners;
  NameReserver m_reserve;
  StepRecorder m_record;
  bool m_dry_run;
  long long m_now_ms;
};

// The store's side of ownership for a Provisioner acting on `employee_id` in `connection`: the owner
// lookup (Store::links_to_zoom_user), the login reservation (Store::reserve_user_name, the userName
// folded by fold_case, stamped with now_ms()) and the step recorder (Store::put_link). Every Provisioner
// that writes to Zoom for an employee gets all three.
void bind_to_store(Provisioner& provisioner, Store& store, const std::string& connection,
                   const std::string& employee_id, std::function<long long()> now_ms);

// Reserves the login of every link (Store::reserve_user_name), once per database: links stored before
// reservations existed, or copied by `h2rd migrate`, then hold theirs as new ones do. Marked done in
// meta (k_meta_logins_reserved); a login two employees' links share (a pair from before the one-link
// rule) stays the first one's, logged. Returns how many logins it reserved.
Result<int> reserve_linked_logins(Store& store, long long now_ms);

} // namespace h2r

// Planner: the pure part of the engine. From an event, what h2r knew of the employee before, the
// employee's links and the rules, it decides what should happen in each Zoom connection — without
// touching the network or the store. The Provisioner carries the intents out. What a SCIM body holds,
// clears and digests to is scim_body.hpp's (the planner uses it for Intent::cleared and already_pushed).
#pragma once

#include "engine/scim_body.hpp"
#include "rules/rules.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace h2r {

enum class IntentKind {
  provision,        // the user should exist, be active and match `desired` (create/link/reactivate/update)
  update_existing,  // update the user if one exists; never create, never reactivate
  deactivate,       // the user, if any, should be inactive
  remove,           // the user, if any, should be deleted
};
std::string_view to_string(IntentKind kind);

struct Intent {
  std::string connection;
  IntentKind kind = IntentKind::provision;
  std::optional<DesiredUser> desired;       // provision/update_existing: what the user should look like
  std::optional<LinkRow> link;              // the employee's link in this connection, if any
  std::string user_name;                    // who to look up when there is no link
  // Attribute paths (flatten_scim form) h2r pushed last (the link's pushed_body) that the rules no
  // longer produce, each with the value that clears it at Zoom: "" for text, false for a flag (a
  // license the new role does not grant), [] for a list. Without a pushed body (a link from before
  // schema version 6, or no link): the paths the rules produced for the employee's previous record
  // and no longer produce. Empty when neither is known.
  std::map<std::string, nlohmann::json> cleared;
  std::string why;                          // one phrase for people: "hire", "no role matches", ...
  // Push the whole user even when the link says Zoom was last given exactly this (already_pushed): an
  // event provisioned on demand (source k_on_demand_source_prefix, hr/event.hpp, then who asked:
  // "cli:alice", "console:alice") puts right what was changed in Zoom by hand.
  bool push_anyway = false;
};

struct EventPlan {
  EmployeeRow employee;                     // the employee after this event
  std::vector<Intent> intents;
  std::string note;                         // when there is nothing to do: why (becomes the skip reason)
  // Non-empty when the event waits for an operator (a conflict, h2r-events(5), Conflicts): the engine
  // holds it with this reason unless it is approved. Set for a hire/rehire that gives a known
  // employee id another person's name and address ("employee id reused?").
  std::string conflict;
  // False for an event about an employee h2r has no record of (other than a hire or rehire): it is
  // skipped and leaves no record behind, so a later event cannot act on what it carried.
  bool store_employee = true;
  // Non-empty when a late event changes nothing that later-dated events leave (engine/date_order.hpp):
  // it ends `superseded` with this reason, without a Zoom call.
  std::string superseded;
  bool deactivates() const;                 // any deactivate/remove intent (`h2rd plan --json`; the guard uses takes_away)
};

// The employee's status after an event of `type`: a hire, rehire or return makes it active, a leave on
// leave, a terminate terminated; an update or resync keeps `before`.
HrStatus status_after(EventType type, HrStatus before);

// The note (skip reason) of an event for an employee id h2r has no record of.
inline constexpr std::string_view k_unknown_employee = "unknown employee";

// "" unless `fields` (a hire's or rehire's) give the employee `before` another person's identity: the
// e-mail address differs (case aside) and so does the name (neither first nor last name is the same,
// case aside). Then the conflict reason, naming both.
std::string identity_change(const EmployeeRecord& before, const FieldPatch& fields, const std::string& employee_id);

// `links` are the employee's links in every connection.
EventPlan plan_event(const EventRow& event, const std::optional<EmployeeRow>& before,
                     const std::vector<LinkRow>& links, const Rules& rules);

// True when the link says exactly this intent was last pushed (nothing to send): the provisioner's
// shortcut and the resync differ's "no change".
bool already_pushed(const Intent& intent);

// A resync event carries, in this field, the desired users (per connection) of the rules it replaces:
// what the last push gave, so the resync turns off what those rules gave and the new ones do not.
// ONE PLACE: when links store the last pushed body, clear from that instead.
inline constexpr std::string_view k_resync_base_field = "resync.base";
std::map<std::string, DesiredUser> resync_clearing_base(const EventRow& event);
std::string resync_clearing_base_text(const std::map<std::string, DesiredUser>& base);

} // namespace h2r

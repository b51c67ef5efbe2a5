// SCIM user bodies as values: flattening, the values that clear an attribute, the PUT and POST bodies,
// old → new diffs and the digest a link stores. Pure functions, no network and no store: the planner
// uses them to say what to clear (Intent::cleared), the provisioner to build what it sends and what it
// reports, the resync differ and the reconciler to show what would change.
//
// Paths are in flatten_scim form: "a.b.c" for nested objects, an extension's URN as one key
// ("urn:…:enterprise:2.0:User.manager.value"); arrays are leaves.
#pragma once

#include "rules/rules.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace h2r {

struct AttributeChange {
  std::string path;
  nlohmann::json before;   // null when unknown or absent
  nlohmann::json after;    // null when cleared
};

// Flattens a SCIM body into "a.b.c" → leaf value (arrays are leaves); the "schemas" key is left out.
std::map<std::string, nlohmann::json> flatten_scim(const nlohmann::json& body);

// The clearing values of the paths `before` has and `now` lacks (see Intent::cleared): "" for text,
// false for a flag, [] for a list, null for a number.
std::map<std::string, nlohmann::json> cleared_attributes(const DesiredUser& before, const DesiredUser& now);

// The clearing values of the paths the last pushed body has and `now` lacks (see Intent::cleared).
// A pushed value that already clears ("", false, [], null) needs nothing more; "active" is not an
// attribute (it has its own PATCH).
std::map<std::string, nlohmann::json> cleared_from_pushed(const nlohmann::json& pushed, const DesiredUser& now);

// SHA-256 (hex) of a desired user and its active state: equal digests mean nothing to push.
std::string desired_digest(const DesiredUser& desired, bool active);
// The same from `body_text`, which is desired.body.dump() (the provisioner dumps the body once).
std::string desired_digest(const DesiredUser& desired, bool active, std::string_view body_text);

// The PUT body for `desired`: its body plus, for each path the rules no longer produce, the value that
// clears it (Intent::cleared); "schemas" then names every extension the body uses.
nlohmann::json update_body(const DesiredUser& desired, const std::map<std::string, nlohmann::json>& cleared);

// The text of `body` (an object whose dump() is `body_text`) with "active": true added, as
// nlohmann would dump that document: the create's POST body, without a second dump.
std::string with_active_true(const nlohmann::json& body, std::string_view body_text);

// The changes a create of `body` (the desired body, "active": true added) reports: every attribute,
// as diff_user against nothing gives them.
std::vector<AttributeChange> create_changes(const nlohmann::json& body);

// What changes from `current` (a Zoom user, may be null) to `desired`.
std::vector<AttributeChange> diff_user(const nlohmann::json& current, const nlohmann::json& desired);
// What changes from `before` (flatten_scim form) to `desired`: the paths of `desired` whose value
// differs, with the old value (null when `before` lacks the path).
std::vector<AttributeChange> diff_flat(const std::map<std::string, nlohmann::json>& before,
                                       const nlohmann::json& desired);
// What h2r knows of a user before a push, flattened: `pushed` (the last pushed body, may be null) with
// `zoom` (Zoom's answer, may be null) over it — Zoom's value wins where its answer has the path.
std::map<std::string, nlohmann::json> known_before(const nlohmann::json& pushed, const nlohmann::json& zoom);

} // namespace h2r

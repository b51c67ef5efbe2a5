// Provisioner: carries one Intent out against one Zoom connection — the only engine code that calls
// Zoom. It looks a user up by userName before every create (also on retries and after restarts), so a
// create whose answer was lost never makes a second user. In dry-run mode (`h2rd plan`) it makes only
// GET calls and reports the writes it would make, with the attribute diff.
#pragma once

#include "engine/planner.hpp"
#include "zoom/scim_client.hpp"

namespace h2r {

struct AttributeChange {
  std::string path;
  nlohmann::json before;   // null when unknown or absent
  nlohmann::json after;    // null when cleared
};

struct PlannedCall {
  std::string method;      // POST PUT PATCH DELETE
  std::string target;      // user or group id; for a create, the userName
  std::string resource = "Users"; // the SCIM resource called: "Users" or "Groups"
  std::string summary;     // "create", "update", "deactivate", ...
  std::vector<AttributeChange> changes;
};

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

class Provisioner {
public:
  Provisioner(ScimClient& client, bool dry_run, long long now_ms) : m_client(client), m_dry_run(dry_run), m_now_ms(now_ms) {}

  Result<ActionReport> carry_out(const Intent& intent, const std::string& employee_id);

private:
  Result<ActionReport> provision(const Intent& intent, const std::string& employee_id);
  Result<ActionReport> deprovision(const Intent& intent, const std::string& employee_id);
  Result<void> push_update(ActionReport& report, const std::string& id, const nlohmann::json& body,
                           const nlohmann::json* current);
  Result<void> push_active(ActionReport& report, const std::string& id, bool active);
  // The Zoom ids of the desired groups (name, id), looked up before any write: a group the rules name
  // that does not exist is a permanent error, and nothing has been changed yet.
  Result<std::vector<std::pair<std::string, std::string>>> resolve_groups(const DesiredUser& desired);
  Result<void> join_groups(ActionReport& report, const std::vector<std::pair<std::string, std::string>>& groups,
                           const std::string& id);
  LinkRow make_link(const Intent& intent, const std::string& employee_id, const std::string& id,
                    const std::string& user_name, bool active) const;

  ScimClient& m_client;
  bool m_dry_run;
  long long m_now_ms;
};

// The PUT body for `desired`: its body plus, for each path the rules no longer produce, the value that
// clears it (Intent::cleared); "schemas" then names every extension the body uses.
nlohmann::json update_body(const DesiredUser& desired, const std::map<std::string, nlohmann::json>& cleared);

// What changes from `current` (a Zoom user, may be null) to `desired`.
std::vector<AttributeChange> diff_user(const nlohmann::json& current, const nlohmann::json& desired);

} // namespace h2r

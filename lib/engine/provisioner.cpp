// Provisioner: one intent carried out against one connection (see provisioner.hpp); the SCIM bodies
// it sends, diffs and digests come from scim_body.hpp.
#include "engine/provisioner.hpp"

#include "core/text.hpp"
#include "rules/text_fold.hpp"
#include "store/meta_keys.hpp"
#include "zoom/call_fence.hpp"
#include "zoom/zoom_errors.hpp"
#include <spdlog/spdlog.h>

#include <algorithm>

namespace h2r {

nlohmann::json ActionReport::to_json() const {
  nlohmann::json calls_json = nlohmann::json::array();
  for (const auto& c : calls) {
    nlohmann::json changes = nlohmann::json::array();
    for (const auto& ch : c.changes) changes.push_back({{"path", ch.path}, {"before", ch.before}, {"after", ch.after}});
    calls_json.push_back({{"method", c.method},
                          {"path", c.method == "POST" ? "/" + c.resource : "/" + c.resource + "/" + c.target},
                          {"target", c.target},
                          {"summary", c.summary},
                          {"changes", changes}});
  }
  return {{"connection", connection}, {"action", action}, {"user_id", user_id}, {"userName", user_name},
          {"calls", calls_json}};
}

LinkRow Provisioner::make_link(const Intent& intent, const std::string& employee_id, const std::string& id,
                               const std::string& user_name, bool active, std::string_view desired_text) const {
  LinkRow link;
  link.connection = intent.connection;
  link.employee_id = employee_id;
  link.zoom_user_id = id;
  link.user_name = user_name;
  link.active = active;
  if (intent.desired && active)
    link.pushed_digest = desired_text.empty() ? desired_digest(*intent.desired, active)
                                              : desired_digest(*intent.desired, active, desired_text);
  link.updated_at_ms = m_now_ms;
  if (intent.link && intent.link->zoom_user_id == id) {   // a deactivation changes no attribute or group
    link.pushed_body = intent.link->pushed_body;
    link.pushed_at_ms = intent.link->pushed_at_ms;
    link.pushed_groups = intent.link->pushed_groups;
  }
  return link;
}

LinkRow Provisioner::pushed_link(const Intent& intent, const std::string& employee_id, const std::string& id,
                                 const std::string& user_name, bool active, nlohmann::json body,
                                 std::vector<PushedGroup> groups, std::string_view desired_text) const {
  LinkRow link = make_link(intent, employee_id, id, user_name, active, desired_text);
  link.pushed_body = std::move(body);
  link.pushed_body.erase("active");
  link.pushed_at_ms = m_now_ms;
  link.pushed_groups = std::move(groups);
  return link;
}

Result<void> Provisioner::check_owner(const Intent& intent, const std::string& employee_id,
                                      const std::string& zoom_user_id, const std::string& user_name) {
  // One wording for both ways a login is another employee's: `whose` says which user and whose it is.
  const auto owned = [&](const std::string& whose, const std::string& takeover) -> Result<void> {
    Error e = Error::conflict(
        "conflict: " + whose + "; this " + intent.why + " of employee " + employee_id + " would " +
        (intent.desired ? takeover : "act on it") +
        ". Nothing was changed at Zoom. Fix the HR data (another address for one of them) and approve "
        "(`h2rd events approve ID`, checked again), or reject (`h2rd events reject ID`)");
    e.reason = ErrorReason::owned_by_another;
    return unexpected(std::move(e));
  };
  if (!m_owners) return {};
  auto links = m_owners(zoom_user_id, user_name);
  if (!links) return unexpected(std::move(links).error());
  for (const auto& other : *links)
    if (other.employee_id != employee_id)
      return owned("Zoom user '" + other.user_name + "' (id " + other.zoom_user_id + ") in connection '" +
                       intent.connection + "' is linked to employee " + other.employee_id,
                   "take it over as '" + user_name + "'");
  if (!m_reserve || m_dry_run || user_name.empty()) return {};
  auto holder = m_reserve(user_name);
  if (!holder) return unexpected(std::move(holder).error());
  if (holder->empty()) return {};
  return owned("userName '" + user_name + "' in connection '" + intent.connection + "' is reserved for employee " +
                   *holder + " (h2r gives that login to that employee's Zoom user, created or about to be)",
               "take it over");
}

Result<void> Provisioner::check_answer(const ScimUser& answer, const std::string& sent_user_name, std::string_view what) {
  // An answer without a userName says nothing either way.
  if (answer.user_name.empty() || fold_case(answer.user_name) == fold_case(sent_user_name)) return {};
  return fail(ErrorKind::permanent,
              "Zoom answered the " + std::string(what) + " of '" + sent_user_name + "' with another user (id '" +
                  server_text(answer.id) + "', userName '" + server_text(answer.user_name) +
                  "'): not linked. Zoom's answer: " +
                  server_text(answer.body.is_string()
                                  ? answer.body.get<std::string>()
                                  : answer.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

Result<void> Provisioner::push_update(ActionReport& report, const std::string& id, const nlohmann::json& body,
                                      const std::map<std::string, nlohmann::json>& before) {
  report.calls.push_back({"PUT", id, "Users", "update", diff_flat(before, body)});
  if (m_dry_run) return {};
  auto r = m_client.update_user(id, body);
  if (!r) return unexpected(std::move(r).error());
  if (body.contains("userName") && body["userName"].is_string())
    return check_answer(*r, body["userName"].get<std::string>(), "update");
  return {};
}

Result<void> Provisioner::push_active(ActionReport& report, const std::string& id, bool active) {
  report.calls.push_back({"PATCH", id, "Users", active ? "reactivate" : "deactivate",
                          {{"active", nlohmann::json(!active), nlohmann::json(active)}}});
  if (m_dry_run) return {};
  return m_client.set_active(id, active);
}

Result<ActionReport> Provisioner::carry_out(const Intent& intent, const std::string& employee_id) {
  if (intent.kind == IntentKind::provision || intent.kind == IntentKind::update_existing)
    return provision(intent, employee_id);
  return deprovision(intent, employee_id);
}

Result<ActionReport> Provisioner::provision(const Intent& intent, const std::string& employee_id) {
  const DesiredUser& desired = *intent.desired;
  // A value above its length limit: fail before any call, so nothing partial reaches Zoom.
  if (!desired.problem.empty()) return fail(ErrorKind::permanent, desired.problem);
  ActionReport report{intent.connection, "unchanged", "", desired.user_name};
  if (intent.link && !intent.push_anyway && already_pushed(intent)) {
    report.user_id = intent.link->zoom_user_id;
    report.link = intent.link;
    return report;   // what was last pushed is still what the rules want
  }
  nlohmann::json body = update_body(desired, intent.cleared);
  auto groups = resolve_groups(report, desired);
  if (!groups) return unexpected(std::move(groups).error());
  if (intent.link) {
    auto updated = update_linked(report, intent, employee_id, body, *groups);
    if (!updated) return unexpected(std::move(updated).error());
    if (*updated) return report;
  }
  auto found = m_client.find_by_user_name(desired.user_name);
  if (!found) return unexpected(std::move(found).error());
  // The user found (or the userName, when none is) must not be another employee's.
  if (auto owned = check_owner(intent, employee_id, *found ? (*found)->id : "", desired.user_name); !owned)
    return unexpected(std::move(owned).error());
  if (*found) return link_found(std::move(report), intent, employee_id, **found, std::move(body), *groups);
  if (intent.kind == IntentKind::provision)
    return create(std::move(report), intent, employee_id, std::move(body), *groups);
  report.action = "absent";
  return report;
}

Result<bool> Provisioner::update_linked(ActionReport& report, const Intent& intent, const std::string& employee_id,
                                        nlohmann::json& body, const std::vector<ScimGroup>& groups) {
  const DesiredUser& desired = *intent.desired;
  const LinkRow& link = *intent.link;
  // A new userName that another employee's link has: that is someone else's account.
  if (fold_case(link.user_name) != fold_case(desired.user_name))
    if (auto owned = check_owner(intent, employee_id, "", desired.user_name); !owned)
      return unexpected(std::move(owned).error());
  report.user_id = link.zoom_user_id;
  const bool want_active = intent.kind == IntentKind::provision || link.active;
  nlohmann::json current;   // Zoom's answer, read only in dry run (a plan makes no writes, only GETs)
  if (m_dry_run && link.zoom_user_id != k_planned_user_id) {
    auto user = m_client.get_user(link.zoom_user_id);
    if (user) current = user->body;
  }
  auto updated = push_update(report, link.zoom_user_id, body, known_before(link.pushed_body, current));
  if (!updated) {
    if (updated.error().kind != ErrorKind::not_found) return unexpected(std::move(updated).error());
    // The linked user is gone (deleted behind h2r's back, or another account's): find it afresh.
    spdlog::warn("link.stale connection={} employee=\"{}\" user_id=\"{}\"", escape_for_log(intent.connection),
                 escape_for_log(employee_id), escape_for_log(link.zoom_user_id));
    report.calls.clear();
    report.remove_link = true;
    return false;
  }
  report.action = "updated";
  if (!link.active && want_active) {
    if (auto r = push_active(report, link.zoom_user_id, true); !r) return unexpected(std::move(r).error());
    report.action = "reactivated";
  }
  // A stored link from before pushed bodies were kept (it has a digest, so h2r pushed to it then).
  const bool legacy = link.pushed_body.is_null() && !link.pushed_digest.empty();
  LinkRow done = pushed_link(intent, employee_id, link.zoom_user_id, desired.user_name, want_active, std::move(body),
                             link.pushed_groups);
  if (auto synced = sync_groups(report, groups, done, legacy); !synced) return unexpected(std::move(synced).error());
  report.link = std::move(done);
  return true;
}

Result<ActionReport> Provisioner::create(ActionReport report, const Intent& intent, const std::string& employee_id,
                                         nlohmann::json body, const std::vector<ScimGroup>& groups) {
  const DesiredUser& desired = *intent.desired;
  report.calls.push_back({"POST", desired.user_name, "Users", "create", create_changes(desired.body)});
  // `body` is update_body(desired, {}) when nothing is cleared: no second copy of the body.
  const auto created_body = [&] { return intent.cleared.empty() ? std::move(body) : update_body(desired, {}); };
  if (m_dry_run) {   // the group adds that follow a create, as the run makes them
    report.action = "created";
    LinkRow done = pushed_link(intent, employee_id, k_planned_user_id, desired.user_name, true, created_body(), {});
    if (auto synced = sync_groups(report, groups, done, false); !synced) return unexpected(std::move(synced).error());
    report.link = std::move(done);
    report.remove_link = false;
    return report;
  }
  // One dump of the desired body: the POST text is made from it, and so is the link's digest.
  const std::string desired_text = desired.body.dump();
  auto created = m_client.create_user(desired.user_name, with_active_true(desired.body, desired_text));
  if (created) {
    if (auto answered = check_answer(*created, desired.user_name, "create"); !answered)
      return unexpected(std::move(answered).error());
    report.action = "created";
    report.user_id = created->id;
    LinkRow done = pushed_link(intent, employee_id, created->id, desired.user_name, true, created_body(), {},
                               desired_text);
    // The new user is h2r's from now on: recorded before any group add, so a retry updates it.
    if (auto recorded = record_step(done, "create"); !recorded) return unexpected(std::move(recorded).error());
    if (auto synced = sync_groups(report, groups, done, false); !synced) return unexpected(std::move(synced).error());
    report.link = std::move(done);
    report.remove_link = false;
    return report;
  }
  if (created.error().kind != ErrorKind::conflict) return unexpected(std::move(created).error());
  // Zoom says the user exists: link to it.
  report.calls.pop_back();
  auto found = m_client.find_by_user_name(desired.user_name);
  if (!found) return unexpected(std::move(found).error());
  if (!*found)
    return fail(ErrorKind::permanent, "Zoom says " + desired.user_name +
                                          " exists but does not list it (a pending invitation?)");
  if (auto owned = check_owner(intent, employee_id, (*found)->id, desired.user_name); !owned)
    return unexpected(std::move(owned).error());
  return link_found(std::move(report), intent, employee_id, **found, std::move(body), groups);
}

Result<ActionReport> Provisioner::link_found(ActionReport report, const Intent& intent, const std::string& employee_id,
                                             const ScimUser& user, nlohmann::json body,
                                             const std::vector<ScimGroup>& groups) {
  report.user_id = user.id;
  report.action = "linked";
  const bool want_active = intent.kind == IntentKind::provision || user.active;
  // Against Zoom's answer only: a stale link's pushed body was another Zoom user's.
  const auto before = known_before(nlohmann::json(), user.body);
  if (!diff_flat(before, body).empty())
    if (auto r = push_update(report, user.id, body, before); !r) return unexpected(std::move(r).error());
  if (!user.active && want_active) {
    if (auto r = push_active(report, user.id, true); !r) return unexpected(std::move(r).error());
    report.action = "reactivated";
  }
  // A user h2r finds rather than creates: the groups it is in already are someone else's.
  LinkRow done = pushed_link(intent, employee_id, user.id, intent.desired->user_name, want_active, std::move(body), {});
  if (auto synced = sync_groups(report, groups, done, false); !synced) return unexpected(std::move(synced).error());
  report.link = std::move(done);
  report.remove_link = false;
  return report;
}

Result<ActionReport> Provisioner::deprovision(const Intent& intent, const std::string& employee_id) {
  const bool remove = intent.kind == IntentKind::remove;
  ActionReport report{intent.connection, "absent", "", intent.user_name};
  std::string id;
  bool active = true;
  if (intent.link) {
    id = intent.link->zoom_user_id;
    active = intent.link->active;
    report.user_name = intent.link->user_name;
    // On demand, Zoom's own state counts, not the link's: a user reactivated by hand is deactivated.
    if (intent.push_anyway && !active) {
      auto user = m_client.get_user(id);
      if (!user && user.error().kind != ErrorKind::not_found) return unexpected(std::move(user).error());
      if (user) active = user->active;
    }
  } else if (!intent.user_name.empty()) {
    auto found = m_client.find_by_user_name(intent.user_name);
    if (!found) return unexpected(std::move(found).error());
    if (!*found) {
      report.remove_link = true;   // no Zoom user for the employee: the login it held is given up
      return report;
    }
    if (auto owned = check_owner(intent, employee_id, (*found)->id, intent.user_name); !owned)
      return unexpected(std::move(owned).error());
    id = (*found)->id;
    active = (*found)->active;
  } else {
    report.remove_link = true;
    return report;
  }
  report.user_id = id;
  if (remove) {
    report.calls.push_back({"DELETE", id, "Users", "delete", {}});
    if (!m_dry_run) {
      auto r = m_client.delete_user(id);
      if (!r && r.error().kind != ErrorKind::not_found) return unexpected(std::move(r).error());
    }
    report.action = "deleted";
    report.remove_link = true;
    return report;
  }
  if (!active) {
    report.action = "unchanged";
    report.link = make_link(intent, employee_id, id, report.user_name, false);
    return report;
  }
  report.calls.push_back({"PATCH", id, "Users", "deactivate", {{"active", true, false}}});
  if (!m_dry_run) {
    auto r = m_client.set_active(id, false);
    if (!r && r.error().kind == ErrorKind::not_found) {
      report.action = "absent";
      report.remove_link = true;
      return report;
    }
    if (!r) return unexpected(std::move(r).error());
  }
  report.action = "deactivated";
  report.link = make_link(intent, employee_id, id, report.user_name, false);
  return report;
}

Result<int> reserve_linked_logins(Store& store, long long now_ms) {
  if (H2R_TRY(store.get_meta(k_meta_logins_reserved))) return 0;
  int reserved = 0;
  for (const auto& connection : H2R_TRY(store.list_connections()))
    for (const auto& link : H2R_TRY(store.list_links(connection.name))) {
      if (link.user_name.empty()) continue;
      const std::string holder = H2R_TRY(store.reserve_user_name(
          {connection.name, fold_case(link.user_name), link.user_name, link.employee_id, now_ms}));
      if (holder.empty()) ++reserved;
      else
        spdlog::warn("identity.login_shared connection={} user_name=\"{}\" employee=\"{}\" holder=\"{}\"",
                     escape_for_log(connection.name), escape_for_log(link.user_name),
                     escape_for_log(link.employee_id), escape_for_log(holder));
    }
  H2R_TRY(store.set_meta(k_meta_logins_reserved, "1"));
  if (reserved > 0) spdlog::info("identity.logins_reserved count={}", reserved);
  return reserved;
}

void bind_to_store(Provisioner& provisioner, Store& store, const std::string& connection,
                   const std::string& employee_id, std::function<long long()> now_ms) {
  provisioner.set_owner_lookup([&store, connection](const std::string& zoom_user_id, const std::string& user_name) {
    return store.links_to_zoom_user(connection, zoom_user_id, user_name);
  });
  // A login is reserved only while calls are allowed: a daemon that lost the event (an operator's
  // reject, another daemon's rescue) takes no login for it.
  provisioner.set_name_reserver([&store, connection, employee_id, now_ms = std::move(now_ms)](
                                    const std::string& user_name) -> Result<std::string> {
    H2R_TRY(check_call_fence());
    return store.reserve_user_name({connection, fold_case(user_name), user_name, employee_id, now_ms()});
  });
  provisioner.set_step_recorder([&store](const LinkRow& link) { return store.put_link(link); });
}

} // namespace h2r

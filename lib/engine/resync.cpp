#include "engine/resync.hpp"

#include "zoom/scim_client.hpp"

#include <fmt/format.h>

namespace h2r {
namespace {

bool is_license_path(const std::string& path) {
  const std::string prefix = std::string(k_zoom_license_urn) + ".";
  return path.rfind(prefix, 0) == 0;
}

void count(const ResyncChange& change, ResyncTotals& totals) {
  if (change.action == "deprovision") {
    ++totals.deprovisions;
    return;
  }
  if (change.action == "reactivate") ++totals.reactivations;
  if (!change.role_before.empty() && change.role_before != change.role_after) ++totals.role_moves;
  for (const auto& c : change.changes) {
    if (is_license_path(c.path) && c.after == true) ++totals.licenses_on;
    else if (is_license_path(c.path)) ++totals.licenses_off;
    else ++totals.attributes;
  }
}

// What `intent` (planned for a resync, not yet pushed) changes at Zoom: against the body h2r last
// pushed to that user when the link knows it, else against the old rules' user.
ResyncChange describe(const Intent& intent, const std::map<std::string, DesiredUser>& base) {
  ResyncChange change;
  change.connection = intent.connection;
  change.user_name = intent.link ? intent.link->user_name : intent.user_name;
  auto old = base.find(intent.connection);
  if (old != base.end()) change.role_before = old->second.role;
  if (intent.kind == IntentKind::deactivate || intent.kind == IntentKind::remove) {
    change.action = "deprovision";
    change.changes.push_back({"active", true, false});
    return change;
  }
  change.action = intent.kind == IntentKind::provision && intent.link && !intent.link->active ? "reactivate" : "update";
  change.role_after = intent.desired->role;
  change.user_name = intent.desired->user_name;
  const nlohmann::json before = intent.link && intent.link->pushed_body.is_object() ? intent.link->pushed_body
                                : old != base.end()                                  ? old->second.body
                                                                                     : nlohmann::json();
  change.changes = diff_user(before, update_body(*intent.desired, intent.cleared));
  if (change.action == "reactivate") change.changes.push_back({"active", false, true});
  return change;
}

} // namespace

std::string resync_event_id(const std::string& version, const std::string& employee_id) {
  return "resync-" + version + "-" + employee_id;
}

Result<ResyncDiff> diff_rules(Store& store, const Rules* old_rules, const Rules& new_rules) {
  ResyncDiff diff;
  diff.from_version = old_rules ? old_rules->version() : "";
  diff.to_version = new_rules.version();
  auto connections = H2R_TRY(store.list_connections());
  std::map<std::string, std::vector<LinkRow>> links_of;
  for (const auto& c : connections)
    for (auto& link : H2R_TRY(store.list_links(c.name))) links_of[link.employee_id].push_back(std::move(link));
  for (const auto& employee : H2R_TRY(store.list_employees())) {
    auto links = links_of.find(employee.employee_id);
    if (links == links_of.end()) continue;
    ResyncItem item;
    item.employee_id = employee.employee_id;
    if (old_rules)
      for (const auto& d : old_rules->decide(employee.record))
        if (d.desired) item.base[d.connection] = *d.desired;
    // Planned exactly as the resync event will be, so "differs" here is "would push" there.
    EventRow event;
    event.type = EventType::resync;
    event.employee_id = employee.employee_id;
    event.fields[std::string(k_resync_base_field)] = resync_clearing_base_text(item.base);
    const EventPlan plan = plan_event(event, employee, links->second, new_rules);
    for (const auto& intent : plan.intents)
      if (!already_pushed(intent)) item.changes.push_back(describe(intent, item.base));
    if (item.changes.empty()) continue;
    ++diff.totals.employees;
    for (const auto& c : item.changes) count(c, diff.totals);
    diff.items.push_back(std::move(item));
  }
  return diff;
}

Result<ResyncQueued> queue_resyncs(Store& store, const ResyncDiff& diff, long long now_ms) {
  std::vector<NewEvent> events;
  events.reserve(diff.items.size());
  for (const auto& item : diff.items) {
    NewEvent e;
    e.event.event_id = resync_event_id(diff.to_version, item.employee_id);
    e.event.type = EventType::resync;
    e.event.employee_id = item.employee_id;
    e.event.fields[std::string(k_resync_base_field)] = resync_clearing_base_text(item.base);
    e.effective_at_ms = now_ms;
    e.due_at_ms = now_ms;
    e.state = EventState::pending;
    events.push_back(std::move(e));
  }
  ResyncQueued out;
  if (events.empty()) return out;
  auto stored = H2R_TRY(store.queue_resyncs(std::string(k_resync_source_prefix) + diff.to_version, events, now_ms));
  out.queued = stored.inserted;
  out.already_open = static_cast<int>(stored.duplicates.size());
  return out;
}

namespace {
constexpr const char* k_base_version = "resync.base.version";
constexpr const char* k_base_text = "resync.base.text";
} // namespace

ResyncBase load_resync_base(Store& store) {
  ResyncBase base;
  auto version = store.get_meta(k_base_version);
  if (!version || !*version || (*version)->empty()) return base;
  base.known = true;
  base.version = **version;
  auto text = store.get_meta(k_base_text);
  if (!text || !*text || (*text)->empty()) return base;
  auto rules = load_rules_text(**text, "the rules of version " + base.version);
  if (rules && (*rules)->version() == base.version) base.rules = *rules;
  return base;
}

Result<void> save_resync_base(Store& store, const std::string& version, const std::string& text) {
  H2R_TRY(store.set_meta(k_base_text, text));
  return store.set_meta(k_base_version, version);
}

Result<void> clear_resync_base(Store& store) {
  H2R_TRY(store.set_meta(k_base_version, ""));
  return store.set_meta(k_base_text, "");
}

nlohmann::json ResyncDiff::to_json() const {
  nlohmann::json employees = nlohmann::json::array();
  for (const auto& item : items) {
    nlohmann::json users = nlohmann::json::array();
    for (const auto& c : item.changes) {
      nlohmann::json changes = nlohmann::json::array();
      for (const auto& ch : c.changes) changes.push_back({{"path", ch.path}, {"before", ch.before}, {"after", ch.after}});
      users.push_back({{"connection", c.connection},
                       {"userName", c.user_name},
                       {"action", c.action},
                       {"role_before", c.role_before.empty() ? nlohmann::json() : nlohmann::json(c.role_before)},
                       {"role_after", c.role_after.empty() ? nlohmann::json() : nlohmann::json(c.role_after)},
                       {"changes", changes}});
    }
    employees.push_back({{"employee_id", item.employee_id}, {"users", users}});
  }
  return {{"from_version", from_version.empty() ? nlohmann::json() : nlohmann::json(from_version)},
          {"to_version", to_version},
          {"employees", employees},
          {"totals",
           {{"employees", totals.employees},
            {"role_moves", totals.role_moves},
            {"licenses_on", totals.licenses_on},
            {"licenses_off", totals.licenses_off},
            {"attributes", totals.attributes},
            {"deprovisions", totals.deprovisions},
            {"reactivations", totals.reactivations}}}};
}

} // namespace h2r

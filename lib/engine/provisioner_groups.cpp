// Provisioner: the groups of a user — looked up before any write, joined, and left when the rules no
// longer give a group h2r itself added (see provisioner.hpp).
#include "engine/provisioner.hpp"

#include "core/text.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace h2r {

Result<std::vector<ScimGroup>> Provisioner::resolve_groups(ActionReport& report, const DesiredUser& desired) {
  for (const auto& entry : desired.groups_left_out)
    spdlog::info("group.left_out connection={} user=\"{}\" role=\"{}\" entry=\"{}\" note=\"renders empty for this employee\"",
                 escape_for_log(m_client.name()), escape_for_log(desired.user_name), escape_for_log(desired.role),
                 escape_for_log(entry));
  std::vector<ScimGroup> out;
  for (const auto& name : desired.groups) {
    auto group = m_client.find_group(name);
    if (!group) return unexpected(std::move(group).error());
    if (*group) {
      out.push_back(std::move(**group));
      continue;
    }
    if (!m_client.creates_missing_groups())
      return fail(ErrorKind::permanent, "group '" + name + "' named by role '" + desired.role +
                                            "' does not exist in Zoom connection " + m_client.name() +
                                            " (create it there, or set zoom.create_missing_groups)");
    auto created = create_group(report, name);
    if (!created) return unexpected(std::move(created).error());
    out.push_back(std::move(*created));
  }
  return out;
}

Result<ScimGroup> Provisioner::create_group(ActionReport& report, const std::string& name) {
  if (m_dry_run) {
    report.calls.push_back({"POST", name, "Groups", "create group " + name, {}});
    return ScimGroup{k_planned_group_id, name, std::set<std::string>()};
  }
  auto created = m_client.create_group(name);
  if (created) {
    report.calls.push_back({"POST", created->id, "Groups", "create group " + name, {}});
    spdlog::info("group.created connection={} group=\"{}\" group_id=\"{}\"", escape_for_log(m_client.name()),
                 escape_for_log(name), escape_for_log(created->id));
    return created;
  }
  if (created.error().kind != ErrorKind::conflict) return unexpected(std::move(created).error());
  // Someone (another event of this cycle, another daemon) created it first: it is that group.
  auto found = m_client.find_group(name);
  if (!found) return unexpected(std::move(found).error());
  if (!*found)
    return fail(ErrorKind::transient, "Zoom connection " + m_client.name() + " says group '" + name +
                                          "' exists but does not find it");
  return std::move(**found);
}

Result<void> Provisioner::record_step(LinkRow& link, std::string_view step) {
  if (m_dry_run || !m_record) return {};
  const std::string digest = std::exchange(link.pushed_digest, std::string());
  auto recorded = m_record(link);
  link.pushed_digest = digest;
  if (recorded) return {};
  spdlog::error("store.write_failed what=put_link connection={} employee=\"{}\" step=\"{}\" error=\"{}\"",
                escape_for_log(link.connection), escape_for_log(link.employee_id), escape_for_log(step),
                escape_for_log(recorded.error().message));
  return fail(ErrorKind::transient, "Zoom confirmed the " + std::string(step) + " of '" + link.user_name +
                                        "' but storing the link failed: " + recorded.error().message);
}

Result<void> Provisioner::sync_groups(ActionReport& report, const std::vector<ScimGroup>& desired, LinkRow& link,
                                      bool legacy) {
  const std::string& id = link.zoom_user_id;
  auto& held = link.pushed_groups;   // what h2r holds at each step: recorded, plus adds, minus removals
  const auto find_held = [&](const std::string& group_id) {
    return std::find_if(held.begin(), held.end(), [&](const PushedGroup& g) { return g.id == group_id; });
  };
  const std::vector<PushedGroup> recorded = held;
  std::vector<PushedGroup> now;
  for (const auto& group : desired) {
    const bool member = group.members && group.members->count(id);
    if (member) {
      // Already in: h2r's own doing when recorded (or assumed so for a legacy link); otherwise someone
      // else's, and h2r neither records nor ever removes it.
      if (find_held(group.id) != held.end() || legacy) {
        now.push_back({group.display_name, group.id});
        if (find_held(group.id) == held.end()) held.push_back(now.back());
      }
      continue;
    }
    report.calls.push_back({"PATCH", group.id, "Groups", "add to group " + group.display_name, {}});
    if (!m_dry_run)
      if (auto r = m_client.add_group_member(group.id, id); !r) return unexpected(std::move(r).error());
    now.push_back({group.display_name, group.id});
    if (find_held(group.id) == held.end()) {
      held.push_back(now.back());
      if (auto r = record_step(link, "add to group " + group.display_name); !r) return r;
    }
  }
  for (const auto& group : recorded) {
    const bool still_desired = std::any_of(desired.begin(), desired.end(),
                                           [&](const ScimGroup& g) { return g.id == group.id; });
    if (still_desired) continue;
    report.calls.push_back({"PATCH", group.id, "Groups", "remove from group " + group.name, {}});
    if (m_dry_run) continue;
    auto r = m_client.remove_group_member(group.id, id);
    // A group deleted at Zoom has no member to remove: forgotten all the same.
    if (!r && r.error().kind != ErrorKind::not_found) return unexpected(std::move(r).error());
    if (!r)
      spdlog::warn("group.gone connection={} group=\"{}\" group_id=\"{}\" note=\"forgotten\"",
                   escape_for_log(report.connection), escape_for_log(group.name), escape_for_log(group.id));
    if (auto it = find_held(group.id); it != held.end()) held.erase(it);
    if (auto recorded_step = record_step(link, "removal from group " + group.name); !recorded_step) return recorded_step;
  }
  held = std::move(now);   // the same groups, in the rules' order
  return {};
}

} // namespace h2r

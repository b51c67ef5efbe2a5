// Provisioner: the groups of a user — looked up before any write, joined, and left when the rules no
// longer give a group h2r itself added (see provisioner.hpp).
#include "engine/provisioner.hpp"

#include "core/text.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace h2r {

Result<std::vector<ScimGroup>> Provisioner::resolve_groups(const DesiredUser& desired) {
  std::vector<ScimGroup> out;
  for (const auto& name : desired.groups) {
    auto group = m_client.find_group(name);
    if (!group) return unexpected(std::move(group).error());
    if (!*group)
      return fail(ErrorKind::permanent, "group '" + name + "' named by role '" + desired.role +
                                            "' does not exist in Zoom connection " + m_client.name());
    out.push_back(std::move(**group));
  }
  return out;
}

Result<std::vector<PushedGroup>> Provisioner::sync_groups(ActionReport& report, const std::vector<ScimGroup>& desired,
                                                          const std::vector<PushedGroup>& recorded, bool legacy,
                                                          const std::string& id) {
  const auto was_recorded = [&](const std::string& group_id) {
    return std::any_of(recorded.begin(), recorded.end(), [&](const PushedGroup& g) { return g.id == group_id; });
  };
  std::vector<PushedGroup> now;
  for (const auto& group : desired) {
    const bool member = group.members && group.members->count(id);
    if (member) {
      // Already in: h2r's own doing when recorded (or assumed so for a legacy link); otherwise someone
      // else's, and h2r neither records nor ever removes it.
      if (was_recorded(group.id) || legacy) now.push_back({group.display_name, group.id});
      continue;
    }
    report.calls.push_back({"PATCH", group.id, "Groups", "add to group " + group.display_name, {}});
    if (!m_dry_run)
      if (auto r = m_client.add_group_member(group.id, id); !r) return unexpected(std::move(r).error());
    now.push_back({group.display_name, group.id});
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
  }
  return now;
}

} // namespace h2r

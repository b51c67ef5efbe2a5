#include "engine/group_check.hpp"

#include <algorithm>
#include <set>

namespace h2r {

std::size_t GroupCheck::missing() const {
  return static_cast<std::size_t>(std::count_if(groups.begin(), groups.end(), [](const Group& g) { return g.missing; }));
}

Result<GroupCheck> check_groups(Store& store, ScimClient& client, const Rules& rules) {
  GroupCheck out;
  const std::vector<std::string> literal = rules.literal_groups();
  std::set<std::string> templated;
  auto employees = store.list_employees();
  if (!employees) return unexpected(std::move(employees).error());
  for (const auto& employee : *employees)
    for (const auto& decision : rules.decide(employee.record)) {
      if (decision.connection != client.name() || !decision.desired) continue;
      for (const auto& name : decision.desired->groups)
        if (std::find(literal.begin(), literal.end(), name) == literal.end()) templated.insert(name);
    }
  for (const auto& name : literal) out.groups.push_back({name, false, false});
  for (const auto& name : templated) {
    if (out.groups.size() - literal.size() >= k_max_checked_template_groups) {
      ++out.templated_unchecked;
      continue;
    }
    out.groups.push_back({name, true, false});
  }
  for (auto& group : out.groups) {
    auto found = client.find_group(group.name);
    if (!found) return unexpected(std::move(found).error());
    group.missing = !*found;
  }
  return out;
}

} // namespace h2r

// Issue 24 case 7: what h2r did at Zoom is recorded when Zoom confirms it, not when the event ends.
// A department move adds the user to the new group, the removal from the old one gets a 5xx, the retry
// finds the user already in the new group: that membership is h2r's (recorded at the add), so the next
// move removes it. Against zoom-sim, through `h2rd run --once`.
#include "lifecycle_util.hpp"

#include <set>

using namespace h2r::test;
using nlohmann::json;

namespace {

// One role per department, each with a group of the department's name.
std::string department_group_rules() {
  std::string rules = "version: 1\ntargets:\n  - connection: zoom-main\nroles:\n";
  for (const char* dept : {"Alpha", "Beta", "Gamma"})
    rules += std::string("  - name: ") + dept + "\n    when: { field: department, equals: " + dept +
             " }\n    zoom: { user_type: Basic, groups: [" + dept + "] }\n";
  return rules + R"(on_no_role: deprovision
attributes:
  userName: "{email}"
  name.givenName: "{first_name}"
  name.familyName: "{last_name}"
  enterprise.department: "{department}"
)";
}

// The names of the sim groups that list `user_id` as a member.
std::set<std::string> groups_of(H2rEnv& env, const std::string& user_id) {
  std::set<std::string> out;
  for (const auto& g : env.sim().groups())
    for (const auto& m : g.value("members", json::array()))
      if (m["value"] == user_id) out.insert(g["displayName"].get<std::string>());
  return out;
}

std::string move_to(const std::string& event_id, const std::string& department) {
  return event_json(event_id, "update", {{"employee_id", "E1001"}, {"department", department}});
}

} // namespace

TEST_CASE("e2e pushed: a group add is recorded when Zoom confirms it, so a retry after a failed removal removes it later") {
  H2rEnvOptions options;
  options.sim_args = {"--group", "Alpha", "--group", "Beta", "--group", "Gamma"};
  options.rules = department_group_rules();
  options.extra_config = "retry: { base: 50ms, max: 500ms }\n";
  H2rEnv env(options);
  apply(env, "hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill", "Alpha")));
  const std::string jill = the_user(env, "jill.chill@example.com")["id"];
  REQUIRE(groups_of(env, jill) == std::set<std::string>{"Alpha"});

  // Alpha → Beta: the add to Beta works, the removal from Alpha gets a 503; the retry (same run) works.
  env.sim().configure({{"fail_group_removes", 1}});
  apply(env, "move1.json", move_to("evt-2", "Beta"));
  REQUIRE(state_of(env, "evt-2") == "done");
  CHECK(env.sim().configure(json::object())["fail_group_removes"] == 0);   // the fault was met
  CHECK(groups_of(env, jill) == std::set<std::string>{"Beta"});

  // Beta → Gamma: Beta was h2r's doing (recorded when Zoom confirmed the add), so it is removed.
  apply(env, "move2.json", move_to("evt-3", "Gamma"));
  REQUIRE(state_of(env, "evt-3") == "done");
  CHECK(groups_of(env, jill) == std::set<std::string>{"Gamma"});
  CHECK(the_user(env, "jill.chill@example.com")["active"] == true);
}

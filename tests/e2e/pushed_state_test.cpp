// Issue 13 (items 1, 3, 4): per link h2r keeps the body it last pushed and the groups it added.
// Against zoom-sim, through the CLI: recorded diffs carry the old values, `h2rd plan` shows old → new,
// a role move leaves the groups h2r added (never a foreign one), and a license a rules edit took away
// is turned off on the employee's next update.
#include "lifecycle_util.hpp"

#include "unit/sim/sim_test_util.hpp"

using namespace h2r::test;
using nlohmann::json;

namespace {

json update_of(const std::string& id, json fields) {
  fields["employee_id"] = id;
  return fields;
}

// path → (before, after) of every change of every call of every action of a result or plan item.
std::map<std::string, std::pair<json, json>> changes_of(const json& item) {
  std::map<std::string, std::pair<json, json>> out;
  for (const auto& a : item["actions"])
    for (const auto& c : a["calls"])
      for (const auto& ch : c["changes"]) out[ch["path"].get<std::string>()] = {ch["before"], ch["after"]};
  return out;
}

// Every call of a result or plan item as "METHOD PATH (summary)".
std::vector<std::string> calls_of(const json& item) {
  std::vector<std::string> out;
  for (const auto& a : item["actions"])
    for (const auto& c : a["calls"])
      out.push_back(c["method"].get<std::string>() + " " + c["path"].get<std::string>() + " (" +
                    c["summary"].get<std::string>() + ")");
  return out;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// The sim group named `name`.
json group_named(H2rEnv& env, const std::string& name) {
  for (const auto& g : env.sim().groups())
    if (g["displayName"] == name) return g;
  FAIL("no group " << name);
  return {};
}

bool member_of(H2rEnv& env, const std::string& group, const std::string& user_id) {
  for (const auto& m : group_named(env, group).value("members", json::array()))
    if (m["value"] == user_id) return true;
  return false;
}

// Adds a user to a group straight at zoom-sim (SCIM PATCH), as an admin in Zoom's web portal would.
void add_member_at_zoom(H2rEnv& env, const std::string& group, const std::string& user_id) {
  SimApi api(env.sim());
  const json add = {{"schemas", {k_patch_op}},
                    {"Operations", {{{"op", "add"}, {"path", "members"}, {"value", {{{"value", user_id}}}}}}}};
  auto r = api.patch("/scim2/Groups/" + url_encode(group_named(env, group)["id"].get<std::string>()), add);
  REQUIRE(r);
  REQUIRE(r->status == 204);
}

// The SPEC example rules with groups per role, and licenses as given for the engineering role.
std::string rules_with(const std::string& licenses) {
  return R"(version: 1
targets:
  - connection: zoom-main
roles:
  - name: engineering
    when:
      all:
        - { field: department, in: [Engineering, Product] }
        - { field: employment_type, equals: full_time }
    zoom:
      user_type: Licensed
      licenses: )" + licenses + R"(
      role: Member
      groups: [Engineering, Builders]
  - name: staff
    when: { field: employment_type, in: [full_time, part_time] }
    zoom: { user_type: Basic, groups: [Staff] }
on_no_role: deprovision
attributes:
  userName: "{email}"
  name.givenName: "{first_name}"
  name.familyName: "{last_name}"
  displayName: "{first_name} {last_name}"
  title: "{job_title}"
  enterprise.department: "{department}"
  enterprise.employeeNumber: "{employee_id}"
  zoom.loginType.sso: true
)";
}

H2rEnvOptions grouped_options(const std::string& licenses = "{ zoomOneBizPlus: true }") {
  H2rEnvOptions options;
  options.sim_args = {"--group", "Engineering", "--group", "Builders", "--group", "Staff", "--group", "Foreign"};
  options.rules = rules_with(licenses);
  return options;
}

} // namespace

TEST_CASE("e2e pushed: an applied update records the old values it replaced, and only the paths that change") {
  H2rEnv env;
  apply(env, "hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill", "Sales")));
  apply(env, "u.json", event_json("evt-2", "update",
                                  update_of("E1001", {{"job_title", "Director"}, {"department", "Engineering"}})));
  REQUIRE(state_of(env, "evt-2") == "done");
  const auto shown_json = shown(env, "evt-2");
  const auto changes = changes_of(shown_json["result"]);
  using Change = std::pair<json, json>;
  CHECK(changes.at("title") == Change{"Engineer", "Director"});
  CHECK(changes.at(k_enterprise_urn + ".department") == Change{"Sales", "Engineering"});
  CHECK(changes.at("userType") == Change{"Basic", "Licensed"});
  CHECK(changes.at(k_license_urn + ".zoomOneBizPlus") == Change{nullptr, true});   // never pushed before
  CHECK(changes.count("userName") == 0);        // unchanged paths are left out
  CHECK(changes.count("name.givenName") == 0);
  CHECK(changes.count(k_enterprise_urn + ".manager.value") == 0);

  // People read the rules' short names; JSON keeps the SCIM paths.
  auto text = env.h2rd({"events", "show", std::to_string(event_named(env, "evt-2")["id"].get<long long>())});
  INFO(text.out);
  CHECK(text.out.find("enterprise.department") != std::string::npos);
  CHECK(text.out.find("zoom.licenses.zoomOneBizPlus") != std::string::npos);
  CHECK(text.out.find("Sales") != std::string::npos);
  CHECK(text.out.find("Engineer ") != std::string::npos);

  // A further update with nothing new pushes nothing (the digest still short-cuts).
  const long long puts = sim_count(env, "PUT /Users/{id}");
  apply(env, "same.json", event_json("evt-3", "update", update_of("E1001", {{"job_title", "Director"}})));
  CHECK(sim_count(env, "PUT /Users/{id}") == puts);
  CHECK(shown(env, "evt-3")["result"]["actions"][0]["action"] == "unchanged");
}

TEST_CASE("e2e pushed: plan of an update shows old → new for what h2r pushed before, even after a role move") {
  H2rEnv env;
  auto jill = employee("E1001", "Jill", "Chill");
  jill["job_title"] = "Lead";
  apply(env, "hire.json", event_json("evt-1", "hire", jill));
  const std::string plan_file =
      env.dir().write("plan/promote.json", event_json("p-1", "update", update_of("E1001", {{"job_title", "Director"}})))
          .string();
  auto plan = env.h2rd({"plan", plan_file});
  INFO(plan.out << plan.err);
  REQUIRE(plan.exit_code == 0);
  CHECK(plan.out.find("title: Lead → Director") != std::string::npos);
  CHECK(plan.out.find("- →") == std::string::npos);
  CHECK(plan.out.find("userName") == std::string::npos);   // unchanged: not listed

  // Moved to another role (applied), then a plan of the move back: every value h2r pushed shows its old value.
  apply(env, "move.json", event_json("evt-2", "update", update_of("E1001", {{"department", "Sales"}})));
  const std::string back_file =
      env.dir().write("plan/back.json", event_json("p-2", "update", update_of("E1001", {{"department", "Engineering"},
                                                                                          {"job_title", "Director"}})))
          .string();
  auto back = env.h2rd({"plan", back_file});
  INFO(back.out << back.err);
  REQUIRE(back.exit_code == 0);
  CHECK(back.out.find("title: Lead → Director") != std::string::npos);
  CHECK(back.out.find("userType: Basic → Licensed") != std::string::npos);
  CHECK(back.out.find("enterprise.department: Sales → Engineering") != std::string::npos);
  CHECK(back.out.find("zoom.licenses.zoomOneBizPlus: false → true") != std::string::npos);
  CHECK(back.out.find("- →") == std::string::npos);
  // JSON keeps the SCIM paths.
  auto j = env.h2rd_json({"plan", back_file});
  CHECK(changes_of(j[0]).at(k_enterprise_urn + ".department") == std::pair<json, json>{"Sales", "Engineering"});
}

TEST_CASE("e2e pushed: a move to another role leaves the groups h2r added, never a foreign one") {
  H2rEnv env(grouped_options());
  apply(env, "hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill")));
  const std::string jill = the_user(env, "jill.chill@example.com")["id"];
  CHECK(member_of(env, "Engineering", jill));
  CHECK(member_of(env, "Builders", jill));
  CHECK_FALSE(member_of(env, "Staff", jill));
  // An admin puts Jill into two groups at Zoom: one the rules never name, and the staff role's group
  // (she is in it before h2r would add her: not h2r's doing).
  add_member_at_zoom(env, "Foreign", jill);
  add_member_at_zoom(env, "Staff", jill);

  const std::string move = event_json("evt-2", "update", update_of("E1001", {{"department", "Sales"}}));
  // The plan names the removals as calls on /Groups.
  const std::string plan_file = env.dir().write("plan/move.json", move).string();
  auto planned = env.h2rd_json({"plan", plan_file});
  const auto eng_id = group_named(env, "Engineering")["id"].get<std::string>();
  const auto builders_id = group_named(env, "Builders")["id"].get<std::string>();
  auto planned_calls = calls_of(planned[0]);
  CHECK(contains(planned_calls, "PATCH /Groups/" + eng_id + " (remove from group Engineering)"));
  CHECK(contains(planned_calls, "PATCH /Groups/" + builders_id + " (remove from group Builders)"));
  CHECK(member_of(env, "Engineering", jill));   // a plan changes nothing

  apply(env, "move.json", move);
  REQUIRE(state_of(env, "evt-2") == "done");
  auto u = the_user(env, "jill.chill@example.com");
  CHECK(u["userType"] == "Basic");
  CHECK_FALSE(member_of(env, "Engineering", jill));
  CHECK_FALSE(member_of(env, "Builders", jill));
  CHECK(member_of(env, "Staff", jill));
  CHECK(member_of(env, "Foreign", jill));
  auto recorded = calls_of(shown(env, "evt-2")["result"]);
  CHECK(contains(recorded, "PATCH /Groups/" + eng_id + " (remove from group Engineering)"));
  for (const auto& c : recorded) CHECK(c.find("add to group Staff") == std::string::npos);   // already in

  // Back to engineering: h2r adds its groups again, and leaves Staff (it never added her there).
  apply(env, "back.json", event_json("evt-3", "update", update_of("E1001", {{"department", "Engineering"}})));
  REQUIRE(state_of(env, "evt-3") == "done");
  CHECK(member_of(env, "Engineering", jill));
  CHECK(member_of(env, "Builders", jill));
  CHECK(member_of(env, "Staff", jill));
  CHECK(member_of(env, "Foreign", jill));
  CHECK(the_user(env, "jill.chill@example.com")["userType"] == "Licensed");
}

TEST_CASE("e2e pushed: a license a rules edit took from the role is turned off on the employee's next update") {
  // rules.on_change: manual, so no resync converges the edit first: the update itself must clear it.
  H2rEnvOptions options = grouped_options("{ zoomOneBizPlus: true, zoomWhiteboard: true }");
  options.rules_on_change = "manual";
  H2rEnv env(options);
  apply(env, "hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill")));
  auto u = the_user(env, "jill.chill@example.com");
  CHECK(u[k_license_urn]["zoomWhiteboard"] == true);
  CHECK(u[k_license_urn]["zoomOneBizPlus"] == true);

  // The admin takes zoomWhiteboard away from the role; the employee's record alone would not show it.
  env.dir().write("rules.yaml", rules_with("{ zoomOneBizPlus: true }"));
  apply(env, "u.json", event_json("evt-2", "update", update_of("E1001", {{"job_title", "Lead"}})));
  REQUIRE(state_of(env, "evt-2") == "done");
  u = the_user(env, "jill.chill@example.com");
  CHECK(u[k_license_urn]["zoomWhiteboard"] == false);   // turned off, not just left out
  CHECK(u[k_license_urn]["zoomOneBizPlus"] == true);
  CHECK(u["title"] == "Lead");
  const auto changes = changes_of(shown(env, "evt-2")["result"]);
  CHECK(changes.at(k_license_urn + ".zoomWhiteboard") == std::pair<json, json>{true, false});
  CHECK(changes.at("title") == std::pair<json, json>{"Engineer", "Lead"});
  CHECK(changes.size() == 2);
}

TEST_CASE("e2e pushed: a rules edit moving a department to another role changes user type and groups with no HR event") {
  H2rEnv env(grouped_options());
  apply(env, "hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill", "Sales")));
  const std::string jill = the_user(env, "jill.chill@example.com")["id"];
  CHECK(the_user(env, "jill.chill@example.com")["userType"] == "Basic");
  CHECK(member_of(env, "Staff", jill));
  add_member_at_zoom(env, "Foreign", jill);   // an admin's own group at Zoom: never h2r's to remove

  // Sales joins the engineering role; the next start resyncs Jill (rules.on_change: resync, the default).
  std::string edited = rules_with("{ zoomOneBizPlus: true }");
  edited.replace(edited.find("in: [Engineering, Product]"), 26, "in: [Engineering, Product, Sales]");
  env.dir().write("rules.yaml", edited);
  auto run = env.run_once();
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  REQUIRE(env.events().size() == 2);   // the hire and one resync: no HR event
  auto u = the_user(env, "jill.chill@example.com");
  CHECK(u["userType"] == "Licensed");
  CHECK(member_of(env, "Engineering", jill));
  CHECK(member_of(env, "Builders", jill));
  CHECK_FALSE(member_of(env, "Staff", jill));   // h2r added her there at the hire: removed when the role left
  CHECK(member_of(env, "Foreign", jill));
}

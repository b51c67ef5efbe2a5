// Issue 3: updates against zoom-sim — merge, null clears, no-op pushes nothing, role and license moves,
// role lost with on_no_role deprovision and keep.
#include "lifecycle_util.hpp"

using namespace h2r::test;
using nlohmann::json;

namespace {

json update_of(const std::string& id, json fields) {
  fields["employee_id"] = id;
  return fields;
}

} // namespace

TEST_CASE("e2e lifecycle: update merges into the last record, null clears, a no-op update sends no PUT") {
  H2rEnv env;
  auto jill = employee("E1001", "Jill", "Chill");
  jill["phone"] = "+1 555 0100";
  apply(env, "hire.json", event_json("evt-1", "hire", jill));
  auto u = the_user(env, "jill.chill@example.com");
  CHECK(u["phoneNumbers"][0]["value"] == "+1 555 0100");

  // Absent fields keep their value; the changed one is pushed.
  apply(env, "u1.json", event_json("evt-2", "update", update_of("E1001", {{"job_title", "Lead"}})));
  u = the_user(env, "jill.chill@example.com");
  CHECK(u["title"] == "Lead");
  CHECK(u["name"]["givenName"] == "Jill");
  CHECK(u["phoneNumbers"][0]["value"] == "+1 555 0100");
  CHECK(u[k_enterprise_urn]["manager"]["value"] == "boss@example.com");
  CHECK(state_of(env, "evt-2") == "done");

  // null clears the field, and with it the Zoom attribute.
  apply(env, "u2.json",
        event_json("evt-3", "update", update_of("E1001", {{"phone", nullptr}, {"manager_email", nullptr}})));
  u = the_user(env, "jill.chill@example.com");
  CHECK(u.value("phoneNumbers", json::array()).empty());
  CHECK(u[k_enterprise_urn].value("manager", json::object()).value("value", "") == "");
  CHECK(u["title"] == "Lead");

  // The same values again: nothing to push.
  const long long puts = sim_count(env, "PUT /Users/{id}");
  const long long patches = sim_count(env, "PATCH /Users/{id}");
  CHECK(puts == 2);   // two updates so far (the hire was a POST)
  apply(env, "u3.json", event_json("evt-4", "update", update_of("E1001", {{"job_title", "Lead"}, {"phone", nullptr}})));
  CHECK(sim_count(env, "PUT /Users/{id}") == puts);
  CHECK(sim_count(env, "PATCH /Users/{id}") == patches);
  CHECK(sim_count(env, "POST /Users") == 1);
  auto result = shown(env, "evt-4")["result"];
  CHECK(result["actions"][0]["action"] == "unchanged");
  CHECK(state_of(env, "evt-4") == "done");
}

TEST_CASE("e2e lifecycle: a move from Engineering to Sales changes userType and turns the license off") {
  H2rEnv env;
  apply(env, "hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill")));
  auto u = the_user(env, "jill.chill@example.com");
  CHECK(u["userType"] == "Licensed");
  CHECK(u[k_license_urn]["zoomOneBizPlus"] == true);
  CHECK(u["roles"][0]["value"] == "Member");

  apply(env, "move.json", event_json("evt-2", "update", update_of("E1001", {{"department", "Sales"}})));
  u = the_user(env, "jill.chill@example.com");
  CHECK(u["userType"] == "Basic");
  CHECK(u[k_license_urn]["zoomOneBizPlus"] == false);   // turned off, not just left out
  CHECK(u.value("roles", json::array()).empty());
  CHECK(u[k_enterprise_urn]["department"] == "Sales");
  CHECK(u["active"] == true);

  // And back: the license comes back on.
  apply(env, "back.json", event_json("evt-3", "update", update_of("E1001", {{"department", "Product"}})));
  u = the_user(env, "jill.chill@example.com");
  CHECK(u["userType"] == "Licensed");
  CHECK(u[k_license_urn]["zoomOneBizPlus"] == true);
  CHECK(u["roles"][0]["value"] == "Member");
  CHECK(env.sim_users_named("jill.chill@example.com").size() == 1);
}

TEST_CASE("e2e lifecycle: role lost with on_no_role deprovision deactivates, a role regained reactivates") {
  H2rEnv env;
  apply(env, "hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill")));
  apply(env, "lost.json", event_json("evt-2", "update", update_of("E1001", {{"employment_type", "contractor"}})));
  auto u = the_user(env, "jill.chill@example.com");
  CHECK(u["active"] == false);
  CHECK(state_of(env, "evt-2") == "done");
  CHECK(shown(env, "evt-2")["result"]["why"].get<std::string>().find("on_no_role: deprovision") != std::string::npos);

  apply(env, "back.json", event_json("evt-3", "update", update_of("E1001", {{"employment_type", "full_time"}})));
  u = the_user(env, "jill.chill@example.com");
  CHECK(u["active"] == true);
  CHECK(u["userType"] == "Licensed");
  CHECK(env.sim_users_named("jill.chill@example.com").size() == 1);
}

TEST_CASE("e2e lifecycle: role lost with on_no_role keep leaves the Zoom user untouched") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("", "keep");
  H2rEnv env(options);
  apply(env, "hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill")));
  const auto before = the_user(env, "jill.chill@example.com");
  const long long writes = sim_count(env, "PUT /Users/{id}") + sim_count(env, "PATCH /Users/{id}");
  apply(env, "lost.json", event_json("evt-2", "update", update_of("E1001", {{"employment_type", "contractor"}})));
  auto after = the_user(env, "jill.chill@example.com");
  CHECK(after == before);
  CHECK(sim_count(env, "PUT /Users/{id}") + sim_count(env, "PATCH /Users/{id}") == writes);
  auto e = event_named(env, "evt-2");
  CHECK(e["state"] == "skipped");
  CHECK(e["reason"].get<std::string>().find("on_no_role: keep") != std::string::npos);
}

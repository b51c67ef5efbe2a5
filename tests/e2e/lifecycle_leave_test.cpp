// Issue 3: leave kinds, return, terminate (deactivate or delete), rehire, and per-employee date order.
#include "lifecycle_util.hpp"

using namespace h2r::test;
using nlohmann::json;

namespace {

json id_only(const std::string& id, json fields = json::object()) {
  fields["employee_id"] = id;
  return fields;
}

} // namespace

TEST_CASE("e2e lifecycle: leave kinds deactivate or keep per lifecycle.leave, return reactivates and updates") {
  H2rEnv env;
  apply(env, "hires.json",
        "[" + event_json("h-1", "hire", employee("E1", "Anna", "Long")) + "," +
            event_json("h-2", "hire", employee("E2", "Sam", "Security")) + "," +
            event_json("h-3", "hire", employee("E3", "Fay", "Fmla")) + "," +
            event_json("h-4", "hire", employee("E4", "Lee", "Legal")) + "]");
  apply(env, "leaves.json",
        "[" + event_json("l-1", "leave", id_only("E1"), "", "long_term") + "," +
            event_json("l-2", "leave", id_only("E2"), "", "security") + "," +
            event_json("l-3", "leave", id_only("E3"), "", "fmla") + "," +
            event_json("l-4", "leave", id_only("E4"), "", "legal") + "]");
  CHECK(the_user(env, "anna.long@example.com")["active"] == false);
  CHECK(the_user(env, "sam.security@example.com")["active"] == false);
  CHECK(the_user(env, "fay.fmla@example.com")["active"] == true);
  CHECK(the_user(env, "lee.legal@example.com")["active"] == true);
  CHECK(state_of(env, "l-1") == "done");
  CHECK(state_of(env, "l-2") == "done");
  for (const char* kept : {"l-3", "l-4"}) {
    auto e = event_named(env, kept);
    CHECK(e["state"] == "skipped");
    CHECK(e["reason"].get<std::string>().find("keeps the Zoom user") != std::string::npos);
  }
  // An update while on leave changes the record, not Zoom.
  const long long puts = sim_count(env, "PUT /Users/{id}");
  apply(env, "upd.json", event_json("u-1", "update", id_only("E1", {{"job_title", "Principal"}})));
  CHECK(sim_count(env, "PUT /Users/{id}") == puts);
  CHECK(state_of(env, "u-1") == "skipped");

  // Return: reactivated with the latest record.
  apply(env, "returns.json", "[" + event_json("r-1", "return", id_only("E1")) + "," +
                                 event_json("r-3", "return", id_only("E3")) + "]");
  auto anna = the_user(env, "anna.long@example.com");
  CHECK(anna["active"] == true);
  CHECK(anna["title"] == "Principal");
  CHECK(shown(env, "r-1")["result"]["actions"][0]["action"] == "reactivated");
  CHECK(the_user(env, "fay.fmla@example.com")["active"] == true);
  CHECK(state_of(env, "r-3") == "done");
  CHECK(sim_count(env, "POST /Users") == 4);
}

TEST_CASE("e2e lifecycle: terminate deactivates, rehire reactivates the same Zoom user") {
  H2rEnv env;
  apply(env, "hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill")));
  const auto id = the_user(env, "jill.chill@example.com")["id"];
  apply(env, "term.json", event_json("evt-2", "terminate", id_only("E1001")));
  CHECK(the_user(env, "jill.chill@example.com")["active"] == false);
  CHECK(shown(env, "evt-2")["result"]["actions"][0]["action"] == "deactivated");
  CHECK(sim_count(env, "DELETE /Users/{id}") == 0);

  // A second terminate finds nothing more to do.
  apply(env, "term2.json", event_json("evt-3", "terminate", id_only("E1001")));
  CHECK(shown(env, "evt-3")["result"]["actions"][0]["action"] == "unchanged");

  auto rehired = employee("E1001", "Jill", "Chill");
  rehired["job_title"] = "Staff Engineer";
  apply(env, "rehire.json", event_json("evt-4", "rehire", rehired));
  auto u = the_user(env, "jill.chill@example.com");
  CHECK(u["id"] == id);
  CHECK(u["active"] == true);
  CHECK(u["title"] == "Staff Engineer");
  CHECK(sim_count(env, "POST /Users") == 1);
  CHECK(shown(env, "evt-4")["result"]["actions"][0]["action"] == "reactivated");
}

TEST_CASE("e2e lifecycle: terminate with action delete removes the user and the link, rehire creates") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("lifecycle:\n  terminate: { action: delete }\n");
  H2rEnv env(options);
  apply(env, "hire.json", event_json("evt-1", "hire", employee("E1001", "Jill", "Chill")));
  const auto first_id = the_user(env, "jill.chill@example.com")["id"];
  apply(env, "term.json", event_json("evt-2", "terminate", id_only("E1001")));
  CHECK(env.sim_users_named("jill.chill@example.com").empty());
  CHECK(sim_count(env, "DELETE /Users/{id}") == 1);
  CHECK(shown(env, "evt-2")["result"]["actions"][0]["action"] == "deleted");

  apply(env, "rehire.json", event_json("evt-3", "rehire", employee("E1001", "Jill", "Chill")));
  auto u = the_user(env, "jill.chill@example.com");
  CHECK(u["id"] != first_id);
  CHECK(u["active"] == true);
  CHECK(shown(env, "evt-3")["result"]["actions"][0]["action"] == "created");
  // No stale link was used: the only PUT/PATCH calls would have gone to the deleted id.
  CHECK(env.sim().stats()["status"].value("404", 0LL) == 0);
}

TEST_CASE("e2e lifecycle: rehire without a link reactivates the user found by userName, else creates") {
  H2rEnv env;
  auto seeded = env.sim().seed_user({{"schemas", {"urn:ietf:params:scim:schemas:core:2.0:User"}},
                                     {"userName", "jill.chill@example.com"},
                                     {"active", false}});
  REQUIRE(seeded["active"] == false);
  apply(env, "rehires.json", "[" + event_json("evt-1", "rehire", employee("E1001", "Jill", "Chill")) + "," +
                                 event_json("evt-2", "rehire", employee("E1002", "New", "Person")) + "]");
  auto jill = the_user(env, "jill.chill@example.com");
  CHECK(jill["id"] == seeded["id"]);
  CHECK(jill["active"] == true);
  CHECK(jill["name"]["givenName"] == "Jill");
  CHECK(shown(env, "evt-1")["result"]["actions"][0]["action"] == "reactivated");
  CHECK(the_user(env, "new.person@example.com")["active"] == true);
  CHECK(shown(env, "evt-2")["result"]["actions"][0]["action"] == "created");
  CHECK(sim_count(env, "POST /Users") == 1);
}

TEST_CASE("e2e lifecycle: one employee's events in one file apply in effective-date order") {
  H2rEnv env;
  apply(env, "hire.json", event_json("h-1", "hire", employee("E1", "Ada", "Order"), "2025-01-01") + "\n");
  auto bob = employee("E2", "Bob", "Other");
  apply(env, "hire2.json", event_json("h-2", "hire", bob, "2025-01-01"));
  // File order is the reverse of date order for both employees.
  apply(env, "changes.json",
        "[" + event_json("e1-late", "update", id_only("E1", {{"job_title", "Late"}}), "2025-06-01") + "," +
            event_json("e1-early", "update", id_only("E1", {{"job_title", "Early"}}), "2025-05-01") + "," +
            event_json("e2-update", "update", id_only("E2", {{"job_title", "Changed"}}), "2025-06-01") + "," +
            event_json("e2-term", "terminate", id_only("E2"), "2025-05-01") + "]");
  CHECK(the_user(env, "ada.order@example.com")["title"] == "Late");
  // Bob was terminated first, so the later update leaves Zoom alone.
  auto b = the_user(env, "bob.other@example.com");
  CHECK(b["active"] == false);
  CHECK(b["title"] == "Engineer");
  CHECK(state_of(env, "e2-term") == "done");
  CHECK(state_of(env, "e2-update") == "skipped");
  CHECK(event_named(env, "e1-early")["id"].get<long long>() > event_named(env, "e1-late")["id"].get<long long>());
}

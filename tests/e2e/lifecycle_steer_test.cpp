// Issue 3: steering — supervised lifecycles, the mass-deactivation guard, events list/show/retry.
#include "lifecycle_util.hpp"

using namespace h2r::test;
using nlohmann::json;

namespace {

json id_only(const std::string& id) { return {{"employee_id", id}}; }

std::string id_text(H2rEnv& env, const std::string& event_id) {
  return std::to_string(event_named(env, event_id)["id"].get<long long>());
}

} // namespace

TEST_CASE("e2e lifecycle: a supervised terminate is held until approved, a rejected one never runs") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("lifecycle:\n  supervised: [terminate]\n");
  H2rEnv env(options);
  apply(env, "hires.json", "[" + event_json("h-1", "hire", employee("E1", "Ann", "Held")) + "," +
                               event_json("h-2", "hire", employee("E2", "Rex", "Rejected")) + "]");
  apply(env, "terms.json", "[" + event_json("t-1", "terminate", id_only("E1")) + "," +
                               event_json("t-2", "terminate", id_only("E2")) + "]");
  for (const char* id : {"t-1", "t-2"}) {
    auto e = event_named(env, id);
    CHECK(e["state"] == "held");
    CHECK(e["reason"].get<std::string>().find("supervised") != std::string::npos);
  }
  CHECK(the_user(env, "ann.held@example.com")["active"] == true);
  CHECK(the_user(env, "rex.rejected@example.com")["active"] == true);
  auto plan = env.h2rd({"plan", env.dir().write("plan/t.json", event_json("t-9", "terminate", id_only("E1"))).string()});
  // The queued held t-1 comes first; t-9 waits behind it and would be held in its turn.
  CHECK(plan.out.find("held: supervised: terminate waits for `h2rd events approve " + id_text(env, "t-1") + "`") !=
        std::string::npos);
  CHECK(plan.out.find("held: supervised: terminate waits for `h2rd events approve ID`") != std::string::npos);
  CHECK(plan.out.find("due: after t-1 of the same employee, which is held") != std::string::npos);
  // Held events stay held through further cycles.
  CHECK(env.run_once().exit_code == 0);
  CHECK(state_of(env, "t-1") == "held");

  auto approve = env.h2rd({"events", "approve", id_text(env, "t-1")});
  INFO(approve.err);
  CHECK(approve.exit_code == 0);
  CHECK(approve.out.find("1 event approved") != std::string::npos);
  auto reject = env.h2rd({"events", "reject", id_text(env, "t-2")});
  CHECK(reject.exit_code == 0);
  CHECK(state_of(env, "t-2") == "rejected");
  CHECK(env.run_once().exit_code == 0);
  CHECK(state_of(env, "t-1") == "done");
  CHECK(the_user(env, "ann.held@example.com")["active"] == false);
  CHECK(the_user(env, "rex.rejected@example.com")["active"] == true);
  CHECK(state_of(env, "t-2") == "rejected");

  // Approving what is not held is an error naming the id.
  auto again = env.h2rd({"events", "approve", id_text(env, "t-1")});
  CHECK(again.exit_code == 1);
  CHECK_FALSE(again.err.empty());
  CHECK(env.h2rd({"events", "approve"}).exit_code == 2);
}

TEST_CASE("e2e lifecycle: the guard holds a mass termination until approve --all, and status shows it") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("lifecycle:\n  guard: { max_deactivations_per_cycle: 2 }\n");
  H2rEnv env(options);
  apply(env, "hires.json", "[" + event_json("h-1", "hire", employee("E1", "A", "One")) + "," +
                               event_json("h-2", "hire", employee("E2", "B", "Two")) + "," +
                               event_json("h-3", "hire", employee("E3", "C", "Three")) + "]");
  const std::string terms = "[" + event_json("t-1", "terminate", id_only("E1")) + "," +
                            event_json("t-2", "terminate", id_only("E2")) + "," +
                            event_json("t-3", "terminate", id_only("E3")) + "]";
  // plan warns that the guard would hold them.
  auto plan = env.h2rd({"plan", env.dir().write("plan/terms.json", terms).string()});
  CHECK(plan.exit_code == 0);
  CHECK(plan.out.find("terms.json would take away 3 (deactivate, delete, license or user type down), more than "
                      "lifecycle.guard.max (2) per 1h") != std::string::npos);
  env.drop("terms.json", terms);
  auto run = env.run_once();
  CHECK(run.exit_code == 0);
  CHECK(run.err.find("guard.held") != std::string::npos);
  CHECK(sim_count(env, "PATCH /Users/{id}") == 0);
  for (const char* email : {"a.one@example.com", "b.two@example.com", "c.three@example.com"})
    CHECK(the_user(env, email)["active"] == true);

  auto held = env.h2rd_json({"events", "list", "--state", "held"});
  REQUIRE(held.size() == 3);
  for (const auto& e : held) CHECK(e["reason"].get<std::string>().find("lifecycle.guard.max (2) per 1h") != std::string::npos);
  auto status = env.h2rd_json({"status"});
  CHECK(status["queue"]["held"] == 3);
  auto status_text = env.h2rd({"status"});
  CHECK(status_text.out.find("3 events held for approval") != std::string::npos);
  auto list_text = env.h2rd({"events", "list", "--state", "held"});
  CHECK(list_text.out.find("guard:") != std::string::npos);

  auto approve = env.h2rd({"events", "approve", "--all"});
  CHECK(approve.out.find("3 events approved") != std::string::npos);
  CHECK(env.run_once().exit_code == 0);
  for (const char* email : {"a.one@example.com", "b.two@example.com", "c.three@example.com"})
    CHECK(the_user(env, email)["active"] == false);
  CHECK(env.h2rd_json({"events", "list", "--state", "held"}).empty());
  CHECK(env.h2rd_json({"status"})["queue"]["done"] == 6);
}

TEST_CASE("e2e lifecycle: two terminations under the guard's limit go straight through") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("lifecycle:\n  guard: { max_deactivations_per_cycle: 2 }\n");
  H2rEnv env(options);
  apply(env, "hires.json", "[" + event_json("h-1", "hire", employee("E1", "A", "One")) + "," +
                               event_json("h-2", "hire", employee("E2", "B", "Two")) + "]");
  apply(env, "terms.json", "[" + event_json("t-1", "terminate", id_only("E1")) + "," +
                               event_json("t-2", "terminate", id_only("E2")) + "]");
  CHECK(state_of(env, "t-1") == "done");
  CHECK(state_of(env, "t-2") == "done");
}

TEST_CASE("e2e lifecycle: events list filters, show, retry of a failed event (text and --json)") {
  // The group the role names does not exist: the hire fails, permanently, with a reason naming it.
  H2rEnvOptions options;
  options.rules = spec_rules_with("");
  auto at = options.rules.find("      role: Member\n");
  options.rules.insert(at + std::string("      role: Member\n").size(), "      groups: [Engineering]\n");
  H2rEnv env(options);
  apply(env, "hires.json", "[" + event_json("h-1", "hire", employee("E1", "Eng", "Ineer")) + "," +
                               event_json("h-2", "hire", employee("E2", "Sal", "Es", "Sales")) + "]", 1);
  auto failed = event_named(env, "h-1");
  CHECK(failed["state"] == "failed");
  CHECK(failed["reason"].get<std::string>().find("group 'Engineering'") != std::string::npos);
  CHECK(state_of(env, "h-2") == "done");
  CHECK(env.sim_users_named("eng.ineer@example.com").empty());   // checked before any write

  auto by_state = env.h2rd_json({"events", "list", "--state", "failed"});
  REQUIRE(by_state.size() == 1);
  CHECK(by_state[0]["event_id"] == "h-1");
  auto by_employee = env.h2rd_json({"events", "list", "--employee", "E2"});
  REQUIRE(by_employee.size() == 1);
  CHECK(by_employee[0]["event_id"] == "h-2");
  auto text = env.h2rd({"events", "list", "--employee", "E1"});
  CHECK(text.out.find("h-1") != std::string::npos);
  CHECK(text.out.find("failed") != std::string::npos);
  CHECK(text.out.find("h-2") == std::string::npos);
  CHECK(env.h2rd({"events", "list", "--state", "bogus"}).exit_code == 2);

  auto show = env.h2rd_json({"events", "show", id_text(env, "h-2")});
  CHECK(show["fields"]["email"] == "sal.es@example.com");
  CHECK(show["result"]["actions"][0]["action"] == "created");
  CHECK_FALSE(show["rules_version"].get<std::string>().empty());
  auto show_text = env.h2rd({"events", "show", id_text(env, "h-2")});
  CHECK(show_text.out.find("The event is done.") != std::string::npos);
  CHECK(env.h2rd({"events", "show", "999"}).exit_code == 1);

  // The admin creates the group; retry brings the failed hire back and it completes.
  env.sim().seed_group("Engineering");
  auto retry = env.h2rd_json({"events", "retry", "--failed"});
  CHECK(retry["changed"] == 1);
  CHECK(state_of(env, "h-1") == "pending");
  CHECK(env.run_once().exit_code == 0);
  CHECK(state_of(env, "h-1") == "done");
  auto groups = env.sim().groups();
  auto user_id = the_user(env, "eng.ineer@example.com")["id"];
  bool member = false;
  for (const auto& g : groups)
    if (g.value("displayName", "") == "Engineering")
      for (const auto& m : g.value("members", json::array())) member = member || m["value"] == user_id;
  CHECK(member);
  // retry ID of an event that is not failed changes nothing and says why (exit 1).
  auto single = env.h2rd({"events", "retry", id_text(env, "h-1")});
  CHECK(single.exit_code == 1);
  CHECK(single.err.find("is done; only failed events, or pending ones waiting to try again, can be retried") != std::string::npos);
}

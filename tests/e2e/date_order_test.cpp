// Issue 24, case 5: an employee's events act in effective-date order, not arrival order — against
// zoom-sim through `h2rd run --once`, each case asserting the Zoom user's attributes and active flag
// afterwards and the calls made, not only the events' states (h2r-events(5), DATE ORDER).
#include "lifecycle_util.hpp"

#include "store/open_store.hpp"
#include "support/eventually.hpp"
#include "support/scratch_pg.hpp"
#include "support/test_paths.hpp"

using namespace h2r::test;
using nlohmann::json;

namespace {

json anna(const std::string& title = "Engineer") {
  json e = employee("E5", "Anna", "Berg");
  e["email"] = "anna@example.com";
  e["job_title"] = title;
  return e;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string id_of(H2rEnv& env, const std::string& event_id) {
  return std::to_string(event_named(env, event_id)["id"].get<long long>());
}

// Every changing call zoom-sim answered so far.
long long writes(H2rEnv& env) {
  const json stats = env.sim().stats();   // kept: items() refers into it
  long long n = 0;
  for (const auto& [route, count] : stats.at("requests").items())
    if (route.rfind("GET ", 0) != 0) n += count.get<long long>();
  return n;
}

// The employee as h2r stored it (the record and status the fold gave).
h2r::EmployeeRow stored(H2rEnv& env, const std::string& employee_id) {
  auto store = h2r::open_store(env.database());
  REQUIRE(store);
  auto row = (*store)->get_employee(employee_id);
  REQUIRE(row);
  REQUIRE(row->has_value());
  return **row;
}

void write_rules(H2rEnv& env, const std::string& rules) { env.dir().write("rules.yaml", rules); }

} // namespace

TEST_CASE("e2e date order: a terminate dated before an applied rehire is superseded and the user stays active") {
  H2rEnv env;
  apply(env, "1.json", event_json("evt-hire", "hire", anna(), "2025-01-10"));
  apply(env, "2.json", event_json("evt-term", "terminate", anna(), "2025-06-01"));
  apply(env, "3.json", event_json("evt-rehire", "rehire", anna(), "2025-09-01"));
  const json rehired = the_user(env, "anna@example.com");
  REQUIRE(rehired["active"] == true);
  const long long calls = writes(env);

  // Yesterday's terminate (relative to the rehire) arrives after the rehire was applied.
  apply(env, "4.json", event_json("evt-late-term", "terminate", anna(), "2025-08-31"));
  CHECK(state_of(env, "evt-late-term") == "superseded");
  const std::string reason = shown(env, "evt-late-term")["reason"].get<std::string>();
  CHECK(has(reason, "superseded by event " + id_of(env, "evt-rehire")));
  CHECK(has(reason, "rehire"));
  CHECK(has(reason, "evt-rehire"));
  CHECK(the_user(env, "anna@example.com") == rehired);   // still active, nothing changed
  CHECK(writes(env) == calls);
  CHECK(stored(env, "E5").status == h2r::HrStatus::active);

  // `events list --state superseded` finds it; `status` counts it.
  auto listed = env.h2rd_json({"events", "list", "--state", "superseded"});
  REQUIRE(listed.is_array());
  CHECK(listed.size() == 1);
  CHECK(env.h2rd_json({"status"})["queue"]["superseded"] == 1);
}

TEST_CASE("e2e date order: an older update arriving after a newer one pushes only what the newer one left") {
  H2rEnv env;
  apply(env, "1.json", event_json("evt-hire", "hire", anna(), "2025-01-10"));
  apply(env, "2.json", event_json("evt-new", "update", anna("Lead Engineer"), "2025-03-01"));
  REQUIRE(the_user(env, "anna@example.com")["title"] == "Lead Engineer");
  const long long calls = writes(env);

  // An update dated between the two, with a stale title only: superseded, no call.
  const json stale = anna("Senior Engineer");
  apply(env, "3.json", event_json("evt-old", "update", stale, "2025-02-01"));
  CHECK(state_of(env, "evt-old") == "superseded");
  CHECK(has(shown(env, "evt-old")["reason"].get<std::string>(), "evt-new"));
  CHECK(the_user(env, "anna@example.com")["title"] == "Lead Engineer");
  CHECK(writes(env) == calls);

  // An older one with the stale title and a phone the newer one never set: the phone goes out, the
  // title stays the newer one's.
  json stale_phone = stale;
  stale_phone["phone"] = "+1 555 0100";
  apply(env, "4.json", event_json("evt-old-phone", "update", stale_phone, "2025-02-15"));
  CHECK(state_of(env, "evt-old-phone") == "done");
  const json user = the_user(env, "anna@example.com");
  CHECK(user["title"] == "Lead Engineer");
  REQUIRE(user["phoneNumbers"].is_array());
  CHECK(user["phoneNumbers"][0]["value"] == "+1 555 0100");
  const auto record = stored(env, "E5").record;
  CHECK(record.at("job_title") == "Lead Engineer");
  CHECK(record.at("phone") == "+1 555 0100");
}

TEST_CASE("e2e date order: events retry of a hire that failed before a terminate creates no account") {
  // The hire's role names a group Zoom does not have: it fails before any write.
  H2rEnvOptions options;
  const std::string with_group = std::string(k_spec_rules).replace(
      std::string(k_spec_rules).find("      role: Member\n"), std::string("      role: Member\n").size(),
      "      role: Member\n      groups: [Missing]\n");
  options.rules = with_group;
  H2rEnv env(options);
  apply(env, "1.json", event_json("evt-hire", "hire", anna(), "2025-01-10"), 1);
  REQUIRE(state_of(env, "evt-hire") == "failed");
  apply(env, "2.json", event_json("evt-term", "terminate", anna(), "2025-06-01"));
  REQUIRE(state_of(env, "evt-term") == "skipped");   // no Zoom user to act on

  // The group problem is fixed; the operator retries the failed hire.
  write_rules(env, k_spec_rules);
  REQUIRE(env.h2rd({"events", "retry", id_of(env, "evt-hire")}).exit_code == 0);
  apply(env, "none.json", "[]");
  CHECK(state_of(env, "evt-hire") == "superseded");
  CHECK(has(shown(env, "evt-hire")["reason"].get<std::string>(), "evt-term"));
  CHECK(env.sim_users_named("anna@example.com").empty());   // no account for a terminated person
  CHECK(sim_count(env, "POST /Users") == 0);
  CHECK(stored(env, "E5").status == h2r::HrStatus::terminated);
}

TEST_CASE("e2e date order: events retry of a terminate that failed before a rehire leaves the rehired user active") {
  H2rEnv env;
  apply(env, "1.json", event_json("evt-hire", "hire", anna(), "2025-01-10"));
  // Zoom refuses the terminate (a scope missing): `run --once` fails it.
  env.sim().configure({{"missing_scope", true}});
  apply(env, "2.json", event_json("evt-term", "terminate", anna(), "2025-06-01"), 1);
  REQUIRE(state_of(env, "evt-term") == "failed");
  env.sim().configure({{"missing_scope", false}});
  REQUIRE(env.h2rd({"connection", "test", "zoom-main"}).exit_code == 0);
  apply(env, "3.json", event_json("evt-rehire", "rehire", anna(), "2025-09-01"));
  const json rehired = the_user(env, "anna@example.com");
  REQUIRE(rehired["active"] == true);
  const long long calls = writes(env);

  REQUIRE(env.h2rd({"events", "retry", id_of(env, "evt-term")}).exit_code == 0);
  apply(env, "none.json", "[]");
  CHECK(state_of(env, "evt-term") == "superseded");
  CHECK(has(shown(env, "evt-term")["reason"].get<std::string>(), "evt-rehire"));
  CHECK(the_user(env, "anna@example.com") == rehired);
  CHECK(writes(env) == calls);
}

TEST_CASE("e2e date order: a late leave dated before a newer update still applies (its status is not overridden)") {
  // lifecycle.leave deactivates a long-term leave (the SPEC default); the newer update changes no status.
  H2rEnv env;
  apply(env, "1.json", event_json("evt-hire", "hire", anna(), "2025-01-10"));
  apply(env, "2.json", event_json("evt-update", "update", anna("Lead Engineer"), "2025-03-01"));
  apply(env, "3.json", event_json("evt-leave", "leave", anna(), "2025-02-01", "long_term"));
  CHECK(state_of(env, "evt-leave") == "done");
  const json user = the_user(env, "anna@example.com");
  CHECK(user["active"] == false);
  CHECK(user["title"] == "Lead Engineer");   // the newer update's title was not taken back
  CHECK(stored(env, "E5").status == h2r::HrStatus::on_leave);
}

TEST_CASE("pg date order: the daemon on PostgreSQL folds a late terminate under the applied rehire") {
  H2R_SKIP_UNLESS_PG();
  ScratchDatabase db;
  H2rEnvOptions options;
  options.database = db.url();
  H2rEnv env(options);
  ChildProcess daemon({h2rd_path(), "-c", env.config_path(), "run"});
  const auto settle = [&](const std::string& file, const std::string& content, const std::string& event_id,
                          const std::string& state) { drop_and_wait(env, daemon, file, content, event_id, state); };
  settle("1.json", event_json("evt-hire", "hire", anna(), "2025-01-10"), "evt-hire", "done");
  settle("2.json", event_json("evt-term", "terminate", anna(), "2025-06-01"), "evt-term", "done");
  settle("3.json", event_json("evt-rehire", "rehire", anna(), "2025-09-01"), "evt-rehire", "done");
  const json rehired = the_user(env, "anna@example.com");
  REQUIRE(rehired["active"] == true);
  const long long calls = writes(env);
  settle("4.json", event_json("evt-late-term", "terminate", anna(), "2025-08-31"), "evt-late-term", "superseded");
  CHECK(has(shown(env, "evt-late-term")["reason"].get<std::string>(), "evt-rehire"));
  CHECK(the_user(env, "anna@example.com") == rehired);
  CHECK(writes(env) == calls);
  CHECK(stored(env, "E5").status == h2r::HrStatus::active);
  CHECK(daemon.stop() == 0);
}

// Issue 24: one Zoom user belongs to one person — against zoom-sim through `h2rd run --once`, each case
// asserting the Zoom users' attributes and active flag afterwards, not only the events' states.
#include "lifecycle_util.hpp"

#include "rules/text_fold.hpp"
#include "store/open_store.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "support/scratch_pg.hpp"
#include "support/test_paths.hpp"

using namespace h2r::test;
using nlohmann::json;

namespace {

json person(const std::string& id, const std::string& first, const std::string& last, const std::string& email) {
  json e = employee(id, first, last);
  e["email"] = email;
  return e;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The numeric id of the event HR calls `event_id`, as the CLI takes it.
std::string id_of(H2rEnv& env, const std::string& event_id) {
  return std::to_string(event_named(env, event_id)["id"].get<long long>());
}

// What another daemon has done when it is between its create and the link that records it: reserved
// the login for its employee (Store::reserve_user_name) and created the user at Zoom.
json reserved_and_created(H2rEnv& env, const std::string& employee_id, const std::string& user_name) {
  auto store = h2r::open_store(env.database());
  REQUIRE(store);
  auto reserved = (*store)->reserve_user_name({"zoom-main", h2r::fold_case(user_name), user_name, employee_id, 1});
  REQUIRE_MESSAGE(reserved, reserved.error().message);
  REQUIRE(reserved->empty());
  return env.sim().seed_user(
      {{"schemas", {"urn:ietf:params:scim:schemas:core:2.0:User"}},
       {"userName", user_name},
       {"name", {{"givenName", "Anna"}, {"familyName", "Berg"}}},
       {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", {{"employeeNumber", employee_id}}}});
}

// The reserved-login case as written, for one way of running h2r: `settle(file, content, event_id,
// state)` drops the file and returns once the event ended in `state`.
template <class Settle>
void reserved_login_is_not_taken(H2rEnv& env, Settle settle) {
  const json anna = reserved_and_created(env, "E1", "anna@example.com");
  settle("e9.json", event_json("evt-9", "hire", person("E9", "Anna", "Other", "Anna@Example.com")), "evt-9", "held");
  const std::string reason = shown(env, "evt-9")["reason"].get<std::string>();
  CHECK(has(reason, "conflict: "));
  CHECK(has(reason, "reserved for employee E1"));
  CHECK(has(reason, "employee E9"));
  CHECK(the_user(env, "anna@example.com") == anna);   // not renamed, not renumbered: still E1's
  CHECK(sim_count(env, "PUT /Users/{id}") == 0);
  CHECK(sim_count(env, "POST /Users") == 0);
}

} // namespace

TEST_CASE("e2e identity: a login another daemon has reserved and created is not taken over by a second hire") {
  H2rEnv env;
  reserved_login_is_not_taken(env, [&](const std::string& file, const std::string& content, const std::string& event_id,
                                       const std::string& state) {
    apply(env, file, content);
    REQUIRE(state_of(env, event_id) == state);
  });
}

TEST_CASE("pg identity: two daemons, one login: a hire never takes over the user the other daemon is creating") {
  H2R_SKIP_UNLESS_PG();
  ScratchDatabase db;
  H2rEnvOptions options;
  options.database = db.url();
  H2rEnv env(options);
  ChildProcess daemon({h2rd_path(), "-c", env.config_path(), "run"});
  reserved_login_is_not_taken(env, [&](const std::string& file, const std::string& content, const std::string& event_id,
                                       const std::string& state) {
    drop_and_wait(env, daemon, file, content, event_id, state);
  });
  CHECK(daemon.stop() == 0);
}

TEST_CASE("e2e identity: ZOË@ and zoë@ are one login on every backend: the second hire is held as a conflict") {
  H2rEnv env;
  apply(env, "e1.json", event_json("evt-1", "hire", person("E1", "Zoë", "Berg", "zoë@example.com")));
  const json zoe = the_user(env, "zoë@example.com");
  REQUIRE(zoe["active"] == true);
  // zoom-sim compares userNames ignoring ASCII case only, as SQLite's NOCASE does: without Unicode
  // folding h2r would create a second user for the same person's login.
  apply(env, "e9.json", event_json("evt-9", "hire", person("E9", "Zoë", "Other", "ZOË@example.com")));
  CHECK(state_of(env, "evt-9") == "held");
  const std::string reason = shown(env, "evt-9")["reason"].get<std::string>();
  CHECK(has(reason, "employee E1"));
  CHECK(has(reason, "employee E9"));
  CHECK(env.sim_users_named("ZOË@example.com").empty());
  CHECK(the_user(env, "zoë@example.com") == zoe);
  CHECK(sim_count(env, "POST /Users") == 1);
}

TEST_CASE("e2e identity: links from before reservations get their logins at the next run, Unicode case included") {
  H2rEnv env;
  apply(env, "e1.json", event_json("evt-1", "hire", person("E1", "Zoë", "Berg", "zoë@example.com")));
  const json zoe = the_user(env, "zoë@example.com");
  {   // as a database from before reservations (or one `h2rd migrate` filled) holds it: the link alone
    auto db = h2r::sqlite::Db::open(env.database());
    REQUIRE(db);
    REQUIRE((*db)->exec("DELETE FROM user_names"));
    REQUIRE((*db)->exec("DELETE FROM meta WHERE key = 'logins.reserved'"));
  }
  // SQLite's NOCASE lookup of links folds ASCII only, and zoom-sim finds ZOË@ no more than it: only the
  // reservation the next run takes for E1's link keeps E9 off Zoë's login.
  apply(env, "e9.json", event_json("evt-9", "hire", person("E9", "Zoë", "Other", "ZOË@example.com")));
  CHECK(state_of(env, "evt-9") == "held");
  CHECK(has(shown(env, "evt-9")["reason"].get<std::string>(), "reserved for employee E1"));
  CHECK(env.sim_users_named("ZOË@example.com").empty());
  CHECK(the_user(env, "zoë@example.com") == zoe);
}

TEST_CASE("e2e identity: a second hire with another employee's address, case aside, is held as a conflict") {
  H2rEnv env;
  apply(env, "e1.json", event_json("evt-1", "hire", person("E1", "Anna", "Berg", "anna@example.com")));
  const json anna = the_user(env, "anna@example.com");
  REQUIRE(anna["active"] == true);

  // E9 as Anna@Example.com, and E10 as the very same address: both held, E1's Zoom user untouched.
  apply(env, "e9.json", event_json("evt-9", "hire", person("E9", "Anna", "Other", "Anna@Example.com")));
  apply(env, "e10.json", event_json("evt-10", "hire", person("E10", "Ann", "Third", "anna@example.com")));
  for (const auto& [event_id, employee_id] : {std::pair{"evt-9", "E9"}, std::pair{"evt-10", "E10"}}) {
    CAPTURE(event_id);
    CHECK(state_of(env, event_id) == "held");
    const std::string reason = shown(env, event_id)["reason"].get<std::string>();
    CHECK(has(reason, "conflict: "));
    CHECK(has(reason, "employee E1"));
    CHECK(has(reason, std::string("employee ") + employee_id));
    CHECK(has(reason, "anna@example.com"));
    CHECK(has(reason, anna["id"].get<std::string>()));
  }
  CHECK(the_user(env, "anna@example.com") == anna);   // name, employee number, active: all as E1 left them
  CHECK(sim_count(env, "POST /Users") == 1);
  CHECK(sim_count(env, "PUT /Users/{id}") == 0);

  // `h2rd status` names the conflict in ATTENTION, with both employees.
  auto status = env.h2rd({"status"});
  CHECK(has(status.out, "ATTENTION"));
  CHECK(has(status.out, "held as a conflict: Zoom user 'anna@example.com'"));
  CHECK(has(status.out, "employee E9"));

  // Approving without fixing anything checks again: held again, still nothing changed.
  REQUIRE(env.h2rd({"events", "approve", id_of(env, "evt-9")}).exit_code == 0);
  REQUIRE(env.run_once().exit_code == 0);
  CHECK(state_of(env, "evt-9") == "held");
  CHECK(the_user(env, "anna@example.com") == anna);

  // Rejected, E9 is no one h2r knows: a terminate for E9 does not deactivate E1's user.
  REQUIRE(env.h2rd({"events", "reject", id_of(env, "evt-9"), "--reason", "same address as E1"}).exit_code == 0);
  apply(env, "t9.json", event_json("evt-11", "terminate", person("E9", "Anna", "Other", "Anna@Example.com")));
  CHECK(state_of(env, "evt-11") == "skipped");
  const json after = the_user(env, "anna@example.com");
  CHECK(after["active"] == true);
  CHECK(after == anna);
  CHECK(sim_count(env, "PATCH /Users/{id}") == 0);
}

TEST_CASE("e2e identity: an update and a terminate for an unknown employee id never search Zoom or act") {
  for (const std::string terminate_action : {"deactivate", "delete"}) {
    CAPTURE(terminate_action);
    H2rEnvOptions options;
    options.rules = spec_rules_with("lifecycle:\n  terminate: { action: " + terminate_action + " }\n");
    H2rEnv env(options);
    apply(env, "ceo.json", event_json("evt-1", "hire", person("E1", "Erin", "Exec", "erin@example.com")));
    const json erin = the_user(env, "erin@example.com");
    const long long searches = sim_count(env, "GET /Users");

    // A never-seen id carrying Erin's address.
    apply(env, "u.json", event_json("evt-2", "update", person("E404", "Mallory", "Taker", "erin@example.com")));
    apply(env, "t.json", event_json("evt-3", "terminate", person("E404", "Mallory", "Taker", "erin@example.com")));
    for (const char* event_id : {"evt-2", "evt-3"}) {
      CAPTURE(event_id);
      CHECK(state_of(env, event_id) == "skipped");
      CHECK(has(shown(env, event_id)["reason"].get<std::string>(), "unknown employee"));
    }
    CHECK(sim_count(env, "GET /Users") == searches);
    const json after = the_user(env, "erin@example.com");
    CHECK(after["active"] == true);
    CHECK(after == erin);
  }
}

TEST_CASE("e2e identity: a hire for a known employee id with another name and address is held (employee id reused?)") {
  H2rEnv env;
  apply(env, "hire.json", event_json("evt-1", "hire", person("E3", "Carol", "Jones", "carol@example.com")));
  apply(env, "term.json", event_json("evt-2", "terminate", person("E3", "Carol", "Jones", "carol@example.com")));
  const json carol = the_user(env, "carol@example.com");
  REQUIRE(carol["active"] == false);

  // `h2rd plan` of the file says what `run` will do: hold it.
  const auto file = env.dir().write("reuse.json", event_json("evt-3", "hire", person("E3", "Dave", "Smith", "dave@example.com")));
  auto plan = env.h2rd({"plan", file.string()});
  INFO(plan.out);
  CHECK(has(plan.out, "held: conflict: employee id reused?"));
  apply(env, "reuse.json", event_json("evt-3", "hire", person("E3", "Dave", "Smith", "dave@example.com")));
  CHECK(state_of(env, "evt-3") == "held");
  const std::string reason = shown(env, "evt-3")["reason"].get<std::string>();
  CHECK(has(reason, "employee id reused?"));
  CHECK(has(reason, "carol@example.com"));
  CHECK(has(reason, "dave@example.com"));
  const json after = the_user(env, "carol@example.com");
  CHECK(after["active"] == false);
  CHECK(after["name"]["givenName"] == "Carol");
  CHECK(after["name"]["familyName"] == "Jones");
  CHECK(after == carol);
  CHECK(env.sim_users_named("dave@example.com").empty());
}

TEST_CASE("e2e identity: a create answered with another user is not linked, and a later terminate leaves that user") {
  H2rEnv env;
  apply(env, "e1.json", event_json("evt-1", "hire", person("E1", "Anna", "Berg", "anna@example.com")));
  const json anna = the_user(env, "anna@example.com");

  env.sim().configure({{"create_answers_other", true}});
  apply(env, "e2.json", event_json("evt-2", "hire", person("E2", "Bob", "Byte", "bob@example.com")), 1);
  CHECK(state_of(env, "evt-2") == "failed");
  const std::string reason = shown(env, "evt-2")["reason"].get<std::string>();
  CHECK(has(reason, "another user"));
  CHECK(has(reason, "anna@example.com"));   // Zoom's answer, quoted
  CHECK(reason.size() < 2000);
  CHECK(the_user(env, "anna@example.com") == anna);

  env.sim().configure({{"create_answers_other", false}});
  apply(env, "t2.json", event_json("evt-3", "terminate", person("E2", "Bob", "Byte", "bob@example.com")));
  const json after = the_user(env, "anna@example.com");
  CHECK(after["active"] == true);
  CHECK(after == anna);
  CHECK(sim_count(env, "PATCH /Users/{id}") == 0);
  CHECK(env.sim_users_named("bob@example.com").empty());
}

TEST_CASE("e2e identity: two hires with one address in one file: one Zoom user, the second held as a conflict") {
  H2rEnv env;
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    const std::string address = "twin" + std::to_string(round) + "@example.com";
    const std::string a = "A" + std::to_string(round), b = "B" + std::to_string(round);
    const std::string file = "[" + event_json("evt-a" + std::to_string(round), "hire", person(a, "Ann", "One", address)) + "," +
                             event_json("evt-b" + std::to_string(round), "hire", person(b, "Bob", "Two", address)) + "]";
    env.drop("twins" + std::to_string(round) + ".json", file);
    auto run = env.run_once();
    INFO(run.err);
    const auto users = env.sim_users_named(address);
    REQUIRE(users.size() == 1);
    const std::string sa = state_of(env, "evt-a" + std::to_string(round));
    const std::string sb = state_of(env, "evt-b" + std::to_string(round));
    CHECK(((sa == "done" && sb == "held") || (sa == "held" && sb == "done")));
    const std::string owner = sa == "done" ? a : b;
    CHECK(users[0]["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"] == owner);
  }
}

// Issue 28: `userName: "{emial}"` (a typo) passed and sent userName "" to every linked user, and an HR
// `"email": null` did the same for one. An address that renders empty fails the event before any call,
// naming the attribute and the field.
TEST_CASE("e2e identity: a userName that renders empty fails the event before any call, naming the field") {
  H2rEnv env;
  apply(env, "hire.json", event_json("h-1", "hire", person("E1", "Ada", "Ng", "ada.ng@example.com")));
  const json before = the_user(env, "ada.ng@example.com");

  SUBCASE("HR sends the e-mail as null") {
    json moved = person("E1", "Ada", "Ng", "ada.ng@example.com");
    moved["email"] = nullptr;
    moved["job_title"] = "Lead";
    apply(env, "null.json", event_json("u-1", "update", moved), 1);
    const json shown = event_named(env, "u-1");
    CHECK(shown["state"] == "failed");
    const std::string reason = shown["reason"].get<std::string>();
    CHECK(has(reason, "userName is empty"));
    CHECK(has(reason, "no value for email"));
  }
  SUBCASE("the rules misspell the field") {
    // A field the login uses must be known or declared (h2r-rules(5) hr_fields): the run refuses the
    // rules before reading an event, so no user is touched.
    std::string rules = k_spec_rules;
    rules.replace(rules.find("userName: \"{email}\""), 19, "userName: \"{emial}\"");
    env.dir().write("rules.yaml", rules);
    json moved = person("E1", "Ada", "Ng", "ada.ng@example.com");
    moved["job_title"] = "Lead";
    env.drop("typo.json", event_json("u-2", "update", moved));
    auto run = env.run_once();
    CHECK(run.exit_code == 78);
    CHECK(has(run.err, "field 'emial' decides who gets which Zoom user"));
  }
  CHECK(sim_count(env, "PUT /Users/{id}") == 0);
  CHECK(sim_count(env, "PATCH /Users/{id}") == 0);
  const json after = the_user(env, "ada.ng@example.com");
  CHECK(after["userName"] == before["userName"]);
  CHECK(after.value("title", "") == before.value("title", ""));
}

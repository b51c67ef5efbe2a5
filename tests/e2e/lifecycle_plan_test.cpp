// Issue 3: `h2rd plan` (dry run: only GETs reach Zoom, nothing stored) and `h2rd reconcile` (drift made
// behind h2r's back in zoom-sim found, and fixed only with --apply; strangers never touched).
#include "lifecycle_util.hpp"

#include <filesystem>

using namespace h2r::test;
using nlohmann::json;

namespace {

// Requests by route whose count changed between two /_sim/stats snapshots.
std::map<std::string, long long> changed_routes(const json& before, const json& after) {
  std::map<std::string, long long> out;
  for (auto it = after["requests"].begin(); it != after["requests"].end(); ++it) {
    long long delta = it->get<long long>() - before["requests"].value(it.key(), 0LL);
    if (delta != 0) out[it.key()] = delta;
  }
  return out;
}

std::vector<std::string> inbox_listing(H2rEnv& env) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(env.inbox())) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

TEST_CASE("e2e lifecycle: plan prints each SCIM call with its diff and makes no write call") {
  H2rEnv env;
  apply(env, "hire.json", "[" + event_json("h-1", "hire", employee("E1001", "Jill", "Chill")) + "," +
                              event_json("h-2", "hire", employee("E1003", "Tom", "Term")) + "]");
  const auto jill_id = the_user(env, "jill.chill@example.com")["id"].get<std::string>();
  const std::string plan_file =
      env.dir().write("plan/changes.json",
                      "[" + event_json("p-1", "update", {{"employee_id", "E1001"}, {"department", "Sales"}}) + "," +
                          event_json("p-2", "hire", employee("E1002", "New", "Hire")) + "," +
                          event_json("p-3", "terminate", {{"employee_id", "E1003"}}) + "," +
                          event_json("p-4", "update", {{"employee_id", "E1001"}, {"department", "Sales"}}) + "]")
          .string();
  const auto stats_before = env.sim().stats();
  const auto users_before = env.sim().users();
  const auto events_before = env.events();
  const auto status_before = env.h2rd_json({"status"});
  const auto inbox_before = inbox_listing(env);

  auto text = env.h2rd({"plan", plan_file});
  INFO(text.err);
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("PUT /Users/" + jill_id) != std::string::npos);
  CHECK(text.out.find("userType: Licensed → Basic") != std::string::npos);
  CHECK(text.out.find("zoom.zoomOneBizPlus: true → false") != std::string::npos);   // the rules' short name
  CHECK(text.out.find("POST /Users  (create new.hire@example.com)") != std::string::npos);
  CHECK(text.out.find("userName: - → new.hire@example.com") != std::string::npos);
  CHECK(text.out.find("(deactivate tom.term@example.com)") != std::string::npos);
  CHECK(text.out.find("active: true → false") != std::string::npos);
  // The second identical update sees the first one's effect: nothing more to send.
  CHECK(text.out.find("p-4") != std::string::npos);

  auto j = env.h2rd_json({"plan", plan_file});
  REQUIRE(j.size() == 4);
  CHECK(j[0]["event_id"] == "p-1");
  REQUIRE(j[0]["actions"].size() == 1);
  auto put = j[0]["actions"][0]["calls"][0];
  CHECK(put["method"] == "PUT");
  CHECK(put["target"] == jill_id);
  bool saw_department = false;
  for (const auto& ch : put["changes"])
    if (ch["path"] == k_enterprise_urn + ".department") {
      saw_department = true;
      CHECK(ch["before"] == "Engineering");
      CHECK(ch["after"] == "Sales");
    }
  CHECK(saw_department);
  CHECK(j[1]["actions"][0]["calls"][0]["method"] == "POST");
  CHECK(j[2]["actions"][0]["calls"][0]["method"] == "PATCH");
  CHECK(j[3]["actions"][0]["action"] == "unchanged");

  // Only lookups reached Zoom; nothing changed in Zoom, the database or the inbox.
  for (const auto& [route, delta] : changed_routes(stats_before, env.sim().stats())) {
    CAPTURE(route);
    CHECK((route.rfind("GET ", 0) == 0 || route == "POST /oauth/token"));
  }
  CHECK(env.sim().users() == users_before);
  CHECK(env.events() == events_before);
  CHECK(env.h2rd_json({"status"})["queue"] == status_before["queue"]);
  CHECK(inbox_listing(env) == inbox_before);
  CHECK(std::filesystem::exists(plan_file));

  // A bad file stops the plan with an error naming it.
  const std::string bad = env.dir().write("plan/bad.json", "{\"event_id\": \"x\"}").string();
  auto bad_run = env.h2rd({"plan", bad});
  CHECK(bad_run.exit_code == 1);
  CHECK(bad_run.err.find("bad.json") != std::string::npos);
}

TEST_CASE("e2e lifecycle: reconcile finds drift made behind h2r's back and --apply fixes it") {
  H2rEnv env;
  apply(env, "hires.json", "[" + event_json("h-1", "hire", employee("E1", "Miss", "Ing")) + "," +
                               event_json("h-2", "hire", employee("E2", "Att", "Ributes")) + "," +
                               event_json("h-3", "hire", employee("E3", "Act", "Ive")) + "," +
                               event_json("h-4", "hire", employee("E4", "In", "Sync")) + "," +
                               event_json("h-5", "hire", employee("E5", "Gone", "Away")) + "]");
  apply(env, "term.json", event_json("t-5", "terminate", {{"employee_id", "E5"}}));
  // Drift behind h2r's back.
  env.sim().delete_user(the_user(env, "miss.ing@example.com")["id"].get<std::string>());
  env.sim().patch_user(the_user(env, "att.ributes@example.com")["id"].get<std::string>(), {{"title", "Hacker"}});
  env.sim().patch_user(the_user(env, "act.ive@example.com")["id"].get<std::string>(), {{"active", false}});
  env.sim().patch_user(the_user(env, "gone.away@example.com")["id"].get<std::string>(), {{"active", true}});
  auto stray = env.sim().seed_user({{"schemas", {"urn:ietf:params:scim:schemas:core:2.0:User"}},
                                    {"userName", "stray@example.com"}, {"title", "Nobody's"}});

  const auto stats_before = env.sim().stats();
  auto report = env.h2rd_json({"reconcile"});
  CHECK(report["applied"] == false);
  CHECK(report["in_sync"] == 1);
  std::map<std::string, json> by_user;
  for (const auto& d : report["drift"]) by_user[d["userName"].get<std::string>()] = d;
  REQUIRE(by_user.size() == 5);
  CHECK(by_user["miss.ing@example.com"]["kind"] == "missing");
  CHECK(by_user["att.ributes@example.com"]["kind"] == "attributes");
  REQUIRE(by_user["att.ributes@example.com"]["changes"].size() == 1);
  CHECK(by_user["att.ributes@example.com"]["changes"][0]["path"] == "title");
  CHECK(by_user["att.ributes@example.com"]["changes"][0]["zoom"] == "Hacker");
  CHECK(by_user["att.ributes@example.com"]["changes"][0]["rules"] == "Engineer");
  CHECK(by_user["act.ive@example.com"]["kind"] == "active_state");
  CHECK(by_user["gone.away@example.com"]["kind"] == "active_state");
  CHECK(by_user["stray@example.com"]["kind"] == "unaccounted");
  for (const auto& [route, delta] : changed_routes(stats_before, env.sim().stats())) {
    CAPTURE(route);
    CHECK((route.rfind("GET ", 0) == 0 || route == "POST /oauth/token"));
  }
  auto text = env.h2rd({"reconcile"});
  CHECK(text.exit_code == 3);   // drift found, not fixed
  CHECK(text.out.find("employees checked: 5 = 1 in sync + 4 with drift + 0 left alone") != std::string::npos);
  CHECK(text.out.find("zoom users: 5, of which 1 no employee accounts for") != std::string::npos);
  CHECK(text.out.find("missing miss.ing@example.com (employee E1)") != std::string::npos);
  CHECK(text.out.find("unaccounted stray@example.com") != std::string::npos);
  CHECK(text.out.find("run with --apply") != std::string::npos);

  auto applied = env.h2rd_json({"reconcile", "--apply"});
  CHECK(applied["applied"] == true);
  for (const auto& d : applied["drift"]) {
    CAPTURE(d.dump());
    CHECK(d["fixed"] == (d["kind"] != "unaccounted"));
    CHECK(d["fix_error"] == "");
  }
  CHECK(the_user(env, "miss.ing@example.com")["active"] == true);
  CHECK(the_user(env, "att.ributes@example.com")["title"] == "Engineer");
  CHECK(the_user(env, "act.ive@example.com")["active"] == true);
  CHECK(the_user(env, "gone.away@example.com")["active"] == false);
  auto stray_now = the_user(env, "stray@example.com");
  CHECK(stray_now == stray);   // never touched

  auto after = env.h2rd_json({"reconcile"});
  REQUIRE(after["drift"].size() == 1);
  CHECK(after["drift"][0]["kind"] == "unaccounted");
  CHECK(after["in_sync"] == 5);

  // The recreated user is linked: a later update goes to it, no second user appears.
  apply(env, "upd.json", event_json("u-1", "update", {{"employee_id", "E1"}, {"job_title", "Boss"}}));
  CHECK(the_user(env, "miss.ing@example.com")["title"] == "Boss");
}

// Issue 13: rules edits converge. A rules change queues a `resync` for every linked employee whose
// Zoom user it changes — with no HR event — planned, supervised, guarded and applied like any other
// event; `plan --rules` previews the same employees; `rules.on_change: manual` waits for `h2rd resync`.
#include "lifecycle_util.hpp"
#include "support/eventually.hpp"
#include "support/test_paths.hpp"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>
#include <thread>

using namespace h2r::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  return text.replace(at, from.size(), to);
}

// Rewrites the file in place (same inode), as an admin's `cat > rules.yaml` would.
void write_in_place(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

json resyncs(H2rEnv& env, const std::string& state = "") {
  std::vector<std::string> args{"events", "list", "--type", "resync"};
  if (!state.empty()) args.insert(args.end(), {"--state", state});
  return env.h2rd_json(args);
}

std::set<std::string> employees_of(const json& events) {
  std::set<std::string> out;
  for (const auto& e : events) out.insert(e["employee_id"].get<std::string>());
  return out;
}

std::string hires(const std::vector<json>& employees) {
  std::string out = "[";
  for (std::size_t i = 0; i < employees.size(); ++i)
    out += (i ? "," : "") + event_json("h-" + employees[i]["employee_id"].get<std::string>(), "hire", employees[i]);
  return out + "]";
}

bool has_license(const json& user) {
  return user.contains(k_license_urn) && user[k_license_urn].value("zoomOneBizPlus", false);
}

} // namespace

TEST_CASE("e2e resync: a license taken from a role is turned off at Zoom after SIGHUP, with no HR event" * doctest::test_suite("threads")) {
  H2rEnv env;
  ChildProcess daemon({h2rd_path(), "-c", env.config_path(), "run"});
  env.drop("hires.json", hires({employee("E1", "Ann", "Alpha"), employee("E2", "Bob", "Beta"),
                                employee("E3", "Cy", "Gamma", "Sales")}));
  REQUIRE_MESSAGE(eventually([&] {
    auto events = env.events();
    return events.size() == 3 && std::all_of(events.begin(), events.end(), [](const json& e) { return e["state"] == "done"; });
  }), daemon.err());
  CHECK(has_license(the_user(env, "ann.alpha@example.com")));
  CHECK(has_license(the_user(env, "bob.beta@example.com")));
  const long long puts_before = sim_count(env, "PUT /Users/{id}");

  std::string edited = replaced(k_spec_rules, "      licenses: { zoomOneBizPlus: true }\n", "");
  // The preview names each engineer with the license old → new, in the rules' short names.
  auto preview = env.h2rd({"plan", "--rules", env.dir().write("proposed.yaml", edited).string()});
  INFO(preview.out);
  CHECK(preview.out.find("E1 (zoom-main ann.alpha@example.com): update\n  zoom.licenses.zoomOneBizPlus: true → false") !=
        std::string::npos);
  CHECK(preview.out.find("E3") == std::string::npos);
  CHECK(preview.out.find("licenses_off=2") != std::string::npos);
  write_in_place(env.rules_path(), edited);
  daemon.send_signal(SIGHUP);
  // Taking a license away is supervised by default (lifecycle.resync.deprovision): held, nothing sent.
  REQUIRE_MESSAGE(eventually([&] { return resyncs(env, "held").size() == 2; }), daemon.err());
  for (const auto& e : resyncs(env, "held"))
    CHECK(e["reason"].get<std::string>().find("would turn off " + k_license_urn + ".zoomOneBizPlus") != std::string::npos);
  CHECK(has_license(the_user(env, "ann.alpha@example.com")));
  CHECK(sim_count(env, "PUT /Users/{id}") == puts_before);
  REQUIRE(env.h2rd({"events", "approve", "--all"}).exit_code == 0);
  REQUIRE_MESSAGE(eventually([&] { return resyncs(env, "done").size() == 2; }), daemon.err());

  // Every engineer's license is off at Zoom; the staff employee was not touched.
  auto ann = the_user(env, "ann.alpha@example.com");
  CHECK(ann[k_license_urn]["zoomOneBizPlus"] == false);
  CHECK(ann["userType"] == "Licensed");
  CHECK(the_user(env, "bob.beta@example.com")[k_license_urn]["zoomOneBizPlus"] == false);
  CHECK(employees_of(resyncs(env)) == std::set<std::string>{"E1", "E2"});
  CHECK(sim_count(env, "PUT /Users/{id}") == puts_before + 2);
  CHECK(env.events().size() == 5);   // the 3 hires and 2 resyncs: no HR event
  auto version = env.h2rd_json({"status"})["rules"]["version"].get<std::string>();
  auto shown_resync = env.h2rd_json({"events", "show", "resync-" + version + "-E1"});
  CHECK(shown_resync["type"] == "resync");
  CHECK(shown_resync["state"] == "done");
  CHECK(shown_resync["rules_version"] == version);
  CHECK(daemon.err().find("resync.queued") != std::string::npos);
  CHECK(daemon.stop() == 0);
}

TEST_CASE("e2e resync: a department moved to another role changes the user type at the next start") {
  H2rEnv env;
  apply(env, "hires.json", hires({employee("E1", "Ann", "Alpha", "Sales"), employee("E2", "Bob", "Beta", "Support")}));
  CHECK(the_user(env, "ann.alpha@example.com")["userType"] == "Basic");
  // Sales joins engineering while h2rd is stopped: the next run sees another rules version.
  env.dir().write("rules.yaml", replaced(k_spec_rules, "in: [Engineering, Product]", "in: [Engineering, Product, Sales]"));
  auto run = env.run_once();
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  auto ann = the_user(env, "ann.alpha@example.com");
  CHECK(ann["userType"] == "Licensed");
  CHECK(has_license(ann));
  CHECK(the_user(env, "bob.beta@example.com")["userType"] == "Basic");
  auto done = resyncs(env, "done");
  REQUIRE(done.size() == 1);
  CHECK(done[0]["employee_id"] == "E1");
  CHECK(env.events().size() == 3);
  // Nothing left to converge: another start queues nothing.
  REQUIRE(env.run_once().exit_code == 0);
  CHECK(resyncs(env).size() == 1);
}

TEST_CASE("e2e resync: an edit deprovisioning more than the guard allows is held until approved, as plan --rules said") {
  H2rEnvOptions options;
  // resync.deprovision: auto — the guard, not the resync supervision, is what this case shows.
  options.rules = spec_rules_with("lifecycle:\n  guard: { max_deactivations_per_cycle: 2 }\n  resync: { deprovision: auto }\n");
  H2rEnv env(options);
  apply(env, "hires.json", hires({employee("E1", "Ann", "Alpha"), employee("E2", "Bob", "Beta", "Sales"),
                                  employee("E3", "Cy", "Gamma", "Sales"), employee("E4", "Di", "Delta", "Support")}));
  // The staff role is dropped: everyone outside engineering matches no role (on_no_role: deprovision).
  const std::string edited = replaced(options.rules, "  - name: staff\n    when: { field: employment_type, in: [full_time, part_time] }\n    zoom: { user_type: Basic }\n", "");
  const auto new_rules = env.dir().write("proposed/rules.yaml", edited).string();

  auto preview = env.h2rd_json({"plan", "--rules", new_rules});
  CHECK(preview["totals"]["employees"] == 3);
  CHECK(preview["totals"]["deprovisions"] == 3);
  std::set<std::string> previewed;
  for (const auto& e : preview["employees"]) {
    previewed.insert(e["employee_id"].get<std::string>());
    CHECK(e["users"][0]["action"] == "deprovision");
  }
  CHECK(previewed == std::set<std::string>{"E2", "E3", "E4"});
  auto text = env.h2rd({"plan", "--rules", new_rules});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("E2 (zoom-main bob.beta@example.com): deprovision") != std::string::npos);
  CHECK(text.out.find("deprovisions=3") != std::string::npos);

  env.dir().write("rules.yaml", edited);
  auto run = env.run_once();
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.err.find("resync.guard") != std::string::npos);
  CHECK(run.err.find("guard.held") != std::string::npos);
  auto held = resyncs(env, "held");
  CHECK(employees_of(held) == previewed);   // the daemon resyncs exactly whom plan --rules named
  for (const auto& e : held) CHECK(e["reason"].get<std::string>().find("guard") != std::string::npos);
  CHECK(the_user(env, "bob.beta@example.com")["active"] == true);
  CHECK(env.h2rd({"status"}).out.find("held") != std::string::npos);

  auto approve = env.h2rd({"events", "approve", "--all"});
  INFO(approve.err);
  CHECK(approve.exit_code == 0);
  REQUIRE(env.run_once().exit_code == 0);
  CHECK(employees_of(resyncs(env, "done")) == previewed);
  for (const char* user : {"bob.beta@example.com", "cy.gamma@example.com", "di.delta@example.com"})
    CHECK(the_user(env, user)["active"] == false);
  CHECK(the_user(env, "ann.alpha@example.com")["active"] == true);
}

TEST_CASE("e2e resync: rules.on_change manual queues nothing until h2rd resync") {
  H2rEnv env;
  {
    std::ifstream in(env.config_path());
    std::ostringstream config;
    config << in.rdbuf();
    write_in_place(env.config_path(),
                   replaced(config.str(), "rules: rules.yaml\n", "rules: { path: rules.yaml, on_change: manual }\n"));
  }
  apply(env, "hires.json", hires({employee("E1", "Ann", "Alpha"), employee("E2", "Bob", "Beta")}));
  env.dir().write("rules.yaml", replaced(k_spec_rules, "      licenses: { zoomOneBizPlus: true }\n", "") +
                                    "lifecycle:\n  resync: { deprovision: auto }\n");
  auto run = env.run_once();
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.err.find("resync.manual") != std::string::npos);
  CHECK(run.err.find("employees=2") != std::string::npos);
  CHECK(resyncs(env).empty());
  CHECK(has_license(the_user(env, "ann.alpha@example.com")));
  REQUIRE(env.run_once().exit_code == 0);
  CHECK(resyncs(env).empty());

  auto queued = env.h2rd({"resync"});
  INFO(queued.err);
  CHECK(queued.exit_code == 0);
  CHECK(queued.out.find("queued 2 resync event(s)") != std::string::npos);
  CHECK(env.h2rd({"resync"}).out.find("queued 0 resync event(s)") != std::string::npos);   // already open
  REQUIRE(env.run_once().exit_code == 0);
  CHECK(resyncs(env, "done").size() == 2);
  // The kept base (the rules Zoom reflected) clears the license the new rules no longer give.
  CHECK(the_user(env, "ann.alpha@example.com")[k_license_urn]["zoomOneBizPlus"] == false);
  CHECK(the_user(env, "bob.beta@example.com")[k_license_urn]["zoomOneBizPlus"] == false);
}

TEST_CASE("e2e resync: lifecycle.supervised listing resync holds it until approved") {
  H2rEnvOptions options;
  options.rules = spec_rules_with("lifecycle:\n  supervised: [resync]\n");
  H2rEnv env(options);
  apply(env, "hires.json", hires({employee("E1", "Ann", "Alpha", "Sales")}));
  env.dir().write("rules.yaml", replaced(options.rules, "in: [Engineering, Product]", "in: [Engineering, Product, Sales]"));
  REQUIRE(env.run_once().exit_code == 0);
  auto held = resyncs(env, "held");
  REQUIRE(held.size() == 1);
  CHECK(held[0]["reason"].get<std::string>().find("supervised: resync") != std::string::npos);
  CHECK(the_user(env, "ann.alpha@example.com")["userType"] == "Basic");
  REQUIRE(env.h2rd({"events", "approve", "--all"}).exit_code == 0);
  REQUIRE(env.run_once().exit_code == 0);
  CHECK(resyncs(env, "done").size() == 1);
  CHECK(the_user(env, "ann.alpha@example.com")["userType"] == "Licensed");
}

TEST_CASE("e2e resync: an HR file cannot carry the internal type") {
  H2rEnv env;
  env.drop("bad.json", event_json("x-1", "resync", employee("E1", "Ann", "Alpha")));
  REQUIRE(env.run_once().exit_code == 0);
  CHECK(env.events().empty());
  CHECK(std::filesystem::exists(std::filesystem::path(env.inbox()) / "rejected" / "bad.json"));
}

TEST_CASE("e2e resync: an edit that would deactivate employees is held for approval by default, and runs with deprovision: auto") {
  for (const std::string mode : {"", "auto"}) {
    CAPTURE(mode);
    H2rEnvOptions options;
    options.rules = k_spec_rules;
    if (!mode.empty()) options.rules += "lifecycle:\n  resync: { deprovision: " + mode + " }\n";
    H2rEnv env(options);
    apply(env, "hires.json", hires({employee("E1", "Ann", "Alpha"), employee("E2", "Bob", "Beta", "Sales")}));
    const long long patches = sim_count(env, "PATCH /Users/{id}");
    // A half-finished edit drops the staff role: Bob matches no role (on_no_role: deprovision).
    env.dir().write("rules.yaml",
                    replaced(options.rules,
                             "  - name: staff\n    when: { field: employment_type, in: [full_time, part_time] }\n"
                             "    zoom: { user_type: Basic }\n",
                             ""));
    auto run = env.run_once();
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    if (mode.empty()) {
      auto held = resyncs(env, "held");
      REQUIRE(held.size() == 1);
      CHECK(held[0]["employee_id"] == "E2");
      CHECK(held[0]["reason"].get<std::string>().find("supervised: this resync (a rules edit) would deactivate") !=
            std::string::npos);
      CHECK(the_user(env, "bob.beta@example.com")["active"] == true);
      CHECK(sim_count(env, "PATCH /Users/{id}") == patches);
      CHECK(env.h2rd({"status"}).out.find("1 event held for approval") != std::string::npos);
      REQUIRE(env.h2rd({"events", "approve", "--all"}).exit_code == 0);
      REQUIRE(env.run_once().exit_code == 0);
    }
    CHECK(resyncs(env, "done").size() == 1);
    CHECK(the_user(env, "bob.beta@example.com")["active"] == false);
    CHECK(the_user(env, "ann.alpha@example.com")["active"] == true);
  }
}

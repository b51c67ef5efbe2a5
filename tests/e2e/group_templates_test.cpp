// Issue 28: a role's groups are templates rendered per employee ("Dept {department}"), and with
// zoom.create_missing_groups h2r creates a group the rules want that Zoom lacks (POST /Groups, once,
// recorded in the event's audit). Without the option a missing group fails the event as before.
// Against zoom-sim, through `h2rd run --once`; the create case also on PostgreSQL.
#include "lifecycle_util.hpp"
#include "support/scratch_pg.hpp"

#include <fstream>
#include <map>
#include <optional>
#include <set>

using namespace h2r::test;
using nlohmann::json;

namespace {

const std::string k_group_rules = R"(version: 1
targets:
  - connection: zoom-main
roles:
  - name: staff
    zoom: { user_type: Basic, groups: ["Dept {department}"] }
on_no_role: deprovision
attributes:
  userName: "{email}"
  name.givenName: "{first_name}"
  name.familyName: "{last_name}"
)";

// Two hires in Sales, one in Ops, each in a file of its own, then one `h2rd run --once`.
ProcessResult hire_three(H2rEnv& env) {
  env.drop("h1.json", event_json("evt-1", "hire", employee("E1", "Ann", "Able", "Sales")));
  env.drop("h2.json", event_json("evt-2", "hire", employee("E2", "Bob", "Baker", "Sales")));
  env.drop("h3.json", event_json("evt-3", "hire", employee("E3", "Cid", "Cole", "Ops")));
  return env.run_once();
}

// displayName → the userNames of its members, from zoom-sim.
std::map<std::string, std::set<std::string>> members_by_group(H2rEnv& env) {
  std::map<std::string, std::string> user_names;
  for (const auto& u : env.sim().users()) user_names[u["id"]] = u["userName"];
  std::map<std::string, std::set<std::string>> out;
  for (const auto& g : env.sim().groups()) {
    auto& members = out[g["displayName"].get<std::string>()];
    for (const auto& m : g.value("members", json::array())) members.insert(user_names[m["value"].get<std::string>()]);
  }
  return out;
}

// How many of the events' audit records (`events show`) name a call "create group NAME".
int audited_creates(H2rEnv& env, const std::string& name) {
  int n = 0;
  for (const char* id : {"evt-1", "evt-2", "evt-3"}) {
    const std::string text = shown(env, id).dump();
    for (auto at = text.find("\"create group " + name + "\""); at != std::string::npos;
         at = text.find("\"create group " + name + "\"", at + 1))
      ++n;
  }
  return n;
}

void creates_each_group_once(const std::optional<std::string>& database) {
  H2rEnvOptions options;
  options.rules = k_group_rules;
  options.extra_config = "zoom: { create_missing_groups: true }\n";
  if (database) options.database = *database;
  H2rEnv env(options);
  const auto run = hire_three(env);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  for (const char* id : {"evt-1", "evt-2", "evt-3"}) CHECK(state_of(env, id) == "done");
  const auto groups = members_by_group(env);
  CHECK(groups == std::map<std::string, std::set<std::string>>{
                      {"Dept Ops", {"cid.cole@example.com"}},
                      {"Dept Sales", {"ann.able@example.com", "bob.baker@example.com"}}});
  // Each group made once at Zoom (a second POST would have met the sim's 409) and audited once.
  CHECK(audited_creates(env, "Dept Sales") == 1);
  CHECK(audited_creates(env, "Dept Ops") == 1);
  CHECK(sim_count(env, "POST /Groups") >= 2);
}

} // namespace

TEST_CASE("e2e groups: templated groups with create_missing_groups - two Sales hires and one Ops, each group created once") {
  creates_each_group_once(std::nullopt);
}

TEST_CASE("pg e2e groups: templated groups with create_missing_groups on PostgreSQL, each group created once") {
  H2R_SKIP_UNLESS_PG();
  ScratchDatabase db;
  creates_each_group_once(db.url());
}

TEST_CASE("e2e groups: without create_missing_groups a templated group Zoom lacks fails the event, nothing created") {
  H2rEnvOptions options;
  options.rules = k_group_rules;
  options.sim_args = {"--group", "Dept Ops"};
  H2rEnv env(options);
  const auto run = hire_three(env);
  CHECK(run.exit_code == 1);
  CHECK(state_of(env, "evt-3") == "done");
  for (const char* id : {"evt-1", "evt-2"}) {
    CHECK(state_of(env, id) == "failed");
    const std::string reason = shown(env, id)["reason"].get<std::string>();
    CHECK_MESSAGE(reason.find("group 'Dept Sales'") != std::string::npos, reason);
    CHECK_MESSAGE(reason.find("does not exist") != std::string::npos, reason);
  }
  CHECK(sim_count(env, "POST /Groups") == 0);
  CHECK(members_by_group(env) == std::map<std::string, std::set<std::string>>{{"Dept Ops", {"cid.cole@example.com"}}});
}

TEST_CASE("e2e groups: a group entry that renders empty is left out, the hire goes on") {
  H2rEnvOptions options;
  options.rules = k_group_rules;
  options.extra_config = "zoom: { create_missing_groups: true }\n";
  H2rEnv env(options);
  json ann = employee("E1", "Ann", "Able");
  ann.erase("department");
  env.drop("h1.json", event_json("evt-1", "hire", ann));
  const auto run = env.run_once();
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(state_of(env, "evt-1") == "done");
  CHECK(sim_count(env, "POST /Groups") == 0);
  CHECK(run.err.find("group.left_out") != std::string::npos);
}

TEST_CASE("e2e groups: connection test --groups names the literal and templated groups Zoom lacks, exit 1, else 0") {
  H2rEnvOptions options;
  options.rules = k_group_rules;
  options.extra_config = "zoom: { create_missing_groups: true }\n";
  H2rEnv env(options);
  REQUIRE(hire_three(env).exit_code == 0);   // h2r knows three employees; Dept Sales and Dept Ops exist
  const long long creates = sim_count(env, "POST /Groups");
  auto all_there = env.h2rd({"connection", "test", "zoom-main", "--groups"});
  INFO(all_there.out, all_there.err);
  CHECK(all_there.exit_code == 0);
  CHECK(all_there.out.find("2 checked, 0 missing") != std::string::npos);

  std::string rules = k_group_rules;
  rules.replace(rules.find("groups: [\"Dept {department}\"]"), std::string("groups: [\"Dept {department}\"]").size(),
                "groups: [\"Dept {department}\", Execs, \"Team {job_title}\"]");
  {
    std::ofstream out(env.rules_path(), std::ios::trunc);
    out << rules;
  }
  auto missing = env.h2rd({"connection", "test", "zoom-main", "--groups"});
  INFO(missing.out, missing.err);
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.find("4 checked, 2 missing") != std::string::npos);
  CHECK(missing.out.find("missing: Execs  (literal in the rules)") != std::string::npos);
  CHECK(missing.out.find("missing: Team Engineer  (from a template") != std::string::npos);
  CHECK(missing.out.find("missing: Dept") == std::string::npos);

  const json shown_json = env.h2rd_json({"connection", "test", "zoom-main", "--groups"});
  CHECK(shown_json["groups_missing"] == 2);
  CHECK(shown_json["groups"].size() == 4);
  CHECK(sim_count(env, "POST /Groups") == creates);   // a test never creates anything
}

TEST_CASE("e2e groups: h2rd check names a groups entry that is not a template, with its role, exit 78") {
  H2rEnvOptions options;
  options.rules = k_group_rules;
  H2rEnv env(options);
  std::string rules = k_group_rules;
  rules.replace(rules.find("{department}"), std::string("{department}").size(), "{depart ment}");
  {
    std::ofstream out(env.rules_path(), std::ios::trunc);
    out << rules;
  }
  auto check = env.h2rd({"check"});
  INFO(check.out, check.err);
  CHECK(check.exit_code == 78);
  const std::string text = check.out + check.err;
  CHECK(text.find("rules.yaml:6:") != std::string::npos);
  CHECK(text.find("role 'staff'") != std::string::npos);
  CHECK(text.find("\"Dept {depart ment}\"") != std::string::npos);
}

TEST_CASE("e2e groups: plan shows the group create it would make, and makes none") {
  H2rEnvOptions options;
  options.rules = k_group_rules;
  options.extra_config = "zoom: { create_missing_groups: true }\n";
  H2rEnv env(options);
  const std::string file = (env.dir().path() / "hire.json").string();
  {
    std::ofstream out(file);
    out << event_json("evt-1", "hire", employee("E1", "Ann", "Able", "Sales"));
  }
  auto plan = env.h2rd({"plan", file});
  INFO(plan.out, plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(plan.out.find("POST /Groups  (create group Dept Sales") != std::string::npos);
  CHECK(sim_count(env, "POST /Groups") == 0);
  CHECK(env.sim().groups().empty());
}

// Issue 28: a rules file with `tables:`, map, join, or, left, date and fold — `h2rd check` accepts it,
// `h2rd run --once` creates the Zoom users with the attributes they render, and `check` refuses an
// unknown table naming it and its place. Real h2rd, real inbox, zoom-sim over HTTP.
#include "lifecycle_util.hpp"

using namespace h2r::test;
using nlohmann::json;

namespace {

const char* const k_rules = R"(version: 1
hr_fields: [preferred_name, middle_name, start_date]
tables:
  cost_centre:
    Engineering: CC-100
    Sales: CC-200
    "*": CC-999
targets:
  - connection: zoom-main
roles:
  - name: staff
    zoom: { user_type: Basic }
attributes:
  userName: "{email}"
  name.givenName: "{preferred_name|or(first_name)}"
  name.familyName: "{last_name}"
  displayName: "{join(' ', first_name, middle_name, last_name)|fold}"
  enterprise.costCenter: "{department|map(cost_centre)}"
  title: "{job_title|left(3)|upper}-{start_date|date('DD.MM.YYYY')|default('no date')}"
)";

} // namespace

TEST_CASE("e2e template functions: tables, map, join, or, left, date and fold render through run --once") {
  H2rEnvOptions options;
  options.rules = k_rules;
  H2rEnv env(options);
  auto check = env.h2rd({"check"});
  INFO(check.err);
  REQUIRE(check.exit_code == 0);

  json anna = employee("E1", "Anna", "Berg", "sales");
  anna["middle_name"] = "Maria";
  anna["preferred_name"] = "Annie";
  anna["start_date"] = "2026-03-01";
  json dmitrij = employee("E2", "Дмитрий", "Иванов", "Legal");
  dmitrij["email"] = "dmitrij@example.com";
  dmitrij["middle_name"] = "";
  dmitrij["start_date"] = "3/1/2026";   // not an ISO date: empty, so default() applies
  apply(env, "hires.json", "[" + event_json("h-1", "hire", anna) + "," + event_json("h-2", "hire", dmitrij) + "]");

  const json a = the_user(env, "anna.berg@example.com");
  CHECK(a["name"]["givenName"] == "Annie");
  CHECK(a["displayName"] == "Anna Maria Berg");
  CHECK(a[k_enterprise_urn]["costCenter"] == "CC-200");   // "sales" matches Sales: keys match case aside
  CHECK(a["title"] == "ENG-01.03.2026");
  const json d = the_user(env, "dmitrij@example.com");
  CHECK(d["name"]["givenName"] == "Дмитрий");
  CHECK(d["displayName"] == "Dmitrij Ivanov");
  CHECK(d[k_enterprise_urn]["costCenter"] == "CC-999");
  CHECK(d["title"] == "ENG-no date");
}

TEST_CASE("e2e template functions: check refuses an unknown table and a bad date token at their place") {
  H2rEnvOptions options;
  options.add_connection = false;
  std::string rules = k_rules;
  rules.replace(rules.find("map(cost_centre)"), 16, "map(cost_center)");
  rules.replace(rules.find("date('DD.MM.YYYY')"), 18, "date('%d.%m.%Y')");
  options.rules = rules;
  H2rEnv env(options);
  auto r = env.h2rd({"check"});
  INFO(r.err);
  CHECK(r.exit_code == 78);
  const std::string path = env.rules_path();
  CHECK(r.err.find(path + ":18:26: attributes.enterprise.costCenter: map(cost_center): unknown table 'cost_center' "
                          "(tables: cost_centre) (at character 1 of the template)") != std::string::npos);
  CHECK(r.err.find(path + ":19:10: attributes.title: date('%d.%m.%Y'): 'd' is not a date format token") !=
        std::string::npos);
  CHECK(env.h2rd({"run", "--once"}).exit_code == 78);
}

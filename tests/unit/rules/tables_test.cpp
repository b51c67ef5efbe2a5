// Issue 28: the rules file's `tables:` and the template functions through the loader — a file with
// tables, map, join and or renders the attributes, and every bad table or call is refused at its place.
#include "rules_test_util.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace h2r;
using namespace h2r::test;
using nlohmann::json;

namespace {

const char* k_rules = R"(version: 1
hr_fields: [preferred_name, middle_name, hire_date]
tables:
  cost_centre: { Sales: CC-100, Ops: CC-200, "*": CC-999 }
  country_zone:
    DE: Europe/Berlin
    US: America/New_York
targets: [{ connection: zoom-main }]
roles: [{ name: all }]
attributes:
  userName: "{join('.', preferred_name, last_name)|or(email)|fold|lower}@example.com"
  displayName: "{join(' ', first_name, middle_name, last_name)}"
  name.givenName: "{preferred_name|or(first_name)}"
  enterprise.costCenter: "{department|map(cost_centre)}"
  timezone: "{country|map(country_zone)|default('UTC')}"
  nickName: "{first_name|left(1)}{last_name|left(1)}-{hire_date|date('YYYYMMDD')}"
)";

std::string load_error(const std::string& text) {
  auto rules = load_rules_text(text, "rules.yaml");
  return rules ? std::string() : diagnostics_text(rules.error());
}

const std::string k_head = "version: 1\ntargets: [{ connection: zoom-main }]\nroles: [{ name: all }]\n";

} // namespace

TEST_CASE("rules tables: a rules file with tables, map, join and or renders the attributes") {
  auto rules = must_load(k_rules);
  const EmployeeRecord record{{"first_name", "Ελένη"}, {"last_name", "Παπαδοπούλου"}, {"middle_name", ""},
                              {"preferred_name", ""}, {"department", "SALES"}, {"country", "FR"},
                              {"hire_date", "2026-03-01"}, {"email", "x"}};
  auto decisions = rules->decide(record);
  REQUIRE(decisions.size() == 1);
  REQUIRE(decisions[0].desired);
  const json& body = decisions[0].desired->body;
  CAPTURE(body.dump());
  // No preferred_name: join gives the last name alone, folded from Greek.
  CHECK(decisions[0].desired->user_name == "papadopoulou@example.com");
  CHECK(body["displayName"] == "Ελένη Παπαδοπούλου");
  CHECK(body["name"]["givenName"] == "Ελένη");
  CHECK(body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["costCenter"] == "CC-100");
  CHECK(body["timezone"] == "UTC");
  CHECK(body["nickName"] == "ΕΠ-20260301");

  const EmployeeRecord other{{"first_name", "Anna"}, {"last_name", "Berg"}, {"preferred_name", "Änni"},
                             {"department", "Legal"}, {"country", "de"}, {"email", "anna@corp"}};
  auto second = rules->decide(other);
  REQUIRE(second.size() == 1);
  REQUIRE(second[0].desired);
  CHECK(second[0].desired->user_name == "anni.berg@example.com");
  CHECK(second[0].desired->body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["costCenter"] == "CC-999");
  CHECK(second[0].desired->body["timezone"] == "Europe/Berlin");
  CHECK(second[0].desired->body["name"]["givenName"] == "Änni");
}

TEST_CASE("rules tables: an unknown table or a bad call is an error naming the attribute, table and place") {
  const std::string unknown = load_error(k_head + "tables: { cost_centre: { Sales: CC-100 } }\n"
                                                  "attributes:\n  userName: \"{email}\"\n"
                                                  "  enterprise.costCenter: \"{department|map(cost_center)}\"\n");
  CHECK_MESSAGE(unknown.find("rules.yaml:7:26: attributes.enterprise.costCenter: map(cost_center): unknown table "
                             "'cost_center' (tables: cost_centre) (at character 1 of the template)") != std::string::npos,
                unknown);
  const std::string none = load_error(k_head + "attributes:\n  userName: \"{email}\"\n  title: \"x {department|map(t)}\"\n");
  CHECK_MESSAGE(none.find("rules.yaml:6:10: attributes.title: map(t): unknown table 't' (the rules file has no tables) "
                          "(at character 3 of the template)") != std::string::npos, none);
  const std::string token = load_error(k_head + "attributes:\n  userName: \"{email}\"\n  title: \"{hire_date|date('%d.%m')}\"\n");
  CHECK_MESSAGE(token.find("attributes.title: date('%d.%m'): 'd' is not a date format token") != std::string::npos, token);
}

TEST_CASE("rules tables: limits and malformed tables name the table and the entry") {
  const std::string attributes = "attributes: { userName: \"{email}\" }\n";
  const auto refused = [&](const std::string& tables, const std::string& expected) {
    const std::string error = load_error(k_head + attributes + tables);
    CHECK_MESSAGE(error.find(expected) != std::string::npos, error);
  };
  refused("tables: [a]\n", "tables must be a map of table name to a map of value to replacement");
  refused("tables: { t: [a] }\n", "rules.yaml:5:14: tables.t must be a map of value to replacement");
  refused("tables: { \"bad name\": { a: b } }\n", "a table name must be a name of letters, digits, _ - .");
  refused("tables: { t: { Sales: x, SALES: y } }\n", "rules.yaml:5:26: tables.t.SALES: the key appears twice");
  refused("tables: { t: { a: [x] } }\n", "tables.t.a must be a text of at most 1024 bytes");
  refused("tables: { t: { a: " + std::string(1025, 'v') + " } }\n", "tables.t.a must be a text of at most 1024 bytes");
  refused("tables: { t: { ? " + std::string(1025, 'k') + " : v } }\n", "a key of tables.t must be a non-empty text of at most 1024 bytes");
  std::string many = "tables: {";
  for (int i = 0; i < 257; ++i) many += (i ? ", t" : " t") + std::to_string(i) + ": { a: b }";
  refused(many + " }\n", "tables has at most 256 tables, got 257");
  std::string big = "tables: { t: {";
  for (int i = 0; i < 10'001; ++i) big += (i ? ", k" : " k") + std::to_string(i) + ": v";
  refused(big + " } }\n", "tables.t has at most 10000 entries, got 10001");
  // At the limits: loads.
  std::string most = "tables: { t: {";
  for (int i = 0; i < 10'000; ++i) most += (i ? ", k" : " k") + std::to_string(i) + ": v";
  CHECK(load_error(k_head + attributes + most + " } }\n").empty());
  CHECK(load_error(k_head + attributes + "tables: { t: { " + std::string(1024, 'k') + ": " + std::string(1024, 'v') +
                   ", \"*\": \"\" } }\n").empty());
}

TEST_CASE("rules tables: the fields or() and join() read are field references check knows") {
  auto rules = must_load(k_head + "attributes:\n  userName: \"{email|or(emial)}\"\n"
                                  "  displayName: \"{join(' ', first_name, nick_nme)}\"\n");
  const std::string text = diagnostics_text(check_field_references(*rules, {}));
  CAPTURE(text);
  CHECK(text.find("rules.yaml:5:13: field 'emial' decides who gets which Zoom user") != std::string::npos);
  CHECK(text.find("rules.yaml:6:16: warning: field 'nick_nme'") != std::string::npos);
}

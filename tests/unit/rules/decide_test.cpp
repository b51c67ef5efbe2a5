#include "rules/rules.hpp"
#include "rules/scim_paths.hpp"
#include "rules_test_util.hpp"
#include "support/test_paths.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace h2r;
using nlohmann::json;
using test::k_rules_head;
using test::must_load;

namespace {

const std::string k_core = "urn:ietf:params:scim:schemas:core:2.0:User";
const std::string k_enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const std::string k_zoom_user = "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser";
const std::string k_zoom = "urn:ietf:params:scim:schemas:extension:zoom:1.0:User";

// The body for one attribute line (besides userName), for a record with a few fields.
json body_for(const std::string& attribute_line) {
  auto rules = must_load(std::string(k_rules_head) + "attributes:\n  userName: \"{email}\"\n  " + attribute_line + "\n");
  const EmployeeRecord record{{"email", "jill@example.com"}, {"v", "Val"}, {"n", "12"}};
  auto decisions = rules->decide(record);
  REQUIRE(decisions.size() == 1);
  REQUIRE(decisions[0].desired);
  CHECK(decisions[0].desired->user_name == "jill@example.com");
  json body = decisions[0].desired->body;
  CHECK(body["userName"] == "jill@example.com");
  body.erase("userName");
  return body;
}

} // namespace

TEST_CASE("decide: each SCIM path lands at its place in the user body") {
  struct Case {
    const char* line;
    json expected;  // the body without userName
  };
  const json core = json::array({k_core});
  const std::vector<Case> cases = {
      {"name.givenName: \"{v}\"", {{"schemas", core}, {"name", {{"givenName", "Val"}}}}},
      {"name.familyName: \"{v}\"", {{"schemas", core}, {"name", {{"familyName", "Val"}}}}},
      {"name.middleName: \"{v}\"", {{"schemas", core}, {"name", {{"middleName", "Val"}}}}},
      {"name.formatted: \"{v}\"", {{"schemas", core}, {"name", {{"formatted", "Val"}}}}},
      {"displayName: \"{v} X\"", {{"schemas", core}, {"displayName", "Val X"}}},
      {"nickName: \"{v}\"", {{"schemas", core}, {"nickName", "Val"}}},
      {"title: \"{v}\"", {{"schemas", core}, {"title", "Val"}}},
      {"locale: \"{v}\"", {{"schemas", core}, {"locale", "Val"}}},
      {"timezone: \"{v}\"", {{"schemas", core}, {"timezone", "Val"}}},
      {"preferredLanguage: \"{v}\"", {{"schemas", core}, {"preferredLanguage", "Val"}}},
      {"emails.work: \"{v}\"",
       {{"schemas", core}, {"emails", json::array({{{"type", "work"}, {"value", "Val"}, {"primary", true}}})}}},
      {"phoneNumbers.work: \"{v}\"", {{"schemas", core}, {"phoneNumbers", json::array({{{"type", "work"}, {"value", "Val"}}})}}},
      {"phoneNumbers.mobile: \"{v}\"", {{"schemas", core}, {"phoneNumbers", json::array({{{"type", "mobile"}, {"value", "Val"}}})}}},
      {"phoneNumbers.home: \"{v}\"", {{"schemas", core}, {"phoneNumbers", json::array({{{"type", "home"}, {"value", "Val"}}})}}},
      {"enterprise.department: \"{v}\"", {{"schemas", {k_core, k_enterprise}}, {k_enterprise, {{"department", "Val"}}}}},
      {"enterprise.organization: \"{v}\"", {{"schemas", {k_core, k_enterprise}}, {k_enterprise, {{"organization", "Val"}}}}},
      {"enterprise.costCenter: \"{v}\"", {{"schemas", {k_core, k_enterprise}}, {k_enterprise, {{"costCenter", "Val"}}}}},
      {"enterprise.employeeNumber: \"{n}\"", {{"schemas", {k_core, k_enterprise}}, {k_enterprise, {{"employeeNumber", "12"}}}}},
      {"enterprise.division: \"{v}\"", {{"schemas", {k_core, k_enterprise}}, {k_enterprise, {{"division", "Val"}}}}},
      {"enterprise.manager: \"{v}\"",
       {{"schemas", {k_core, k_enterprise}}, {k_enterprise, {{"manager", {{"value", "Val"}}}}}}},
      {"zoom.loginType.sso: true", {{"schemas", {k_core, k_zoom_user}}, {k_zoom_user, {{"loginType", {{"sso", true}}}}}}},
      {"zoom.loginType.workEmail: false",
       {{"schemas", {k_core, k_zoom_user}}, {k_zoom_user, {{"loginType", {{"workEmail", false}}}}}}},
      {"zoom.personalLinkName: \"{v|lower}\"", {{"schemas", {k_core, k_zoom}}, {k_zoom, {{"personalLinkName", "val"}}}}},
      {"zoom.pronouns: \"{v}\"", {{"schemas", {k_core, k_zoom}}, {k_zoom, {{"pronouns", "Val"}}}}},
      {"title: 42", {{"schemas", core}, {"title", 42}}},                 // a plain number stays a number
      {"title: \"42\"", {{"schemas", core}, {"title", "42"}}},           // a quoted one is text
      {"title: -1.5", {{"schemas", core}, {"title", -1.5}}},
      {"title: 007", {{"schemas", core}, {"title", "007"}}},              // not a JSON number: text
      {"title: 12345678901234567890", {{"schemas", core}, {"title", "12345678901234567890"}}},
      {"title: \"true\"", {{"schemas", core}, {"title", "true"}}},
      {"title: \"{absent}\"", {{"schemas", core}}},                       // all fields empty: omitted
      {"displayName: \"{absent} {absent2}\"", {{"schemas", core}}},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.line));
    CHECK(body_for(c.line) == c.expected);
  }
}

TEST_CASE("decide: a full body — role fields, licenses, schemas in order, groups") {
  auto rules = must_load(R"(version: 1
targets: [{connection: zoom-main}]
roles:
  - name: eng
    when: { field: department, equals: engineering }
    zoom:
      user_type: Licensed
      licenses: { zoomOneBizPlus: true, zoomPhone: false }
      role: Member
      groups: [Engineering, All Staff, Engineering]
attributes:
  userName: "{email|lower}"
  emails.work: "{email|lower}"
  phoneNumbers.work: "{phone}"
  phoneNumbers.mobile: "{mobile}"
  zoom.pronouns: "{pronouns}"
  zoom.loginType.sso: true
  enterprise.employeeNumber: "{employee_id}"
)");
  auto decisions = rules->decide({{"email", "Jill@Example.com"}, {"department", "Engineering"}, {"phone", "+1 555"},
                                  {"mobile", "+1 666"}, {"pronouns", "she/her"}, {"employee_id", "E1"}});
  REQUIRE(decisions.size() == 1);
  CHECK(decisions[0].connection == "zoom-main");
  REQUIRE(decisions[0].desired);
  const DesiredUser& user = *decisions[0].desired;
  CHECK(user.role == "eng");
  CHECK(user.user_name == "jill@example.com");
  CHECK(user.groups == std::vector<std::string>{"Engineering", "All Staff"});
  const json expected = {
      {"schemas", {k_core, k_enterprise, k_zoom_user, k_zoom}},
      {"userName", "jill@example.com"},
      {"emails", json::array({{{"type", "work"}, {"value", "jill@example.com"}, {"primary", true}}})},
      {"phoneNumbers", json::array({{{"type", "work"}, {"value", "+1 555"}}, {{"type", "mobile"}, {"value", "+1 666"}}})},
      {"userType", "Licensed"},
      {"roles", json::array({{{"value", "Member"}, {"primary", true}}})},
      {k_enterprise, {{"employeeNumber", "E1"}}},
      {k_zoom_user, {{"loginType", {{"sso", true}}}}},
      {k_zoom, {{"pronouns", "she/her"}, {"zoomOneBizPlus", true}, {"zoomPhone", false}}},
  };
  CHECK(user.body == expected);
  CHECK_FALSE(user.body.contains("id"));
  CHECK_FALSE(user.body.contains("active"));
}

TEST_CASE("decide: first matching role wins, no match gives no desired user") {
  auto rules = must_load(R"(version: 1
targets: [{connection: z}]
roles:
  - { name: interns, when: { field: title, contains: intern } }
  - { name: eng, when: { field: department, equals: Engineering }, zoom: { user_type: Licensed } }
  - { name: staff, when: { field: type, in: [full_time, part_time] }, zoom: { user_type: Basic } }
on_no_role: keep
attributes: { userName: "{email}" }
)");
  CHECK(rules->on_no_role() == OnNoRole::keep);
  struct Case {
    EmployeeRecord record;
    std::optional<std::string> role;
  };
  const std::vector<Case> cases = {
      {{{"email", "a@x"}, {"title", "Engineering Intern"}, {"department", "Engineering"}}, "interns"},
      {{{"email", "a@x"}, {"department", "engineering"}, {"type", "full_time"}}, "eng"},
      {{{"email", "a@x"}, {"department", "Sales"}, {"type", "part_time"}}, "staff"},
      {{{"email", "a@x"}, {"department", "Sales"}, {"type", "contractor"}}, std::nullopt},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    auto decisions = rules->decide(cases[i].record);
    REQUIRE(decisions.size() == 1);
    CHECK(decisions[0].connection == "z");
    CHECK(decisions[0].desired.has_value() == cases[i].role.has_value());
    if (decisions[0].desired && cases[i].role) CHECK(decisions[0].desired->role == *cases[i].role);
  }
}

TEST_CASE("decide: targets with `when` select the connections") {
  auto rules = must_load(R"(version: 1
targets:
  - connection: main
    when: { not: { field: company, equals: Research } }
  - connection: research
    when: { field: company, equals: Research }
  - connection: audit
roles: [{name: all}]
attributes: { userName: "{email}" }
)");
  CHECK(rules->connections() == std::vector<std::string>{"main", "research", "audit"});
  auto names = [&](const EmployeeRecord& record) {
    std::vector<std::string> out;
    for (const auto& d : rules->decide(record)) out.push_back(d.connection);
    return out;
  };
  CHECK(names({{"email", "a@x"}, {"company", "research"}}) == std::vector<std::string>{"research", "audit"});
  CHECK(names({{"email", "a@x"}, {"company", "Acme"}}) == std::vector<std::string>{"main", "audit"});
  CHECK(names({{"email", "a@x"}}) == std::vector<std::string>{"main", "audit"});
  CHECK(rules->referenced_fields() == std::set<std::string>{"company", "email"});
}

TEST_CASE("rules: version is a 12-hex content hash that changes with the content") {
  const std::string text = std::string(k_rules_head) + "attributes: { userName: \"{email}\" }\n";
  auto a = must_load(text);
  auto b = must_load(text);
  auto c = must_load(text + "# a comment\n");
  CHECK(a->version().size() == 12);
  CHECK(a->version().find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a->version() == b->version());
  CHECK(a->version() != c->version());
  CHECK(a->source() == "rules.yaml");
}

TEST_CASE("rules: lifecycle defaults and every setting") {
  auto defaults = must_load(std::string(k_rules_head) + "attributes: { userName: \"{email}\" }\n");
  CHECK(defaults->lifecycle().hire_lead_days == 0);
  CHECK(defaults->lifecycle().terminate == TerminateAction::deactivate);
  CHECK(defaults->lifecycle().leave.at(LeaveType::long_term) == LeaveAction::deactivate);
  CHECK(defaults->lifecycle().leave.at(LeaveType::fmla) == LeaveAction::keep);
  CHECK(defaults->lifecycle().supervised.empty());
  CHECK(defaults->lifecycle().guard_max == 50);
  CHECK(defaults->lifecycle().guard_per == std::chrono::hours(1));
  CHECK(defaults->on_no_role() == OnNoRole::deprovision);

  auto rules = must_load(std::string(k_rules_head) + R"(attributes: { userName: "{email}" }
lifecycle:
  hire: { lead_days: 5 }
  leave: { long_term: keep, fmla: deactivate }
  terminate: { action: delete }
  supervised: [terminate, rehire, return]
  guard: { max_deactivations_per_cycle: 0 }
)");
  const Lifecycle& l = rules->lifecycle();
  CHECK(l.hire_lead_days == 5);
  CHECK(l.leave.at(LeaveType::long_term) == LeaveAction::keep);
  CHECK(l.leave.at(LeaveType::fmla) == LeaveAction::deactivate);
  CHECK(l.leave.at(LeaveType::legal) == LeaveAction::keep);
  CHECK(l.leave.at(LeaveType::security) == LeaveAction::deactivate);
  CHECK(l.terminate == TerminateAction::remove);
  CHECK(l.supervised == std::set<EventType>{EventType::terminate, EventType::rehire, EventType::return_to_work});
  CHECK(l.guard_max == 0);   // the old key, read as max
  CHECK(l.guard_per == std::chrono::hours(1));
  auto budget = must_load(std::string(k_rules_head) + "attributes: { userName: \"{email}\" }\nlifecycle:\n  guard: { max: 40, per: 1d }\n");
  CHECK(budget->lifecycle().guard_max == 40);
  CHECK(budget->lifecycle().guard_per == std::chrono::hours(24));
}

TEST_CASE("rules: lifecycle.resync.deprovision is supervised by default, auto on request, and nothing else") {
  const std::string head = std::string(k_rules_head) + "attributes: { userName: \"{email}\" }\n";
  CHECK(must_load(head)->lifecycle().resync_deprovision_supervised);
  CHECK(must_load(head + "lifecycle:\n  resync: { deprovision: supervised }\n")->lifecycle().resync_deprovision_supervised);
  CHECK_FALSE(must_load(head + "lifecycle:\n  resync: { deprovision: auto }\n")->lifecycle().resync_deprovision_supervised);
  auto bad = load_rules_text(head + "lifecycle:\n  resync: { deprovision: yes }\n", "rules.yaml");
  REQUIRE_FALSE(bad);
  const std::string text = test::diagnostics_text(bad.error());
  CHECK(text.find("rules.yaml:") != std::string::npos);
  CHECK(text.find("lifecycle.resync.deprovision") != std::string::npos);
}

TEST_CASE("rules: the example rules file loads clean") {
  auto rules = load_rules_file(std::string(test::source_dir()) + "/config/rules.example.yaml");
  REQUIRE_MESSAGE(rules, test::diagnostics_text(rules ? Diagnostics{} : rules.error()));
  CHECK((*rules)->warnings().empty());
  CHECK((*rules)->connections() == std::vector<std::string>{"zoom-main", "zoom-research"});
  auto decisions = (*rules)->decide({{"email", " Zoë.Ålund@Example.com "}, {"first_name", "Zoë"}, {"last_name", "Ålund"},
                                     {"department", "Engineering"}, {"employment_type", "full_time"}});
  REQUIRE(decisions.size() == 1);
  REQUIRE(decisions[0].desired);
  CHECK(decisions[0].desired->role == "engineering");
  CHECK(decisions[0].desired->user_name == "zoë.ålund@example.com");
  CHECK(decisions[0].desired->body["urn:ietf:params:scim:schemas:extension:zoom:1.0:User"]["personalLinkName"] ==
        "zoe.alund");
  CHECK(decisions[0].desired->body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["division"] == "R&D");
  CHECK(decisions[0].desired->body["nickName"] == "Zoë");
}

TEST_CASE("decide: a rendered value above its path's length limit is left out and named as the problem") {
  auto rules = must_load(std::string(k_rules_head) +
                         "attributes:\n  userName: \"{email}\"\n  displayName: \"{v}{v}{v}{v}{v}{v}{v}{v}\"\n"
                         "  name.givenName: \"{v}\"\n");
  const std::string v(17, 'x');   // 8 × 17 = 136 characters > 128
  auto decisions = rules->decide(EmployeeRecord{{"email", "jill@example.com"}, {"v", v}});
  REQUIRE(decisions.size() == 1);
  REQUIRE(decisions[0].desired);
  const DesiredUser& user = *decisions[0].desired;
  CHECK_FALSE(user.body.contains("displayName"));
  CHECK(user.body["name"]["givenName"] == v);
  CHECK(user.problem.find("attribute displayName would be 136 characters, above its limit of 128") != std::string::npos);
  // Characters, not bytes: 128 two-byte characters fit.
  std::string wide;
  for (int i = 0; i < 16; ++i) wide += "é";
  auto fits = rules->decide(EmployeeRecord{{"email", "jill@example.com"}, {"v", wide}});
  CHECK(fits[0].desired->problem.empty());
  CHECK(fits[0].desired->body["displayName"].get<std::string>().size() == 256);
}

TEST_CASE("scim paths: every path has a limit, userName and emails.work 128, names 64") {
  CHECK(max_scim_value_chars("userName") == 128);
  CHECK(max_scim_value_chars("emails.work") == 128);
  CHECK(max_scim_value_chars("name.givenName") == 64);
  CHECK(max_scim_value_chars("displayName") == 128);
  CHECK(max_scim_value_chars("enterprise.department") == 256);
  CHECK(max_scim_value_chars("no.such.path") == k_max_scim_value_chars);
  CHECK(utf8_chars("Zoë") == 3);
}

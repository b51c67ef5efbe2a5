#include "rules/rules.hpp"
#include "rules_test_util.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace h2r;

namespace {

const std::string k_head = "version: 1\ntargets: [{connection: zoom}]\n";            // lines 1-2
const std::string k_roles = "roles: [{name: all}]\n";                                  // line 3
const std::string k_attrs = "attributes: { userName: \"{email}\" }\n";                 // line 3 or 4

struct Case {
  std::string text;
  int line;
  int column;
  const char* message;
};

} // namespace

TEST_CASE("validation: each problem is reported at its line:col with a clear message") {
  const std::vector<Case> cases = {
      {"version: 1\ntargets: [{connection: zoom}]\nroles: [{name: all}]\nattributes: { userName: \"{email}\" }\n"
       "colour: blue\n",
       5, 1, "unknown key 'colour' in the rules file (allowed: version, targets, roles, on_no_role, attributes, lifecycle, hr_fields or tables)"},
      {"version: 2\ntargets: [{connection: zoom}]\n" + k_roles + k_attrs, 1, 10, "version must be 1"},
      {"targets: [{connection: zoom}]\n" + k_roles + k_attrs, 1, 1, "the rules file needs the key 'version'"},
      {"version: 1\ntargets: []\n" + k_roles + k_attrs, 2, 10, "targets needs at least one entry"},
      {"version: 1\ntargets:\n  - connection: a\n  - connection: a\n" + k_roles + k_attrs, 4, 17,
       "connection 'a' is already a target at line 3"},
      {"version: 1\ntargets:\n  - { connection: a, wehn: {field: x, exists: true} }\n" + k_roles + k_attrs, 3, 22,
       "unknown key 'wehn' in targets[0] (allowed: connection or when)"},
      {"version: 1\ntargets:\n  - when: {field: x, exists: true}\n" + k_roles + k_attrs, 3, 5,
       "targets[0] needs the key 'connection'"},
      {k_head + "roles:\n  - name: a\n  - name: b\n  - name: a\n" + k_attrs, 6, 11,
       "duplicate role name 'a' (first defined at line 4)"},
      {k_head + "roles:\n  - name: \"\"\n" + k_attrs, 4, 11, "roles[0].name must not be empty"},
      {k_head + "roles:\n  - zoom: { user_type: Basic }\n" + k_attrs, 4, 5, "roles[0] needs the key 'name'"},
      {k_head + "roles:\n  - name: a\n    when: { field: d, equal: x }\n" + k_attrs, 5, 23,
       "unknown key 'equal' in roles[0].when"},
      {k_head + "roles:\n  - name: a\n    when: { field: d }\n" + k_attrs, 5, 11,
       "roles[0].when needs one operator: equals, not_equals, in, contains, starts_with, ends_with, matches or exists"},
      {k_head + "roles:\n  - name: a\n    when: { field: d, equals: x, in: [y] }\n" + k_attrs, 5, 34,
       "roles[0].when has two operators ('equals' and 'in'); use all: [...] to combine them"},
      {k_head + "roles:\n  - name: a\n    when: { equals: x }\n" + k_attrs, 5, 11, "roles[0].when needs the key 'field'"},
      {k_head + "roles:\n  - name: a\n    when:\n      all:\n        - { field: d, matches: '([a-z' }\n" + k_attrs, 7, 32,
       "roles[0].when.all[0].matches: invalid regular expression '([a-z'"},
      {k_head + "roles:\n  - name: a\n    when: { all: [{ field: d, exists: maybe }] }\n" + k_attrs, 5, 39,
       "roles[0].when.all[0].exists must be true or false, got 'maybe'"},
      {k_head + "roles:\n  - name: a\n    when: { all: [{field: y, exists: true}], field: x }\n" + k_attrs, 5, 46,
       "unknown key 'field' in roles[0].when (allowed: all, any or not)"},
      {k_head + "roles:\n  - name: a\n    when: { any: [{ field: d, in: [] }] }\n" + k_attrs, 5, 35,
       "roles[0].when.any[0].in needs at least one value"},
      {k_head + "roles:\n  - name: a\n    when: [x]\n" + k_attrs, 5, 11, "roles[0].when must be a condition map"},
      {k_head + "roles:\n  - name: a\n    zoom: { user_type: Pro }\n" + k_attrs, 5, 24,
       "roles[0].zoom.user_type must be Basic, Licensed or On-Prem, got 'Pro'"},
      {k_head + "roles:\n  - name: a\n    zoom: { licenses: { zoomPhone: yes } }\n" + k_attrs, 5, 36,
       "roles[0].zoom.licenses.zoomPhone must be true or false, got 'yes'"},
      {k_head + "roles:\n  - name: a\n    zoom: { groups: Eng }\n" + k_attrs, 5, 21, "roles[0].zoom.groups must be a list"},
      {k_head + "roles:\n  - name: a\n    zoom: { license: {} }\n" + k_attrs, 5, 13,
       "unknown key 'license' in roles[0].zoom (allowed: user_type, licenses, role or groups)"},
      {k_head + k_roles + "on_no_role: delete\n" + k_attrs, 4, 13, "on_no_role must be deprovision or keep, got 'delete'"},
      {k_head + k_roles + "attributes:\n  userName: \"{email}\"\n  name.first: \"{x}\"\n", 6, 3,
       "unknown attribute path 'name.first' (known: userName, name.givenName"},
      {k_head + k_roles + "attributes:\n  title: \"{job_title}\"\n", 4, 1,
       "attributes needs userName (the Zoom login e-mail)"},
      {k_head + k_roles + "attributes:\n  userName: \"{email|shout}\"\n", 5, 13,
       "attributes.userName: unknown filter 'shout' (filters: lower, upper, trim, ascii, fold, default('text'), or(field), "
       "map(table), left(n), right(n), mid(start, n), date('YYYY-MM-DD')) (at character 1"},
      {k_head + k_roles + "attributes:\n  userName: \"{email}\"\n  title: \"{job_title\"\n", 6, 10,
       "attributes.title: a '{' that is never closed"},
      {k_head + k_roles + "attributes:\n  userName: \"{email}\"\n  zoom.loginType.sso: \"{x}\"\n", 6, 23,
       "attributes.zoom.loginType.sso must be true or false"},
      {k_head + k_roles + "attributes:\n  userName: true\n", 5, 13, "attributes.userName must be a template"},
      {k_head + k_roles + "attributes:\n  userName: \"{email}\"\n  title: [a]\n", 6, 10,
       "attributes.title must be a template such as \"{first_name}\" or a literal true/false/number, got a list"},
      {k_head + k_roles + "attributes:\n  userName: \"{email}\"\n  title: a\n  title: b\n", 7, 3,
       "attribute 'title' is set twice (first at line 6)"},
      {k_head + k_roles + k_attrs + "lifecycle:\n  hire: { lead_days: -1 }\n", 6, 22,
       "lifecycle.hire.lead_days must be an integer from 0 to 365, got -1"},
      {k_head + k_roles + k_attrs + "lifecycle:\n  leave: { vacation: keep }\n", 6, 12,
       "unknown key 'vacation' in lifecycle.leave (allowed: long_term, fmla, legal or security)"},
      {k_head + k_roles + k_attrs + "lifecycle:\n  leave: { fmla: suspend }\n", 6, 18,
       "lifecycle.leave.fmla must be keep or deactivate, got 'suspend'"},
      {k_head + k_roles + k_attrs + "lifecycle:\n  terminate: { action: remove }\n", 6, 24,
       "lifecycle.terminate.action must be deactivate or delete, got 'remove'"},
      {k_head + k_roles + k_attrs + "lifecycle:\n  supervised: [terminate, fire]\n", 6, 27,
       "lifecycle.supervised entries must be hire, update, leave, return, terminate, rehire or resync, got 'fire'"},
      {k_head + k_roles + k_attrs + "lifecycle:\n  guard: { max_deactivations_per_cycle: lots }\n", 6, 41,
       "lifecycle.guard.max_deactivations_per_cycle must be an integer from 0 to 1000000"},
      {k_head + k_roles + k_attrs + "lifecycle:\n  guard: { max: -3 }\n", 6, 17,
       "lifecycle.guard.max must be an integer from 0 to 1000000"},
      {k_head + k_roles + k_attrs + "lifecycle:\n  guard: { max: 5, per: 10ms }\n", 6, 25,
       "lifecycle.guard.per must be between 1s and 7d, got '10ms'"},
      {k_head + k_roles + k_attrs + "lifecycle:\n  guard: { max: 5, per: 30d }\n", 6, 25,
       "lifecycle.guard.per must be between 1s and 7d, got '30d'"},
      {k_head + k_roles + k_attrs + "lifecycle:\n  guard: { max: 5, max_deactivations_per_cycle: 5 }\n", 6, 49,
       "lifecycle.guard: max and max_deactivations_per_cycle (its old name) are both set; keep max"},
      {k_head + k_roles + "attributes: { userName: \"{email}\"\n", 5, 1, "YAML syntax error"},
      {"", 1, 1, "the rules file is empty"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto rules = load_rules_text(c.text, "rules.yaml");
    REQUIRE_FALSE(rules);
    Diagnostics ds;  // the errors (warnings are checked elsewhere)
    for (const auto& d : rules.error())
      if (!d.warning) ds.push_back(d);
    CAPTURE(test::diagnostics_text(rules.error()));
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].file == "rules.yaml");
    CHECK(ds[0].line == c.line);
    CHECK(ds[0].column == c.column);
    CHECK(ds[0].message.find(c.message) != std::string::npos);
    CHECK_FALSE(ds[0].warning);
  }
}

TEST_CASE("validation: many problems in one file are all reported in one run") {
  const std::string text = R"(version: 1
targets:
  - connection: zoom
roles:
  - name: eng
    when: { field: dept, equals: Eng, contains: x }
    zoom: { user_type: Gold, licenses: { zoomMagic: true } }
  - name: eng
    when: { field: code, matches: "[" }
attributes:
  userName: "{email|nope}"
  phone: "{phone}"
lifecycle:
  terminate: { action: shred }
  supervised: [hire, vacation]
extra: 1
)";
  auto rules = load_rules_text(text, "/etc/h2r/rules.yaml");
  REQUIRE_FALSE(rules);
  const Diagnostics& ds = rules.error();
  CAPTURE(test::diagnostics_text(ds));
  std::vector<std::string> places;
  for (const auto& d : ds) places.push_back(std::to_string(d.line) + ":" + std::to_string(d.column) +
                                            (d.warning ? " warning" : ""));
  const std::vector<std::string> expected = {"6:39",  "7:24", "7:42 warning", "8:11",  "9:35",
                                             "11:13", "12:3", "14:24",        "15:22", "16:1"};
  CHECK(places == expected);  // sorted by place
  CHECK(ds.front().to_string().starts_with("/etc/h2r/rules.yaml:"));
}

TEST_CASE("validation: unknown license names and unreachable roles are warnings, not errors") {
  auto rules = test::must_load(R"(version: 1
targets: [{connection: z}]
roles:
  - name: all
    zoom: { licenses: { zoomHologram: true, zoomPhone: true } }
  - name: never
    when: { field: x, exists: true }
attributes: { userName: "{email}" }
)");
  const Diagnostics& ws = rules->warnings();
  CAPTURE(test::diagnostics_text(ws));
  REQUIRE(ws.size() == 2);
  CHECK(ws[0].warning);
  CHECK(ws[0].line == 5);
  CHECK(ws[0].column == 25);
  CHECK(ws[0].message.find("unknown license name 'zoomHologram'") != std::string::npos);
  CHECK(ws[1].line == 6);
  CHECK(ws[1].message.find("role 'never' can never match: role 'all' at line 4") != std::string::npos);
  CHECK(ws[0].to_string() == "rules.yaml:5:25: warning: " + ws[0].message);
}

TEST_CASE("validation: a missing rules file is one error naming it") {
  auto rules = load_rules_file("/nonexistent/h2r/rules.yaml");
  REQUIRE_FALSE(rules);
  REQUIRE(rules.error().size() == 1);
  CHECK(rules.error()[0].file == "/nonexistent/h2r/rules.yaml");
  CHECK(rules.error()[0].message.find("cannot read the rules file: No such file or directory") != std::string::npos);
}

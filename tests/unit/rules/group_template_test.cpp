// Issue 28: a role's groups entries are templates, rendered per employee; an entry that cannot be a
// template is refused by the loader (and so by `h2rd check`), naming the role and the entry.
#include "rules/rules.hpp"
#include "rules_test_util.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace h2r;
using test::diagnostics_text;
using test::must_load;

namespace {

std::string rules_with_groups(const std::string& groups) {
  return "version: 1\ntargets: [{connection: zoom-main}]\nroles:\n  - name: staff\n    zoom: { groups: " + groups +
         " }\nattributes:\n  userName: \"{email}\"\n";
}

DesiredUser desired_for(const RulesPtr& rules, const EmployeeRecord& record) {
  auto decisions = rules->decide(record);
  REQUIRE(decisions.size() == 1);
  REQUIRE(decisions[0].desired);
  return *decisions[0].desired;
}

} // namespace

TEST_CASE("rules groups: entries are templates rendered per employee, with filters, literals and {{ }} kept") {
  auto rules = must_load(rules_with_groups(R"(["Dept {department}", "{location|upper}-staff", All Staff, "{{literal}}"])"));
  auto user = desired_for(rules, {{"email", "a@example.com"}, {"department", "Sales"}, {"location", "berlin"}});
  CHECK(user.groups == std::vector<std::string>{"Dept Sales", "BERLIN-staff", "All Staff", "{literal}"});
  CHECK(user.groups_left_out.empty());
  CHECK(user.problem.empty());
}

TEST_CASE("rules groups: an entry that renders empty for an employee is left out and named, not a problem") {
  auto rules = must_load(rules_with_groups(R"(["Dept {department}", All Staff])"));
  auto user = desired_for(rules, {{"email", "a@example.com"}});
  CHECK(user.groups == std::vector<std::string>{"All Staff"});
  CHECK(user.groups_left_out == std::vector<std::string>{"Dept {department}"});
  CHECK(user.problem.empty());
}

TEST_CASE("rules groups: two entries that render the same name give one group") {
  auto rules = must_load(rules_with_groups(R"(["Dept {department}", "Dept Sales"])"));
  auto user = desired_for(rules, {{"email", "a@example.com"}, {"department", "Sales"}});
  CHECK(user.groups == std::vector<std::string>{"Dept Sales"});
}

TEST_CASE("rules groups: a rendered name too long or with a control character is a problem naming the entry") {
  auto rules = must_load(rules_with_groups(R"(["Dept {department}"])"));
  auto long_name = desired_for(rules, {{"email", "a@example.com"}, {"department", std::string(200, 'x')}});
  CHECK(long_name.groups.empty());
  CHECK_MESSAGE(long_name.problem.find("Dept {department}") != std::string::npos, long_name.problem);
  CHECK_MESSAGE(long_name.problem.find("128") != std::string::npos, long_name.problem);
  auto control = desired_for(rules, {{"email", "a@example.com"}, {"department", "Sa\nles"}});
  CHECK(control.groups.empty());
  CHECK_MESSAGE(control.problem.find("control character") != std::string::npos, control.problem);
}

TEST_CASE("rules groups: an entry that is not a template is an error naming the role and the entry") {
  for (const std::string entry : {"Dept {department", "Dept {depart ment}", "Dept department}", "{department|shout}"}) {
    CAPTURE(entry);
    auto loaded = load_rules_text(rules_with_groups("[\"" + entry + "\"]"), "rules.yaml");
    REQUIRE_FALSE(loaded);
    const std::string text = diagnostics_text(loaded.error());
    CHECK_MESSAGE(text.find("rules.yaml:5:") != std::string::npos, text);
    CHECK_MESSAGE(text.find("role 'staff'") != std::string::npos, text);
    CHECK_MESSAGE(text.find("\"" + entry + "\"") != std::string::npos, text);
  }
}

TEST_CASE("rules groups: fields used in group templates are field references") {
  auto rules = must_load(rules_with_groups(R"(["Dept {departmnet}"])"));
  bool found = false;
  for (const auto& r : rules->field_references())
    if (r.name == "departmnet") {
      found = true;
      CHECK(r.line == 5);
      CHECK_FALSE(r.decides);
    }
  CHECK(found);
  CHECK(rules->referenced_fields().count("departmnet") == 1);
  const std::string warnings = diagnostics_text(check_field_references(*rules, {}));
  CHECK_MESSAGE(warnings.find("departmnet") != std::string::npos, warnings);
}

TEST_CASE("rules groups: an entry may look its name up in the rules' tables, and check names an unknown table") {
  const std::string tables = "tables:\n  dept_group: { Sales: Sales Team, \"*\": Everyone Else }\n";
  auto rules = must_load(tables + rules_with_groups(R"(["{department|map(dept_group)}"])"));
  CHECK(desired_for(rules, {{"email", "a@example.com"}, {"department", "sales"}}).groups ==
        std::vector<std::string>{"Sales Team"});
  CHECK(desired_for(rules, {{"email", "a@example.com"}, {"department", "Ops"}}).groups ==
        std::vector<std::string>{"Everyone Else"});

  auto unknown = load_rules_text(tables + rules_with_groups(R"(["{department|map(dept_groups)}"])"), "rules.yaml");
  REQUIRE_FALSE(unknown);
  CHECK_MESSAGE(diagnostics_text(unknown.error()).find("dept_groups") != std::string::npos,
                diagnostics_text(unknown.error()));
}

TEST_CASE("rules groups: a name rendered from HR data has no space at its ends and one for each run") {
  auto rules = must_load(rules_with_groups(R"(["{division} {department}", " Dept  {department} ", "  All  Staff"])"));
  auto user = desired_for(rules, {{"email", "a@example.com"}, {"department", "Sales"}});
  CHECK(user.groups == std::vector<std::string>{"Sales", "Dept Sales", "  All  Staff"});
}

#include "rules/condition.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace h2r;

namespace {

Condition parse_ok(const std::string& yaml_text) {
  Diagnostics diagnostics;
  yaml::Reader reader("rules.yaml", diagnostics);
  auto node = reader.parse(yaml_text);
  REQUIRE(node);
  auto condition = Condition::parse(reader, *node, "when");
  std::string messages;
  for (const auto& d : diagnostics) messages += d.to_string() + "\n";
  REQUIRE_MESSAGE(condition, messages);
  CHECK(diagnostics.empty());
  return *condition;
}

} // namespace

TEST_CASE("condition: every operator, with and without case sensitivity, and on a missing field") {
  struct Case {
    const char* when;
    const char* value;  // nullptr: the field is absent
    bool expected;
  };
  const std::vector<Case> cases = {
      {"{field: f, equals: Sales}", "Sales", true},
      {"{field: f, equals: Sales}", "SALES", true},
      {"{field: f, equals: Sales}", "Sale", false},
      {"{field: f, equals: Sales, case_sensitive: true}", "SALES", false},
      {"{field: f, equals: Sales, case_sensitive: true}", "Sales", true},
      {"{field: f, equals: Sales}", nullptr, false},
      {"{field: f, equals: Sales}", "", false},
      {"{field: f, equals: Émile}", "ÉMILE", true},
      {"{field: f, equals: Émile}", "émile", true},
      {"{field: f, equals: Émile, case_sensitive: true}", "émile", false},
      {"{field: f, equals: Łódź}", "ŁÓDŹ", true},
      {"{field: f, not_equals: Sales}", "sales", false},
      {"{field: f, not_equals: Sales}", "Marketing", true},
      {"{field: f, not_equals: Sales, case_sensitive: true}", "sales", true},
      {"{field: f, not_equals: Sales}", nullptr, true},
      {"{field: f, in: [Engineering, Product]}", "product", true},
      {"{field: f, in: [Engineering, Product]}", "Design", false},
      {"{field: f, in: [Engineering, Product], case_sensitive: true}", "product", false},
      {"{field: f, in: [Engineering, Product]}", nullptr, false},
      {"{field: f, in: [1, 2]}", "2", true},
      {"{field: f, contains: ngin}", "ENGINEERING", true},
      {"{field: f, contains: ngin, case_sensitive: true}", "ENGINEERING", false},
      {"{field: f, contains: xyz}", "Engineering", false},
      {"{field: f, contains: ngin}", nullptr, false},
      {"{field: f, starts_with: Sup}", "support-emea", true},
      {"{field: f, starts_with: Sup, case_sensitive: true}", "support-emea", false},
      {"{field: f, starts_with: emea}", "support-emea", false},
      {"{field: f, starts_with: Sup}", nullptr, false},
      {"{field: f, ends_with: Contract}", "fixed_contract", true},
      {"{field: f, ends_with: Contract, case_sensitive: true}", "fixed_contract", false},
      {"{field: f, ends_with: fixed}", "fixed_contract", false},
      {"{field: f, ends_with: contract}", nullptr, false},
      {"{field: f, matches: '^CC-[0-9]+$'}", "cc-123", true},
      {"{field: f, matches: '^CC-[0-9]+$', case_sensitive: true}", "cc-123", false},
      {"{field: f, matches: '^CC-[0-9]+$'}", "CC-12a", false},
      {"{field: f, matches: '[0-9]{3}'}", "room 101 east", true},   // found anywhere
      {"{field: f, matches: '.*'}", nullptr, false},
      {"{field: f, exists: true}", "x", true},
      {"{field: f, exists: true}", "", false},
      {"{field: f, exists: true}", nullptr, false},
      {"{field: f, exists: false}", nullptr, true},
      {"{field: f, exists: false}", "x", false},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.when));
    CAPTURE(std::string(c.value ? c.value : "<absent>"));
    const Condition condition = parse_ok(c.when);
    EmployeeRecord record{{"other", "x"}};
    if (c.value) record["f"] = c.value;
    CHECK(condition.matches(record) == c.expected);
  }
}

TEST_CASE("condition: all, any and not nest to any depth") {
  const Condition c = parse_ok(R"(
all:
  - { field: country, in: [US, CA] }
  - any:
      - { field: department, equals: Sales }
      - all:
          - { field: department, equals: Support }
          - not: { field: level, in: [intern, trainee] }
  - not:
      not: { field: active, equals: "yes" }
)");
  struct Case {
    EmployeeRecord record;
    bool expected;
  };
  const std::vector<Case> cases = {
      {{{"country", "us"}, {"department", "Sales"}, {"active", "yes"}}, true},
      {{{"country", "CA"}, {"department", "support"}, {"level", "senior"}, {"active", "yes"}}, true},
      {{{"country", "CA"}, {"department", "support"}, {"active", "yes"}}, true},   // level absent: not in
      {{{"country", "CA"}, {"department", "support"}, {"level", "Intern"}, {"active", "yes"}}, false},
      {{{"country", "FR"}, {"department", "Sales"}, {"active", "yes"}}, false},
      {{{"country", "US"}, {"department", "Legal"}, {"active", "yes"}}, false},
      {{{"country", "US"}, {"department", "Sales"}, {"active", "no"}}, false},
      {{{"country", "US"}, {"department", "Sales"}}, false},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    CHECK(c.matches(cases[i].record) == cases[i].expected);
  }
  std::set<std::string> fields;
  c.collect_fields(fields);
  CHECK(fields == std::set<std::string>{"active", "country", "department", "level"});
}

TEST_CASE("condition: any and all of one child, and not of a composite") {
  CHECK(parse_ok("{any: [{field: a, equals: x}]}").matches({{"a", "X"}}));
  CHECK_FALSE(parse_ok("{all: [{field: a, equals: x}, {field: b, exists: true}]}").matches({{"a", "x"}}));
  CHECK(parse_ok("{not: {any: [{field: a, equals: x}, {field: a, equals: y}]}}").matches({{"a", "z"}}));
}

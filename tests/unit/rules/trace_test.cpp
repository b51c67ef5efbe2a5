// Rules::trace (issue 27, provision on demand): per target and role, why the rules decide as they do
// for one employee — the condition that failed, with its line in rules.yaml.
#include "unit/rules/rules_test_util.hpp"

using namespace h2r;
using namespace h2r::test;

namespace {

const char* k_rules = R"(version: 1
targets:
  - connection: zoom-us
    when: { field: location, in: [NYC, Boston] }
  - connection: zoom-eu
roles:
  - name: engineer
    when:
      all:
        - { field: employment_type, equals: full_time }
        - { field: department, equals: Engineering }
  - name: sales
    when:
      any:
        - { field: department, equals: Sales }
        - { field: job_title, matches: "^Account" }
  - name: not-contractor
    when: { not: { field: employment_type, equals: contractor } }
attributes:
  userName: "{email}"
)";

} // namespace

TEST_CASE("rules trace: each target and role in order, and the condition that failed with its line") {
  auto rules = must_load(k_rules);
  const EmployeeRecord record = {{"email", "a@example.com"}, {"location", "Paris"}, {"employment_type", "full_time"},
                                 {"department", "Product"}, {"job_title", "Manager"}};
  const auto trace = rules->trace(record);
  REQUIRE(trace.size() == 2);
  CHECK(trace[0].connection == "zoom-us");
  CHECK_FALSE(trace[0].taken);
  CHECK(trace[0].why_not == "location is 'Paris', and the rule asks that location is one of 'nyc', 'boston' (line 4)");
  CHECK(trace[0].roles.empty());
  CHECK(trace[1].taken);
  REQUIRE(trace[1].roles.size() == 3);   // up to the first that matches
  CHECK_FALSE(trace[1].roles[0].matched);
  CHECK(trace[1].roles[0].why_not == "department is 'Product', and the rule asks that department is 'engineering' (line 11)");
  CHECK(trace[1].roles[1].why_not.starts_with("none of its `any` holds: department is 'Product'"));
  CHECK(trace[1].roles[1].why_not.find("job_title matches /^Account/ (line 16)") != std::string::npos);
  CHECK(trace[1].roles[2].matched);
  CHECK(trace[1].roles[2].why_not.empty());
  // The same record, decided: the third role, in zoom-eu only.
  const auto decided = rules->decide(record);
  REQUIRE(decided.size() == 1);
  CHECK(decided[0].desired->role == "not-contractor");
}

TEST_CASE("rules trace: a missing field, a `not` that holds, and no role at all") {
  auto rules = must_load(k_rules);
  const EmployeeRecord contractor = {{"email", "c@example.com"}, {"employment_type", "contractor"}};
  const auto trace = rules->trace(contractor);
  REQUIRE(trace.size() == 2);
  CHECK(trace[0].why_not == "location is empty or absent, and the rule asks that location is one of 'nyc', 'boston' (line 4)");
  REQUIRE(trace[1].roles.size() == 3);
  for (const auto& r : trace[1].roles) CHECK_FALSE(r.matched);
  CHECK(trace[1].roles[2].why_not == "its `not` part holds for this employee: employment_type is 'contractor' (line 18)");
  // A long value is cut.
  const EmployeeRecord long_value = {{"location", std::string(500, 'x')}};
  CHECK(rules->trace(long_value)[0].why_not.size() < 250);
}

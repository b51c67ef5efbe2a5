// check_references: connections and fields the rules name, checked against the installation, each
// problem at its place with a "did you mean".
#include "unit/rules/rules_test_util.hpp"

#include <doctest/doctest.h>

using namespace h2r;
using namespace h2r::test;

namespace {

const char* k_rules = R"(version: 1
targets:
  - connection: zoom-mian
  - connection: zoom-eu
    when: { field: locaton, equals: EU }
roles:
  - name: staff
    when: { field: frist_name, exists: true }
attributes:
  userName: "{email}"
  name.givenName: "{frist_name}"
  title: "{badge}"
)";

} // namespace

TEST_CASE("rules references: each target's connection and each field once, at its first place") {
  auto rules = must_load(k_rules);
  auto connections = rules->connection_references();
  REQUIRE(connections.size() == 2);
  CHECK(connections[0].name == "zoom-mian");
  CHECK(connections[0].line == 3);
  CHECK(connections[0].column == 17);
  CHECK(connections[1].line == 4);
  auto fields = rules->field_references();
  REQUIRE(fields.size() == 4);   // locaton, frist_name (twice in the file, once here), email, badge
  CHECK(fields[0].name == "locaton");
  CHECK(fields[0].line == 5);
  CHECK(fields[1].name == "frist_name");
  CHECK(fields[1].line == 8);     // the condition comes before the template
  CHECK(fields[1].column == 20);
  CHECK(fields[2].name == "email");
  CHECK(fields[3].name == "badge");
  CHECK(fields[3].line == 12);
  CHECK(fields[3].column == 10);
}

TEST_CASE("check_references: unknown connections are errors with the nearest name, unknown fields warnings") {
  auto rules = must_load(k_rules);
  auto problems = check_references(*rules, std::vector<std::string>{"zoom-main", "zoom-eu"}, {});
  const std::string text = diagnostics_text(problems);
  CAPTURE(text);
  CHECK(text.find("rules.yaml:3:17: targets: connection 'zoom-mian' does not exist (did you mean 'zoom-main'?)") !=
        std::string::npos);
  CHECK(text.find("zoom-eu'") == std::string::npos);
  CHECK(text.find("rules.yaml:5:20: warning: field 'locaton' is not an event field and no event has carried it (did "
                  "you mean 'location'?)") != std::string::npos);
  CHECK(text.find("rules.yaml:8:20: warning: field 'frist_name'") != std::string::npos);
  CHECK(text.find(":11:") == std::string::npos);   // frist_name again: not repeated
  CHECK(text.find("rules.yaml:12:10: warning: field 'badge'") != std::string::npos);
  CHECK(problems.size() == 4);

  // Without a connection list nothing is said about connections; a field events carried is known.
  auto fewer = check_references(*rules, std::nullopt, {"badge"});
  CHECK(fewer.size() == 2);
  CHECK(diagnostics_text(fewer).find("zoom-mian") == std::string::npos);
  CHECK(diagnostics_text(fewer).find("badge") == std::string::npos);
}

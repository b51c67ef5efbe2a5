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

// The loader's diagnostics for rules that must be refused ("" when they load).
std::string load_error(const std::string& text) {
  auto rules = load_rules_text(text, "rules.yaml");
  return rules ? std::string() : diagnostics_text(rules.error());
}

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

TEST_CASE("check_references: unknown connections are errors with the nearest name, unknown fields that decide errors") {
  auto rules = must_load(k_rules);
  auto problems = check_references(*rules, std::vector<std::string>{"zoom-main", "zoom-eu"}, {});
  const std::string text = diagnostics_text(problems);
  CAPTURE(text);
  CHECK(text.find("rules.yaml:3:17: targets: connection 'zoom-mian' does not exist (did you mean 'zoom-main'?)") !=
        std::string::npos);
  CHECK(text.find("zoom-eu'") == std::string::npos);
  // Issue 28: a field in a condition decides who gets a Zoom user: unknown there, it is an error.
  CHECK(text.find("rules.yaml:5:20: field 'locaton' decides who gets which Zoom user but is neither an event field "
                  "(h2r-events(5)) nor declared in hr_fields (did you mean 'location'?)") != std::string::npos);
  CHECK(text.find("rules.yaml:8:20: field 'frist_name' decides") != std::string::npos);
  CHECK(text.find(":11:") == std::string::npos);   // frist_name again: not repeated
  // A field of another attribute stays a warning.
  CHECK(text.find("rules.yaml:12:10: warning: field 'badge'") != std::string::npos);
  CHECK(problems.size() == 4);

  // Without a connection list nothing is said about connections; a field events carried is known for an
  // attribute, not for a condition (that one must be declared).
  auto fewer = check_references(*rules, std::nullopt, {"badge", "locaton"});
  CHECK(fewer.size() == 2);
  CHECK(diagnostics_text(fewer).find("zoom-mian") == std::string::npos);
  CHECK(diagnostics_text(fewer).find("badge") == std::string::npos);
  CHECK(diagnostics_text(fewer).find("'locaton' decides") != std::string::npos);
}

TEST_CASE("check_references: hr_fields declares the HR fields conditions and the login may use") {
  auto declared = must_load(R"(version: 1
hr_fields: [zone, login_name]
targets:
  - connection: zoom-main
    when: { field: zone, equals: EU }
roles:
  - name: staff
    when: { field: departmnt, equals: Sales }
attributes:
  userName: "{login_name}"
  emails.work: "{emial}"
)");
  auto problems = check_references(*declared, std::vector<std::string>{"zoom-main"}, {});
  const std::string text = diagnostics_text(problems);
  CAPTURE(text);
  CHECK(text.find("'zone'") == std::string::npos);
  CHECK(text.find("'login_name'") == std::string::npos);
  CHECK(text.find("field 'departmnt' decides who gets which Zoom user") != std::string::npos);
  CHECK(text.find("(did you mean 'department'?)") != std::string::npos);
  CHECK(text.find("field 'emial' decides") != std::string::npos);   // an e-mail address decides too
  CHECK(problems.size() == 2);
  for (const auto& p : problems) CHECK_FALSE(p.warning);
}

TEST_CASE("rules: hr_fields takes field names only, a bounded list") {
  const std::string head = "version: 1\ntargets: [{ connection: zoom-main }]\nroles: [{ name: all }]\n"
                           "attributes: { userName: \"{email}\" }\n";
  CHECK(load_error(head + "hr_fields: [\"bad name\"]\n").find("hr_fields[0] must be a field name") != std::string::npos);
  CHECK(load_error(head + "hr_fields: zone\n").find("hr_fields") != std::string::npos);
  std::string many = "hr_fields: [";
  for (int i = 0; i < 257; ++i) many += (i ? ", f" : "f") + std::to_string(i);
  CHECK(load_error(head + many + "]\n").find("at most 256 fields") != std::string::npos);
}

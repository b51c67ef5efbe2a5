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

TEST_CASE("condition: case folding covers every script, per Unicode full case folding") {
  struct Case {
    const char* when;
    const char* value;
    bool expected;
  };
  const std::vector<Case> cases = {
      {"{field: f, equals: продажи}", "ПРОДАЖИ", true},                 // Cyrillic
      {"{field: f, equals: ПРОДАЖИ}", "Продажи", true},
      {"{field: f, equals: продажи, case_sensitive: true}", "ПРОДАЖИ", false},
      {"{field: f, in: [маркетинг, продажи]}", "ПРОДАЖИ", true},
      {"{field: f, contains: дАж}", "ПРОДАЖИ", true},
      {"{field: f, starts_with: про}", "ПРОДАЖИ", true},
      {"{field: f, ends_with: жи}", "ПРОДАЖИ", true},
      {"{field: f, not_equals: продажи}", "ПРОДАЖИ", false},
      {"{field: f, equals: σοφία}", "ΣΟΦΊΑ", true},                       // Greek, with tonos
      {"{field: f, equals: οδός}", "ΟΔΌΣ", true},                         // final sigma folds like σ
      {"{field: f, equals: straße}", "STRASSE", true},                    // ß folds to ss
      {"{field: f, equals: STRASSE}", "Straße", true},
      {"{field: f, starts_with: strass}", "Straße 5", true},
      {"{field: f, equals: straße, case_sensitive: true}", "STRASSE", false},
      {"{field: f, equals: Émile}", "E\xCC\x81MILE", true},               // decomposed É (E + U+0301)
      {"{field: f, equals: Łódź}", "ŁÓDŹ", true},
      {"{field: f, equals: ISTANBUL}", "istanbul", true},                  // Turkish: default, not Turkic, folding
      {"{field: f, equals: İstanbul}", "İSTANBUL", true},                 // İ folds alike in both
      {"{field: f, equals: İstanbul}", "istanbul", false},                // İ is i + dot above, not i
      {"{field: f, equals: ılık}", "ILIK", false},                        // dotless ı is not i
      {"{field: f, equals: ılık}", "ılık", true},
      {"{field: f, matches: '^продажи$'}", "ПРОДАЖИ", true},              // RE2's own Unicode folding
      {"{field: f, matches: '^продажи$', case_sensitive: true}", "ПРОДАЖИ", false},
      {"{field: f, matches: '^σοφία$'}", "ΣΟΦΊΑ", true},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.when));
    CAPTURE(std::string(c.value));
    CHECK(parse_ok(c.when).matches({{"f", c.value}}) == c.expected);
  }
}

TEST_CASE("condition: invalid UTF-8 in a value is compared, never crashes") {
  const std::vector<std::string> values = {"\xFF", "\xC3", "ab\xE2\x82", "\xED\xA0\x80", std::string("a\0b", 3),
                                           "\xF4\x90\x80\x80", "ПРОД\xD0"};
  for (const char* when : {"{field: f, equals: продажи}", "{field: f, contains: x}", "{field: f, matches: '^.+$'}",
                           "{field: f, matches: 'прод', case_sensitive: true}", "{field: f, in: [a, b]}"}) {
    const Condition condition = parse_ok(when);
    for (const auto& v : values) {
      CAPTURE(std::string(when));
      CHECK_FALSE(condition.matches({{"f", v}}) != condition.matches({{"f", v}}));  // evaluated, deterministic
    }
  }
  CHECK(parse_ok("{field: f, contains: прод}").matches({{"f", "ПРОД\xD0"}}));
}

TEST_CASE("condition: matches is linear time, so a catastrophic-backtracking pattern returns at once") {
  // std::regex took minutes on 30 'a' and never finished on 50; RE2 scans once. A hang fails the test
  // by ctest's timeout.
  const Condition condition = parse_ok("{field: nickname, matches: '^(a+)+$'}");
  CHECK_FALSE(condition.matches({{"nickname", std::string(50, 'a') + "!"}}));
  CHECK_FALSE(condition.matches({{"nickname", std::string(100'000, 'a') + "!"}}));
  CHECK(condition.matches({{"nickname", std::string(50, 'a')}}));
  CHECK(parse_ok("{field: f, matches: '(x+x+)+y'}").matches({{"f", std::string(5000, 'x') + "y"}}));
}

TEST_CASE("condition: a pattern RE2 cannot compile is reported at its line:col with the reason") {
  struct Case {
    std::string pattern;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"(a)\\\\1", "when.matches: invalid regular expression '(a)\\1': invalid escape sequence: \\1 (at character 4 of "
                  "the pattern); `matches` is RE2 syntax, which has no backreferences (\\1) or lookaround"},
      {"(?<=x)y", "when.matches: invalid regular expression '(?<=x)y': "},
      {"a(?=b)", "RE2 syntax, which has no backreferences"},
      {"([a-z", "missing ]"},
      {"a{2000}", "invalid repetition size: {2000} (at character 2 of the pattern)"},
      {"\\\\pL{1000}", "pattern too large - compile failed"},  // over RE2's max_mem
      {std::string(1001, 'a'), "when.matches: the pattern is 1001 bytes; the limit is 1000"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.pattern);
    Diagnostics diagnostics;
    yaml::Reader reader("rules.yaml", diagnostics);
    auto node = reader.parse("\n{ field: f, matches: \"" + c.pattern + "\" }\n");
    REQUIRE(node);
    CHECK_FALSE(Condition::parse(reader, *node, "when"));
    REQUIRE(diagnostics.size() == 1);
    CHECK(diagnostics[0].line == 2);
    CHECK(diagnostics[0].column == 22);
    CHECK_MESSAGE(diagnostics[0].message.find(c.message) != std::string::npos, diagnostics[0].message);
  }
}

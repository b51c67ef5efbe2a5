#include "rules/template.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace h2r;

TEST_CASE("template: fields, filters and literal braces") {
  const EmployeeRecord record{{"first_name", "Zoë"},   {"last_name", "Ålund-Müller"}, {"padded", "  Mid  "},
                              {"email", "Jill@Example.COM"}, {"empty", ""},        {"polish", "Łukasz Żółw"}};
  struct Case {
    const char* text;
    std::optional<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"{first_name}", "Zoë"},
      {"{first_name} {last_name}", "Zoë Ålund-Müller"},
      {"{first_name|ascii}", "Zoe"},
      {"{first_name|ascii|lower}.{last_name|ascii|lower}@example.com", "zoe.alund-muller@example.com"},
      {"{ first_name | ascii | upper }", "ZOE"},
      {"{first_name|upper}", "ZOË"},
      {"{email|lower}", "jill@example.com"},
      {"{polish|ascii}", "Lukasz Zolw"},
      {"{polish|lower}", "łukasz żółw"},
      {"[{padded|trim}]", "[Mid]"},
      {"[{padded}]", "[  Mid  ]"},
      {"{missing|default('n/a')}", "n/a"},
      {"{missing|default(\"n/a\")}", "n/a"},
      {"{empty|default('x|y}z')}", "x|y}z"},
      {"{first_name|default('unused')}", "Zoë"},
      {"{padded|trim|default('blank')}", "Mid"},
      {"{missing|default('  a  ')|trim|upper}", "A"},
      {"{{literal}} {first_name}", "{literal} Zoë"},
      {"}}{{", "}{"},
      {"plain text", "plain text"},
      {"", ""},
      {"{missing}", std::nullopt},
      {"{missing} {empty}", std::nullopt},   // every field empty: no attribute
      {"prefix-{missing}", std::nullopt},    // literal text alone does not count
      {"{missing} {first_name}", " Zoë"},    // one field present: rendered
      {"{missing|trim|lower}", std::nullopt},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    auto t = Template::parse(c.text);
    REQUIRE_MESSAGE(t, (t ? std::string() : t.error().message));
    CHECK(t->render(record) == c.expected);
  }
}

TEST_CASE("template: malformed templates say what is wrong and where") {
  struct Case {
    const char* text;
    const char* message;
    std::size_t offset;
  };
  const std::vector<Case> cases = {
      {"{first_name|shout}", "unknown filter 'shout' (filters: lower, upper, trim, ascii, fold, default('text'), or(field)", 0},
      {"ab {x", "a '{' that is never closed", 3},
      {"a } b", "a lone '}'", 2},
      {"x{}", "an empty placeholder", 1},
      {"{first name}", "'first name' is not a field name", 0},
      {"{x|default(x)}", "must be written default('text')", 0},
      {"{x|default('a)}", "never closed", 0},
      {"{x|}", "unknown filter ''", 0},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    auto t = Template::parse(c.text);
    REQUIRE_FALSE(t);
    CHECK(t.error().message.find(c.message) != std::string::npos);
    CHECK(t.error().offset == c.offset);
  }
}

TEST_CASE("template: referenced fields") {
  auto t = Template::parse("{a|lower} {b|default('x')} {{c}} {a}");
  REQUIRE(t);
  std::set<std::string> fields;
  t->collect_fields(fields);
  CHECK(fields == std::set<std::string>{"a", "b"});
}

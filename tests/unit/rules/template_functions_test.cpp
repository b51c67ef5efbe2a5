// Issue 28: the template language's functions — or, join, map over `tables:`, left/right/mid, date and
// fold — each with non-Latin and empty input, its limits, and the parse errors `h2rd check` reports.
#include "rules/template.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using namespace h2r;

namespace {

struct Case {
  const char* text;
  std::optional<std::string> expected;
};

void check_renders(const std::vector<Case>& cases, const EmployeeRecord& record, const TemplateTables* tables = nullptr) {
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    auto t = Template::parse(c.text, tables);
    REQUIRE_MESSAGE(t, (t ? std::string() : t.error().message));
    CHECK(t->render(record) == c.expected);
  }
}

TemplateTables cost_centres() {
  auto table = std::make_shared<TemplateTable>();
  table->entries = {{"sales", "CC-100"}, {"ops", "CC-200"}, {"продажи", "CC-300"}, {"blank", ""}};
  table->fallback = "CC-999";
  auto strict = std::make_shared<TemplateTable>();
  strict->entries = {{"us", "America/New_York"}};
  return {{"cost_centre", table}, {"zone", strict}};
}

} // namespace

TEST_CASE("template functions: or takes another field's value when empty, in a chain") {
  const EmployeeRecord record{{"preferred_name", ""}, {"first_name", "Ελένη"}, {"nickname", "Leni"}, {"blank", "  "}};
  check_renders({
      {"{preferred_name|or(first_name)}", "Ελένη"},
      {"{nickname|or(first_name)}", "Leni"},
      {"{missing|or(preferred_name)|or(nickname)}", "Leni"},
      {"{missing|or(preferred_name)|or(absent)|default('x')}", "x"},
      {"{missing|or(preferred_name)}", std::nullopt},
      {"{blank|trim|or(nickname)|upper}", "LENI"},
      {"{preferred_name|or( first_name )|fold}", "Elene"},
  }, record);
}

TEST_CASE("template functions: join joins the fields that have a value with the separator") {
  const EmployeeRecord record{{"first_name", "Анна"}, {"middle_name", ""}, {"last_name", "Берг"}, {"blank", " "}};
  check_renders({
      {"{join(' ', first_name, middle_name, last_name)}", "Анна Берг"},
      {"{join(', ', last_name, first_name)}", "Берг, Анна"},
      {"{join('', first_name, last_name)}", "АннаБерг"},
      {"{join(\"|\", first_name, blank, missing, last_name)}", "Анна|Берг"},
      {"{join('.', first_name, last_name)|fold|lower}@example.com", "anna.berg@example.com"},
      {"{join(' ', missing, middle_name)}", std::nullopt},
      {"{join(' ', missing, middle_name)|default('nobody')}", "nobody"},
      {"{join(' ', last_name)}", "Берг"},
  }, record);
}

TEST_CASE("template functions: left, right and mid count code points and never split a UTF-8 sequence") {
  const EmployeeRecord record{{"greek", "Ελένη"}, {"cjk", "山田太郎"}, {"emoji", "a😀b"}, {"ascii", "Engineering"},
                              {"empty", ""}, {"decomposed", "Zoe\xCC\x88l"}, {"bad", "a\xFF" "bc"}};
  check_renders({
      {"{greek|left(2)}", "Ελ"},
      {"{greek|right(3)}", "ένη"},
      {"{greek|mid(2, 3)}", "λέν"},
      {"{cjk|left(1)}", "山"},
      {"{cjk|mid(3,2)}", "太郎"},
      {"{emoji|mid(2, 1)}", "😀"},
      {"{emoji|right(2)}", "😀b"},
      {"{ascii|left(3)|upper}", "ENG"},
      {"{ascii|left(1024)}", "Engineering"},
      {"{ascii|right(1024)}", "Engineering"},
      {"{ascii|mid(20, 3)}", std::nullopt},   // past the end: empty
      {"{ascii|mid(20, 3)|default('-')}", "-"},
      {"{empty|left(3)}", std::nullopt},
      {"{decomposed|left(4)}", "Zoe\xCC\x88"},  // a combining mark is a code point of its own
      {"{bad|left(2)}", "a\xFF"},                // an invalid byte counts as one
  }, record);
}

TEST_CASE("template functions: date writes an ISO date in a fixed token set, anything else is empty") {
  const EmployeeRecord record{{"hire_date", "2026-03-01"}, {"stamp", "2024-02-29T09:30:00Z"}, {"spaced", " 2026-12-31 08:00 "},
                              {"us", "3/1/2026"}, {"feb30", "2026-02-30"}, {"leap", "2025-02-29"}, {"month13", "2026-13-01"},
                              {"short", "2026-3-1"}, {"trailing", "2026-03-01x"}, {"empty", ""}};
  check_renders({
      {"{hire_date|date('YYYY-MM-DD')}", "2026-03-01"},
      {"{hire_date|date('DD.MM.YYYY')}", "01.03.2026"},
      {"{hire_date|date('MM/DD/YY')}", "03/01/26"},
      {"{hire_date|date('DD MMM YYYY')}", "01 Mar 2026"},
      {"{hire_date|date(\"YYYYMMDD\")}", "20260301"},
      {"{stamp|date('YYYY-MM-DD')}", "2024-02-29"},
      {"{spaced|date('DD/MM')}", "31/12"},
      {"{us|date('YYYY-MM-DD')}", std::nullopt},
      {"{feb30|date('YYYY-MM-DD')}", std::nullopt},
      {"{leap|date('YYYY-MM-DD')}", std::nullopt},
      {"{month13|date('YYYY')}", std::nullopt},
      {"{short|date('YYYY')}", std::nullopt},
      {"{trailing|date('YYYY')}", std::nullopt},
      {"{empty|date('YYYY')}", std::nullopt},
      {"{us|date('YYYY-MM-DD')|default('unknown')}", "unknown"},
  }, record);
}

TEST_CASE("template functions: map looks a value up in a table, case aside, with its * default") {
  const TemplateTables tables = cost_centres();
  const EmployeeRecord record{{"department", "Sales"}, {"upper", "OPS"}, {"cyrillic", "ПРОДАЖИ"}, {"other", "Legal"},
                              {"country", "DE"}, {"us", "us"}, {"empty", ""}, {"blank_entry", "Blank"}};
  check_renders({
      {"{department|map(cost_centre)}", "CC-100"},
      {"{upper|map(cost_centre)}", "CC-200"},
      {"{cyrillic|map(cost_centre)}", "CC-300"},
      {"{other|map(cost_centre)}", "CC-999"},         // not listed: the "*" entry
      {"{country|map(zone)}", std::nullopt},          // not listed and no "*": empty
      {"{country|map(zone)|default('UTC')}", "UTC"},
      {"{us|map( zone )}", "America/New_York"},
      {"{empty|map(cost_centre)}", std::nullopt},     // no value: nothing to look up
      {"{blank_entry|map(cost_centre)|default('x')}", "x"},
      {"{department|lower|map(cost_centre)|left(2)}", "CC"},
  }, record, &tables);
}

TEST_CASE("template functions: fold turns any script into ASCII, ascii keeps what it cannot strip") {
  const EmployeeRecord record{{"greek", "Ελένη"}, {"cyrillic", "Дмитрий"}, {"latin", "Zoë Łukasz Ørsted"},
                              {"decomposed", "Zoe\xCC\x88"}, {"plain", "Anna"}, {"empty", ""}};
  check_renders({
      {"{greek|fold}", "Elene"},
      {"{cyrillic|fold}", "Dmitrij"},
      {"{latin|fold}", "Zoe Lukasz Orsted"},
      {"{decomposed|fold}", "Zoe"},
      {"{plain|fold}", "Anna"},
      {"{empty|fold}", std::nullopt},
      {"{cyrillic|ascii}", "Дмитрий"},   // ascii covers Latin letters only, as before
      {"{latin|ascii}", "Zoe Lukasz Orsted"},
  }, record);
}

TEST_CASE("template functions: every field they read is a referenced field") {
  auto t = Template::parse("{preferred_name|or(first_name)|or(nickname)} {join(' ', a, b)|or(c)}");
  REQUIRE(t);
  std::set<std::string> fields;
  t->collect_fields(fields);
  CHECK(fields == std::set<std::string>{"a", "b", "c", "first_name", "nickname", "preferred_name"});
}

TEST_CASE("template functions: wrong arity, numbers, tables and format tokens are refused, naming them") {
  const TemplateTables tables = cost_centres();
  struct Bad {
    const char* text;
    const char* message;
    std::size_t offset;
  };
  const std::vector<Bad> cases = {
      {"{x|or()}", "filter 'or' must be written or(field), got 0 arguments", 0},
      {"{x|or(a, b)}", "must be written or(field), got 2 arguments", 0},
      {"{x|or('a')}", "or(...): ''a'' is not a field name", 0},
      {"ab {x|map(cost_center)}", "map(cost_center): unknown table 'cost_center' (tables: cost_centre, zone)", 3},
      {"{x|map()}", "must be written map(table)", 0},
      {"{x|left(0)}", "left(...): n must be a whole number from 1 to 1024, got '0'", 0},
      {"{x|left(1025)}", "from 1 to 1024, got '1025'", 0},
      {"{x|left(-1)}", "got '-1'", 0},
      {"{x|right(two)}", "right(...): n must be a whole number", 0},
      {"{x|left(99999999999999999999)}", "got '99999999999999999999'", 0},
      {"{x|left(1, 2)}", "must be written left(n), got 2 arguments", 0},
      {"{x|mid(1)}", "must be written mid(start, n), got 1 argument", 0},
      {"{x|mid(0, 2)}", "mid(...): start must be a whole number", 0},
      {"{x|mid(1, 2000)}", "mid(...): n must be a whole number from 1 to 1024, got '2000'", 0},
      {"{x|date(YYYY)}", "must be written date('YYYY-MM-DD')", 0},
      {"{x|date('%Y-%m-%d')}", "date('%Y-%m-%d'): 'Y' is not a date format token (tokens: YYYY, YY, MM, DD, MMM", 0},
      {"{x|date('YYYY-MM-DD hh:mm')}", "'hh' is not a date format token", 0},
      {"{x|date('Y')}", "'Y' is not a date format token", 0},
      {"{x|date('')}", "an empty date format", 0},
      {"{x|lower()}", "filter 'lower' takes no arguments", 0},
      {"{x|fold(1)}", "filter 'fold' takes no arguments", 0},
      {"{x|switch(a)}", "unknown filter 'switch(a)'", 0},
      {"{join(first_name, last_name)}", "must be written join('separator', field, field, ...)", 0},
      {"{join(' ')}", "must be written join('separator', field, field, ...)", 0},
      {"{join(' ', a, 'b')}", "join(...): ''b'' is not a field name", 0},
      {"{join(' ', a, b c)}", "join(...): 'b c' is not a field name", 0},
      {"{join(' ', f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, f)}", "with 1 to 16 fields", 0},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    auto t = Template::parse(c.text, &tables);
    REQUIRE_FALSE(t);
    CHECK_MESSAGE(t.error().message.find(c.message) != std::string::npos, t.error().message);
    CHECK(t.error().offset == c.offset);
  }
  auto without_tables = Template::parse("{x|map(cost_centre)}");
  REQUIRE_FALSE(without_tables);
  CHECK(without_tables.error().message == "map(cost_centre): unknown table 'cost_centre' (the rules file has no tables)");
  CHECK(Template::parse("{join(' ', f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, f)}"));  // 16 fields
  CHECK(Template::parse("{x|default('" + std::string(1024, 'd') + "')}"));
  auto long_default = Template::parse("{x|default('" + std::string(1025, 'd') + "')}");
  REQUIRE_FALSE(long_default);
  CHECK(long_default.error().message == "default's text is 1025 bytes (at most 1024)");
  CHECK(Template::parse("{x|date('" + std::string(64, '-') + "')}"));
  auto long_format = Template::parse("{x|date('" + std::string(65, '-') + "')}");
  REQUIRE_FALSE(long_format);
  CHECK(long_format.error().message.find("a date format of 65 bytes (at most 64)") != std::string::npos);
  auto long_separator = Template::parse("{join('" + std::string(1025, '-') + "', a, b)}");
  REQUIRE_FALSE(long_separator);
  CHECK(long_separator.error().message.find("a separator of 1025 bytes (at most 1024)") != std::string::npos);
}

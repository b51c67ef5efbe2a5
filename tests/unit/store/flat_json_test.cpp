// parse_flat_object: the SAX reading of events.fields and employees.record gives what
// nlohmann::json::parse + a copy gave, and refuses what was refused as damaged.
#include "store/flat_json.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace h2r;

TEST_CASE("flat json: string and null values decode as the JSON parser decodes them") {
  FieldPatch fields;
  REQUIRE(parse_flat_object(R"({"a":"x","b":null,"esc":"q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","empty":""})", fields));
  CHECK(fields.size() == 4);
  CHECK(fields.at("a") == "x");
  CHECK_FALSE(fields.at("b").has_value());
  CHECK(fields.at("empty") == "");
  const auto dom = nlohmann::json::parse(R"("q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00")").get<std::string>();
  CHECK(fields.at("esc") == dom);
  FieldPatch none;
  CHECK(parse_flat_object(" {} ", none));
  CHECK(none.empty());
  FieldPatch repeated;
  REQUIRE(parse_flat_object(R"({"k":"1","k":"2"})", repeated));
  CHECK(repeated.at("k") == "2");

  EmployeeRecord record;
  REQUIRE(parse_flat_object(R"({"email":"a@example.com","title":"Dr. \"X\""})", record));
  CHECK(record.at("title") == "Dr. \"X\"");
}

TEST_CASE("flat json: anything but one flat object of strings (or nulls for fields) is refused") {
  for (const char* bad : {"", "null", "\"s\"", "[]", "[{}]", "{", "{\"a\":\"x\"", "{\"a\":1}", "{\"a\":true}",
                          "{\"a\":{}}", "{\"a\":[]}", "{\"a\":\"x\"} {}", "{\"a\":\"x\"}x", "{\"a\":\"\xff\"}"}) {
    CAPTURE(bad);
    FieldPatch fields;
    CHECK_FALSE(parse_flat_object(bad, fields));
    EmployeeRecord record;
    CHECK_FALSE(parse_flat_object(bad, record));
  }
  EmployeeRecord record;
  CHECK_FALSE(parse_flat_object(R"({"a":null})", record));   // a record holds strings only
}

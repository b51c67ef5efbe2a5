#include "hr/readers.hpp"

#include "hr_test_util.hpp"
#include "support/test_paths.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace h2r;

namespace {

std::string all_problems(const ParsedFile& f) {
  std::string out;
  for (const auto& p : f.problems) out += p.to_string() + "\n";
  return out;
}

const char* k_hire =
    R"({"event_id":"e1","type":"hire","effective_date":"2026-12-01","employee":{"employee_id":"E1","email":"a@example.com","first_name":"Zoë"}})";

} // namespace

TEST_CASE("format_for_name maps extensions case-insensitively") {
  CHECK(format_for_name("a.json") == FileFormat::json);
  CHECK(format_for_name("A.JSON") == FileFormat::json);
  CHECK(format_for_name("a.ndjson") == FileFormat::ndjson);
  CHECK(format_for_name("a.JsonL") == FileFormat::ndjson);
  CHECK(format_for_name("x.y.csv") == FileFormat::csv);
  CHECK_FALSE(format_for_name("a.txt"));
  CHECK_FALSE(format_for_name("json"));
  CHECK_FALSE(format_for_name("a.json.bak"));
}

TEST_CASE("FileProblem::to_string leaves out unknown parts") {
  CHECK(FileProblem{3, 7, "email", "not a plausible e-mail address"}.to_string() ==
        "record 3 (line 7): field 'email': not a plausible e-mail address");
  CHECK(FileProblem{3, 0, "", "m"}.to_string() == "record 3: m");
  CHECK(FileProblem{0, 4, "", "m"}.to_string() == "line 4: m");
  CHECK(FileProblem{0, 0, "", "file is empty"}.to_string() == "file is empty");
  CHECK(FileProblem{1, 0, "a\nb", "unknown key"}.to_string() == "record 1: field 'a\\x0Ab': unknown key");
}

TEST_CASE("JSON: one object or an array of them") {
  auto one = parse_event_file(FileFormat::json, k_hire);
  REQUIRE_MESSAGE(one.problems.empty(), all_problems(one));
  REQUIRE(one.events.size() == 1);
  const HrEvent& e = one.events[0];
  CHECK(e.event_id == "e1");
  CHECK(e.type == EventType::hire);
  CHECK(e.effective_date == "2026-12-01");
  CHECK(e.employee_id == "E1");
  CHECK(e.fields.at("employee_id") == "E1");
  CHECK(e.fields.at("first_name") == "Zoë");
  CHECK(e.record == 1);
  CHECK(e.line == 0);

  auto many = parse_event_file(FileFormat::json, std::string("[") + k_hire + "," +
                                                     R"({"event_id":"e2","type":"terminate","employee":{"employee_id":"E1"}}])");
  REQUIRE_MESSAGE(many.problems.empty(), all_problems(many));
  REQUIRE(many.events.size() == 2);
  CHECK(many.events[1].record == 2);
  CHECK(many.events[1].type == EventType::terminate);
  CHECK(many.events[1].effective_date.empty());

  auto bom = parse_event_file(FileFormat::json, std::string("\xEF\xBB\xBF") + k_hire);
  CHECK_MESSAGE(bom.problems.empty(), all_problems(bom));
}

TEST_CASE("update: null clears a field, leave carries leave_type") {
  auto f = parse_event_file(FileFormat::json,
                            R"([{"event_id":"u","type":"update","employee":{"employee_id":"E1","phone":null,"title":"X"}},
                                {"event_id":"l","type":"leave","leave_type":"fmla","employee":{"employee_id":"E1"}}])");
  REQUIRE_MESSAGE(f.problems.empty(), all_problems(f));
  CHECK(f.events[0].fields.count("phone") == 1);
  CHECK_FALSE(f.events[0].fields.at("phone").has_value());
  CHECK(f.events[0].fields.at("title") == "X");
  CHECK(f.events[1].leave_type == LeaveType::fmla);
}

TEST_CASE("JSON record validation reports every problem with its field") {
  struct Case {
    const char* json;
    const char* expected; // a substring of the problem list
  };
  const Case cases[] = {
      {R"({"event_id":"e","type":"fire","employee":{"employee_id":"E"}})", "field 'type': unknown event type 'fire'"},
      {R"({"event_id":"","type":"terminate","employee":{"employee_id":"E"}})", "field 'event_id': must not be empty"},
      {R"({"event_id":7,"type":"terminate","employee":{"employee_id":"E"}})", "field 'event_id': must be a string, not a number"},
      {R"({"type":"terminate","employee":{"employee_id":"E"}})", "field 'event_id': is required"},
      {R"({"event_id":"e","type":"terminate","employee":{}})", "field 'employee_id': is required"},
      {R"({"event_id":"e","type":"terminate","employee":{"employee_id":""}})", "field 'employee_id': must not be empty"},
      {R"({"event_id":"e","type":"terminate"})", "field 'employee': is required"},
      {R"({"event_id":"e","type":"hire","employee":{"employee_id":"E"}})", "field 'email': is required for hire events"},
      {R"({"event_id":"e","type":"rehire","employee":{"employee_id":"E"}})", "field 'email': is required for rehire events"},
      {R"({"event_id":"e","type":"hire","employee":{"employee_id":"E","email":"a b@x.com"}})", "field 'email': not a plausible"},
      {R"({"event_id":"e","type":"hire","employee":{"employee_id":"E","email":"ab@localhost"}})", "field 'email': not a plausible"},
      {R"({"event_id":"e","type":"hire","employee":{"employee_id":"E","email":"@x.com"}})", "field 'email': not a plausible"},
      {R"({"event_id":"e","type":"leave","employee":{"employee_id":"E"}})", "field 'leave_type': is required for leave"},
      {R"({"event_id":"e","type":"leave","leave_type":"vacation","employee":{"employee_id":"E"}})", "field 'leave_type': unknown leave type 'vacation'"},
      {R"({"event_id":"e","type":"update","leave_type":"fmla","employee":{"employee_id":"E"}})", "field 'leave_type': is only allowed in leave"},
      {R"({"event_id":"e","type":"update","effective_date":"2026-13-01","employee":{"employee_id":"E"}})", "field 'effective_date': '2026-13-01' is not an ISO date"},
      {R"({"event_id":"e","type":"update","effective_date":null,"employee":{"employee_id":"E"}})", "field 'effective_date': must be a string"},
      {R"({"event_id":"e","type":"update","effective_date":"9999-12-31","employee":{"employee_id":"E"}})", "field 'effective_date': '9999-12-31' is after 2199-12-31, the latest date h2r accepts"},
      {R"({"event_id":"e","type":"update","effective_date":"1899-12-31T23:00:00Z","employee":{"employee_id":"E"}})", "field 'effective_date': '1899-12-31T23:00:00Z' is before 1900-01-01"},
      {R"({"event_id":"e","type":"update","employee":{"employee_id":"E","age":42}})", "field 'age': must be a string or null, not a number"},
      {R"({"event_id":"e","type":"update","employee":{"employee_id":"E","vip":true}})", "field 'vip': must be a string or null, not a boolean"},
      {R"({"event_id":"e","type":"update","employee":{"employee_id":"E","x":{}}})", "field 'x': must be a string or null, not an object"},
      {R"({"event_id":"e","type":"update","employee":{"employee_id":"E","x":[]}})", "field 'x': must be a string or null, not an array"},
      {R"({"event_id":"e","type":"terminate","employee":{"employee_id":"E","phone":null}})", "field 'phone': null (clear the field) is only allowed in update"},
      {R"({"event_id":"e","type":"update","employee":{"employee_id":null}})", "field 'employee_id': must be a string, not null"},
      {R"({"event_id":"e","type":"update","extra":1,"employee":{"employee_id":"E"}})", "field 'extra': unknown key"},
      {R"({"event_id":"e","type":"update","employee":{"employee_id":"E","email":"a@x.com","email":"b@x.com"}})", "field 'email': duplicate key"},
      {R"({"event_id":"e","type":"update","employee":{"employee_id":"E","":"v"}})", "employee field name '' is not 1 to 100"},
      {R"({"event_id":"e","type":"update","employee":{"employee_id":"E","x":"a\u0000b"}})", "field 'x': must not contain a NUL"},
      {R"("hire")", "one event object or an array"},
      {R"([1])", "record 1: an event must be a JSON object, not a number"},
      {R"({"event_id":)", "not valid JSON: parse error"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.json);
    auto f = parse_event_file(FileFormat::json, c.json);
    CHECK(f.events.empty());
    CHECK_MESSAGE(all_problems(f).find(c.expected) != std::string::npos, all_problems(f));
  }

  // Several problems in one record are all listed.
  auto f = parse_event_file(FileFormat::json, R"({"event_id":"","type":"hire","employee":{"employee_id":"E","n":1}})");
  CHECK(f.problems.size() == 3); // event_id, n, email
}

TEST_CASE("duplicate keys are named with their record, also beside a syntax error and deep inside") {
  // Records are parsed once, counting keys; a duplicate (or an error) sends the text through the
  // naming parse, which must report exactly what it would have alone.
  auto f = parse_event_file(FileFormat::json,
                            R"([{"event_id":"a","type":"update","employee":{"employee_id":"E1"}},
                                {"event_id":"b","type":"update","employee":{"employee_id":"E2","title":"X","title":"Y"}}])");
  REQUIRE(f.problems.size() == 1);
  CHECK(f.problems[0].record == 2);
  CHECK(f.problems[0].field == "title");
  CHECK(f.problems[0].message == "duplicate key");

  // A duplicate top-level key, then a syntax error further on: both are reported, in that order.
  auto g = parse_event_file(FileFormat::ndjson,
                            "{\"event_id\":\"a\",\"event_id\":\"b\",\"type\":\"update\",\"employee\":{\"employee_id\":\"E\"},}\n");
  REQUIRE_MESSAGE(g.problems.size() == 2, all_problems(g));
  CHECK(g.problems[0].field == "event_id");
  CHECK(g.problems[0].message == "duplicate key");
  CHECK(g.problems[1].message.find("not valid JSON") == 0);

  // No duplicate: same key names in sibling objects are not one.
  auto h = parse_event_file(FileFormat::ndjson,
                            "{\"event_id\":\"a\",\"type\":\"update\",\"employee\":{\"employee_id\":\"E\",\"type\":\"x\"}}\n");
  CHECK_MESSAGE(h.problems.empty(), all_problems(h));
}

TEST_CASE("limits") {
  const std::string long_id(k_max_event_id_bytes + 1, 'x');
  auto f = parse_event_file(FileFormat::json, R"({"event_id":")" + long_id + R"(","type":"terminate","employee":{"employee_id":"E"}})");
  CHECK(all_problems(f).find("field 'event_id': is longer than 200 bytes") != std::string::npos);

  const std::string long_value(k_max_field_value_bytes + 1, 'v');
  f = parse_event_file(FileFormat::json, R"({"event_id":"e","type":"update","employee":{"employee_id":"E","t":")" + long_value + R"("}})");
  CHECK(all_problems(f).find("field 't': is longer than 4096 bytes") != std::string::npos);

  const std::string long_name(k_max_field_name_bytes + 1, 'n');
  f = parse_event_file(FileFormat::json, R"({"event_id":"e","type":"update","employee":{"employee_id":"E",")" + long_name + R"(":"v"}})");
  CHECK(all_problems(f).find("is not 1 to 100 bytes") != std::string::npos);

  std::string many = R"({"event_id":"e","type":"update","employee":{"employee_id":"E")";
  for (std::size_t i = 0; i < k_max_fields_per_employee; ++i) many += ",\"f" + std::to_string(i) + "\":\"v\"";
  f = parse_event_file(FileFormat::json, many + "}}");
  CHECK(all_problems(f).find("more than 200") != std::string::npos);
}

TEST_CASE("duplicate event_id in one file") {
  auto f = parse_event_file(FileFormat::ndjson, std::string(k_hire) + "\n" + k_hire + "\n");
  CHECK(all_problems(f) == "record 2 (line 2): field 'event_id': duplicate event_id 'e1' (first in record 1)\n");
  CHECK(f.events.empty());
}

TEST_CASE("deep nesting is rejected without recursion") {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  auto f = parse_event_file(FileFormat::json, deep);
  CHECK(all_problems(f).find("nested deeper than 16") != std::string::npos);
  auto g = parse_event_file(FileFormat::ndjson, std::string(k_hire) + "\n" + std::string(100, '{') + "\n");
  CHECK(all_problems(g).find("record 2 (line 2): JSON nested deeper") != std::string::npos);
  // Brackets inside strings do not count.
  auto h = parse_event_file(FileFormat::json, R"({"event_id":"[[[[[[[[[[[[[[[[[[[[[\"[[[[","type":"terminate","employee":{"employee_id":"E"}})");
  CHECK_MESSAGE(h.problems.empty(), all_problems(h));
}

TEST_CASE("an export with no changes has no events and no problems, an empty .json file is not JSON") {
  for (const char* blank : {"", " \r\n\n", "\xEF\xBB\xBF"}) {
    CAPTURE(blank);
    for (auto format : {FileFormat::ndjson, FileFormat::csv}) {
      auto f = parse_event_file(format, blank);
      CHECK_MESSAGE(f.problems.empty(), all_problems(f));
      CHECK(f.events.empty());
    }
    CHECK(all_problems(parse_event_file(FileFormat::json, blank)) ==
          "file is empty (not JSON; an export with no changes is [])\n");
  }
  for (const auto& [format, text] : {std::pair{FileFormat::json, "[]"}, std::pair{FileFormat::json, " [ ]\n"},
                                     std::pair{FileFormat::csv, "event_id,type,employee_id\n"},
                                     std::pair{FileFormat::csv, "event_id,type,employee_id"},
                                     std::pair{FileFormat::csv, "event_id,type,employee_id\r\n\r\n"}}) {
    CAPTURE(text);
    auto f = parse_event_file(format, text);
    CHECK_MESSAGE(f.problems.empty(), all_problems(f));
    CHECK(f.events.empty());
  }
  // A header-only CSV is still checked: a bad header is rejected.
  CHECK(all_problems(parse_event_file(FileFormat::csv, "type,first_name\n")).find("missing required") != std::string::npos);
}

TEST_CASE("whole-file problems: invalid UTF-8, NUL bytes") {
  for (auto format : {FileFormat::json, FileFormat::ndjson, FileFormat::csv}) {
    auto bad = parse_event_file(format, "{\"a\":\n\"\xC3\x28\"}");
    CHECK(all_problems(bad).rfind("line 2: invalid UTF-8 in '\\\"\\xC3(\\\"}' (byte 8); this looks like Windows-1252; ", 0) == 0);
    CHECK(all_problems(parse_event_file(format, "ab\xED\xA0\x80")).find("invalid UTF-8") != std::string::npos); // surrogate
    CHECK(all_problems(parse_event_file(format, "ab\xC0\xAF")).find("invalid UTF-8") != std::string::npos);     // overlong
    CHECK(all_problems(parse_event_file(format, std::string("ab\0cd", 5))).find("NUL byte") != std::string::npos);
  }
}

TEST_CASE("NDJSON: blank lines allowed, line numbers reported") {
  const std::string text = std::string("\n") + k_hire + "\r\n\n  \n" +
                           R"({"event_id":"e2","type":"update","employee":{"employee_id":"E2"}})" + "\n";
  auto f = parse_event_file(FileFormat::ndjson, text);
  REQUIRE_MESSAGE(f.problems.empty(), all_problems(f));
  REQUIRE(f.events.size() == 2);
  CHECK(f.events[0].line == 2);
  CHECK(f.events[0].record == 1);
  CHECK(f.events[1].line == 5);
  CHECK(f.events[1].record == 2);

  auto bad = parse_event_file(FileFormat::ndjson, std::string(k_hire) + "\n\nnot json\n[1]\n");
  const std::string p = all_problems(bad);
  CHECK(p.find("record 2 (line 3): not valid JSON") != std::string::npos);
  CHECK(p.find("record 3 (line 4): an event must be a JSON object, not an array") != std::string::npos);
  CHECK(bad.events.empty());
}

TEST_CASE("CSV: quoting, embedded newlines, CRLF, BOM, empty cell means absent") {
  const std::string text = "\xEF\xBB\xBF"
                           "event_id,type,employee_id,email,title,note\r\n"
                           "c1,hire,E1,a@example.com,\"Engineer, Senior\",\"says \"\"hi\"\"\"\r\n"
                           "c2,update,E2,,\"line one\r\nline two\",\r\n"
                           "\r\n"
                           "c3,terminate,E3,,,\r\n";
  auto f = parse_event_file(FileFormat::csv, text);
  REQUIRE_MESSAGE(f.problems.empty(), all_problems(f));
  REQUIRE(f.events.size() == 3);
  CHECK(f.events[0].fields.at("title") == "Engineer, Senior");
  CHECK(f.events[0].fields.at("note") == "says \"hi\"");
  CHECK(f.events[0].line == 2);
  CHECK(f.events[1].fields.at("title") == "line one\r\nline two");
  CHECK(f.events[1].fields.count("email") == 0); // empty cell: absent, not cleared
  CHECK(f.events[1].fields.count("note") == 0);
  CHECK(f.events[1].line == 3);
  CHECK(f.events[2].line == 6);
  CHECK(f.events[2].record == 3);
  CHECK(f.events[2].type == EventType::terminate);

  auto lf = parse_event_file(FileFormat::csv, "event_id,type,employee_id,leave_type,effective_date\nl1,leave,E1,security,2026-12-01\n");
  REQUIRE_MESSAGE(lf.problems.empty(), all_problems(lf));
  CHECK(lf.events[0].leave_type == LeaveType::security);
  CHECK(lf.events[0].effective_date == "2026-12-01");
  CHECK(lf.events[0].fields.count("leave_type") == 0);
}

TEST_CASE("CSV problems") {
  struct Case {
    const char* csv;
    const char* expected;
  };
  const Case cases[] = {
      {"type,first_name\nhire,A\n", "line 1: header: missing required column(s): employee_id, event_id"},
      {"event_id,type,employee_id,x,x\n", "field 'x': header: column appears twice"},
      {"event_id,type,employee_id\ne,terminate\n", "record 1 (line 2): has 2 fields, the header has 3"},
      {"event_id,type,employee_id\ne,terminate,\"E\n", "line 2: unterminated quoted field (it starts on line 2)"},
      {"event_id,type,employee_id\ne,terminate,\"E\"x\n", "line 2: unexpected character after a closing quote"},
      {"event_id,type,employee_id\ne,termi\"nate,E\n", "line 2: a quote inside an unquoted field"},
      {"event_id,type,employee_id\ne,hire,E\n", "record 1 (line 2): field 'email': is required for hire"},
      {"event_id,type,employee_id\ne,fire,E\n\ne,terminate,\n", "record 2 (line 4): field 'employee_id': is required"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.csv);
    auto f = parse_event_file(FileFormat::csv, c.csv);
    CHECK(f.events.empty());
    CHECK_MESSAGE(all_problems(f).find(c.expected) != std::string::npos, all_problems(f));
  }
}

TEST_CASE("the example files in config/examples parse clean") {
  for (const char* name : {"01-hires.json", "02-hires.csv", "03-updates.ndjson"}) {
    CAPTURE(name);
    const std::string content = hr_test::file_text(std::string(test::source_dir()) + "/config/examples/" + name);
    REQUIRE_FALSE(content.empty());
    auto format = format_for_name(name);
    REQUIRE(format);
    auto f = parse_event_file(*format, content);
    CHECK_MESSAGE(f.problems.empty(), all_problems(f));
    CHECK(f.events.size() >= 2);
  }
  auto csv = parse_event_file(FileFormat::csv, hr_test::file_text(std::string(test::source_dir()) + "/config/examples/02-hires.csv"));
  REQUIRE(csv.events.size() == 2);
  CHECK(csv.events[0].fields.at("location") == "Paris, France");
}

// Issue 28: every format reads effective dates as the inbox's date settings say, and stores them as ISO.
TEST_CASE("readers: effective dates as spreadsheets write them, read by the inbox's date settings") {
  const DateReading mdy{DateOrder::mdy, true};
  auto csv = parse_event_file(FileFormat::csv,
                              "event_id,type,effective_date,employee_id\ne1,terminate,3/1/2026,E1\n"
                              "e2,terminate,46082,E2\ne3,terminate,2026-03-02,E3\n",
                              mdy);
  REQUIRE_MESSAGE(csv.problems.empty(), all_problems(csv));
  REQUIRE(csv.events.size() == 3);
  CHECK(csv.events[0].effective_date == "2026-03-01");
  CHECK(csv.events[1].effective_date == "2026-03-01");
  CHECK(csv.events[2].effective_date == "2026-03-02");
  auto json = parse_event_file(FileFormat::json,
                               R"({"event_id":"e","type":"terminate","effective_date":"1.3.2026","employee":{"employee_id":"E"}})",
                               DateReading{DateOrder::dmy, false});
  REQUIRE_MESSAGE(json.problems.empty(), all_problems(json));
  CHECK(json.events[0].effective_date == "2026-03-01");
  auto ndjson = parse_event_file(FileFormat::ndjson,
                                 R"({"event_id":"e","type":"terminate","effective_date":"3/1/2026","employee":{"employee_id":"E"}})",
                                 mdy);
  REQUIRE_MESSAGE(ndjson.problems.empty(), all_problems(ndjson));
  CHECK(ndjson.events[0].effective_date == "2026-03-01");

  // The year range is checked on the date it was read as; the default reads ISO only, with a hint.
  auto far = parse_event_file(FileFormat::csv, "event_id,type,effective_date,employee_id\ne1,terminate,2958465,E1\n", mdy);
  CHECK(all_problems(far) == "record 1 (line 2): field 'effective_date': '2958465' (read as 9999-12-31) is after "
                             "2199-12-31, the latest date h2r accepts\n");
  auto plain = parse_event_file(FileFormat::csv, "event_id,type,effective_date,employee_id\ne1,terminate,3/1/2026,E1\n");
  CHECK(all_problems(plain) == "record 1 (line 2): field 'effective_date': '3/1/2026' is not an ISO date (YYYY-MM-DD); "
                               "if your HR system writes month/day/year, set inbox.date_order: MDY in h2rd.yaml "
                               "(day/month/year: DMY)\n");
}

// CSV as spreadsheets write it (issue 17): Excel's trailing empty column, empty rows, ';' and tab
// separators, header names spelled differently, UTF-16 with a byte-order mark, and Windows-1252.
#include "hr/csv_header.hpp"
#include "hr/encoding.hpp"
#include "hr/readers.hpp"
#include "hr/text_checks.hpp"

#include "core/text.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <iterator>
#include <string>

using namespace h2r;

namespace {

std::string all_problems(const ParsedFile& f) {
  std::string out;
  for (const auto& p : f.problems) out += p.to_string() + "\n";
  return out;
}

std::string all_notes(const ParsedFile& f) {
  std::string out;
  for (const auto& n : f.notes) out += n + "\n";
  return out;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// `ascii_or_latin1` (each byte one code point, U+0000–U+00FF, plus `extra` units) as UTF-16 with a BOM.
std::string utf16(const std::string& latin1, bool little_endian, const std::u16string& extra = {}) {
  std::string out = little_endian ? "\xFF\xFE" : "\xFE\xFF";
  auto put = [&](char16_t u) {
    const char hi = static_cast<char>(u >> 8), lo = static_cast<char>(u & 0xFF);
    out += little_endian ? lo : hi;
    out += little_endian ? hi : lo;
  };
  for (char ch : latin1) put(static_cast<unsigned char>(ch));
  for (char16_t u : extra) put(u);
  return out;
}

} // namespace

TEST_CASE("Excel CSV: a trailing empty header column and its empty cells are ignored") {
  auto f = parse_event_file(FileFormat::csv, "event_id,type,employee_id,email,\r\n"
                                             "e1,hire,E1,a@example.com,\r\n"
                                             "e2,terminate,E2,,\r\n");
  REQUIRE_MESSAGE(f.problems.empty(), all_problems(f));
  REQUIRE(f.events.size() == 2);
  CHECK(f.events[0].fields.at("email") == "a@example.com");
  CHECK(f.events[0].fields.count("") == 0);
  CHECK(has(all_notes(f), "1 empty column(s) at the end of the header ignored"));

  // A value under a column without a name is still a problem: it would be lost.
  auto g = parse_event_file(FileFormat::csv, "event_id,type,employee_id,,\ne1,terminate,E1,,oops\n");
  CHECK(has(all_problems(g), "record 1 (line 2): has 5 fields, the header has 3 (a value stands in a column without a name)"));
  // An empty name between named columns is still a problem.
  auto h = parse_event_file(FileFormat::csv, "event_id,,type,employee_id\ne1,,terminate,E1\n");
  CHECK(has(all_problems(h), "line 1: header: column 2 name '' is not 1 to 100 bytes"));
}

TEST_CASE("Excel CSV: empty rows are skipped, before and after the header") {
  auto f = parse_event_file(FileFormat::csv, ",,,\n"
                                             "event_id,type,employee_id,email\n"
                                             ",,,\n"
                                             "e1,hire,E1,a@example.com\n"
                                             " , ,\t,\n"
                                             "\"\",,,\n"
                                             "e2,terminate,E2,\n"
                                             ",,\n");
  REQUIRE_MESSAGE(f.problems.empty(), all_problems(f));
  REQUIRE(f.events.size() == 2);
  CHECK(f.events[0].record == 1);
  CHECK(f.events[0].line == 4);
  CHECK(f.events[1].record == 2);
  CHECK(f.events[1].line == 7);
  CHECK(has(all_notes(f), "4 empty row(s) skipped"));

  // Records are counted without the empty rows: the problem names record 2 on line 5.
  auto g = parse_event_file(FileFormat::csv, "event_id,type,employee_id\n,,\ne1,terminate,E1\n,,\ne2,fire,E2\n");
  CHECK(has(all_problems(g), "record 2 (line 5): field 'type': unknown event type 'fire'"));
}

TEST_CASE("Excel CSV: the separator is sniffed from the header") {
  // European Excel: ';' with commas inside values.
  auto semi = parse_event_file(FileFormat::csv, "event_id;type;employee_id;email;location;\r\n"
                                                "e1;hire;E1;a@example.com;Paris, France;\r\n");
  REQUIRE_MESSAGE(semi.problems.empty(), all_problems(semi));
  REQUIRE(semi.events.size() == 1);
  CHECK(semi.events[0].fields.at("location") == "Paris, France");
  CHECK(has(all_notes(semi), "columns separated by ';'"));

  // Tab ("Unicode Text"), a quoted header name holding a comma.
  auto tab = parse_event_file(FileFormat::csv, "event_id\ttype\temployee_id\t\"Team, Sub\"\n"
                                               "e1\tterminate\tE1\t\"a;b\"\n");
  REQUIRE_MESSAGE(tab.problems.empty(), all_problems(tab));
  CHECK(tab.events[0].fields.at("Team, Sub") == "a;b");
  CHECK(has(all_notes(tab), "columns separated by tab"));

  // Commas win when the header is comma-separated even if values hold ';'.
  auto comma = parse_event_file(FileFormat::csv, "event_id,type,employee_id,note\ne1,terminate,E1,a;b;c;d\n");
  REQUIRE_MESSAGE(comma.problems.empty(), all_problems(comma));
  CHECK(comma.events[0].fields.at("note") == "a;b;c;d");
  CHECK(all_notes(comma).empty());

  // No separator fits: one clear message.
  auto none = parse_event_file(FileFormat::csv, "event_id|type|employee_id\ne1|terminate|E1\n");
  CHECK(all_problems(none) == "line 1: header: no employee_id, event_id and type columns with ',', ';' or tab "
                              "as the separator (the header reads 'event_id|type|employee_id')\n");
  CHECK(has(all_problems(parse_event_file(FileFormat::csv, "employee_id\nE1\n")),
            "line 1: header: missing required column(s): event_id, type"));
  CHECK(hr_detail::sniff_csv_delimiter("a;b;c\n") == ';');
  CHECK(hr_detail::sniff_csv_delimiter("\"x;y\",b\n") == ',');
}

TEST_CASE("Excel CSV: header names match ignoring case, spaces, hyphens and underscores") {
  auto f = parse_event_file(FileFormat::csv, " Event ID ,TYPE,Employee_ID,E-Mail,First Name,EmployeeType,Badge Color\n"
                                             "e1,hire,E1,a@example.com,José,x,blue\n");
  REQUIRE_MESSAGE(f.problems.empty(), all_problems(f));
  REQUIRE(f.events.size() == 1);
  CHECK(f.events[0].event_id == "e1");
  CHECK(f.events[0].employee_id == "E1");
  CHECK(f.events[0].fields.at("email") == "a@example.com");
  CHECK(f.events[0].fields.at("first_name") == "José");
  CHECK(f.events[0].fields.at("Badge Color") == "blue"); // a column of the file's own keeps its name
  CHECK(f.events[0].fields.at("EmployeeType") == "x");
  const std::string notes = all_notes(f);
  CHECK(notes == "header names read as: 'Event ID' → 'event_id', 'TYPE' → 'type', 'Employee_ID' → 'employee_id', "
                 "'E-Mail' → 'email', 'First Name' → 'first_name'\n");
  CHECK_FALSE(has(notes, "Badge Color"));

  auto id = parse_event_file(FileFormat::csv, "EmployeeID,EventID,Type\nE1,e1,terminate\n");
  REQUIRE_MESSAGE(id.problems.empty(), all_problems(id));
  CHECK(id.events[0].employee_id == "E1");

  // Two spellings of one field are a problem, not a silent pick.
  auto twice = parse_event_file(FileFormat::csv, "event_id,type,employee_id,Employee ID\ne1,terminate,E1,E2\n");
  CHECK(has(all_problems(twice), "field 'employee_id': header: column 'Employee ID' names this field again"));
}

TEST_CASE("Excel CSV: a missing required column names its near match") {
  auto f = parse_event_file(FileFormat::csv, "Employe ID,event_id,Event Type,name\nE1,e1,terminate,x\n");
  CHECK(all_problems(f) == "line 1: header: missing required column(s): employee_id (did you mean 'Employe ID'?), "
                           "type (did you mean 'Event Type'?) (columns separated by ',')\n");
  // Nothing near: no guess.
  auto g = parse_event_file(FileFormat::csv, "worker,event_id,type\nE1,e1,terminate\n");
  CHECK(all_problems(g) == "line 1: header: missing required column(s): employee_id (columns separated by ',')\n");
  CHECK(h2r::edit_distance("kitten", "sitting") == 3);
  CHECK(h2r::edit_distance("", "abc") == 3);
  CHECK(hr_detail::normalize_column_name("  Employee -- ID\t") == "employee_id");
}

TEST_CASE("UTF-16 with a byte-order mark is decoded, little- and big-endian") {
  const std::string text = "event_id\ttype\temployee_id\temail\tfirst_name\r\n"
                           "e1\thire\tE1\ta@example.com\tJos\xE9";
  for (bool le : {true, false}) {
    CAPTURE(le);
    auto f = parse_event_file(FileFormat::csv, utf16(text, le, {0xD83D, 0xDE00, u'\r', u'\n'})); // 😀
    REQUIRE_MESSAGE(f.problems.empty(), all_problems(f));
    REQUIRE(f.events.size() == 1);
    CHECK(f.events[0].fields.at("first_name") == "José\xF0\x9F\x98\x80");
    CHECK(has(all_notes(f), "read as UTF-16"));
  }
  // NDJSON in UTF-16 too.
  auto j = parse_event_file(FileFormat::ndjson,
                            utf16(R"({"event_id":"e1","type":"terminate","employee":{"employee_id":"E1"}})", true));
  REQUIRE_MESSAGE(j.problems.empty(), all_problems(j));

  // Broken UTF-16: an unpaired surrogate, half a character at the end.
  auto lone = parse_event_file(FileFormat::csv, utf16("a\nb", true, {0xDC00}));
  CHECK(all_problems(lone) == "line 2: this file is UTF-16LE and has a broken character at byte 9; save as CSV "
                              "UTF-8 (Excel: \"CSV UTF-8 (Comma delimited)\")\n");
  auto odd = parse_event_file(FileFormat::csv, utf16("event_id", false) + "x");
  CHECK(has(all_problems(odd), "this file is UTF-16BE but ends in half a character (19 bytes); save as CSV UTF-8"));
  // Only a byte-order mark: as empty as an empty file.
  CHECK(has(all_problems(parse_event_file(FileFormat::json, "\xFF\xFE")), "file is empty"));

  // UTF-16 without a byte-order mark: said so, not "NUL byte".
  std::string no_bom = utf16("event_id,type,employee_id\n", true).substr(2);
  CHECK(has(all_problems(parse_event_file(FileFormat::csv, no_bom)), "UTF-16 without a byte-order mark; save as CSV UTF-8"));
  CHECK(has(all_problems(parse_event_file(FileFormat::json, no_bom)), "UTF-16 without a byte-order mark; save it as UTF-8"));
  CHECK(has(all_problems(parse_event_file(FileFormat::csv, std::string("a,b\0c", 5))), "contains a NUL byte"));
}

TEST_CASE("Windows-1252 CSV is rejected naming the row, column and value") {
  auto f = parse_event_file(FileFormat::csv, "event_id,type,employee_id,email,first_name\n"
                                             "e1,hire,E1,a@example.com,Ann\n"
                                             "e2,hire,E2,j@example.com,Jos\xE9\n");
  CHECK(all_problems(f) == "record 2 (line 3): field 'first_name': invalid UTF-8 in 'Jos\\xE9' (byte 101); this "
                           "looks like Windows-1252; save as CSV UTF-8 (Excel: \"CSV UTF-8 (Comma delimited)\")\n");
  CHECK(f.events.empty());

  // In the header; in a ';' file after empty rows; in a column without a name.
  CHECK(has(all_problems(parse_event_file(FileFormat::csv, "event_id,type,employee_id,Pr\xE9nom\n")),
            "line 1: header: invalid UTF-8 in column name 'Pr\\xE9nom' (byte 29)"));
  CHECK(has(all_problems(parse_event_file(FileFormat::csv, "event_id;type;employee_id;city\n;;;\ne1;terminate;E1;K\xF6ln\n")),
            "record 1 (line 3): field 'city': invalid UTF-8 in 'K\\xF6ln'"));
  CHECK(has(all_problems(parse_event_file(FileFormat::csv, "event_id,type,employee_id,\ne1,terminate,E1,\x80\n")),
            "record 1 (line 2): column 4: invalid UTF-8 in '\\x80'"));

  // A long value shows the part around the bad byte.
  const std::string long_value = std::string(60, 'a') + "\xE9" + std::string(60, 'b');
  auto l = parse_event_file(FileFormat::csv, "event_id,type,employee_id,note\ne1,terminate,E1," + long_value + "\n");
  CHECK(has(all_problems(l), "field 'note': invalid UTF-8 in '\xE2\x80\xA6" + std::string(20, 'a') + "\\xE9" +
                                 std::string(19, 'b') + "\xE2\x80\xA6'"));

  // UTF-8 elsewhere in the file: damage, not a code page.
  auto mixed = parse_event_file(FileFormat::csv, "event_id,type,employee_id,name\ne1,terminate,E1,Zoë \xE9\n");
  CHECK(has(all_problems(mixed), "invalid UTF-8 in 'Zoë \\xE9' (byte 53); the file must be UTF-8\n"));
}

TEST_CASE("invalid UTF-8 in JSON and NDJSON names the line and shows it") {
  auto n = parse_event_file(FileFormat::ndjson, std::string(R"({"event_id":"e1","type":"terminate","employee":{"employee_id":"E1"}})") +
                                                    "\n" + R"({"event_id":"e2","employee":{"name":"Jos)" + "\xE9" + "\"}}\r\n");
  CHECK(all_problems(n) == std::string(R"(line 2: invalid UTF-8 in '…ployee\":{\"name\":\"Jos\xE9\"}}' (byte 110); )") +
                               "this looks like Windows-1252; the file must be UTF-8\n");
  // A JSON array file: the line of the bad byte.
  auto j = parse_event_file(FileFormat::json, "[\n{\"event_id\":\"e\xE9\"}\n]");
  CHECK(all_problems(j) == "line 2: invalid UTF-8 in '{\\\"event_id\\\":\\\"e\\xE9\\\"}' (byte 17); this looks like "
                           "Windows-1252; the file must be UTF-8\n");
  CHECK(hr_detail::excerpt_around("a\xE9\xC3\xA9z\"", 1) == "'a\\xE9éz\\\"'");
}

TEST_CASE("CSV reader on random spreadsheet-like bytes: never throws, every report is valid UTF-8") {
  // Separators, quotes, line breaks, Windows-1252 and UTF-8 pieces, UTF-16 byte-order marks and
  // surrogate halves: the bytes the sniffing, decoding and locating code branch on.
  const std::string alphabet[] = {",", ";", "\t", "\"", "\r", "\n", " ", "event_id", "type", "employee_id", "Employee ID",
                                  "e1", "terminate", "E1", "\xE9", "\xC3", "\xC3\xA9", std::string(1, '\0'),
                                  "\xFF\xFE", "\xFE\xFF", "\xD8", "\xDC"};
  std::uint32_t state = 12345; // fixed seed: the same inputs every run
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  for (int i = 0; i < 3000; ++i) {
    std::string input;
    const std::size_t pieces = next() % 24;
    for (std::size_t p = 0; p < pieces; ++p) input += alphabet[next() % std::size(alphabet)];
    CAPTURE(input);
    ParsedFile f;
    REQUIRE_NOTHROW(f = parse_event_file(FileFormat::csv, input));
    CHECK((f.problems.empty() || f.events.empty())); // a rejected file has no events
    for (const auto& p : f.problems) CHECK_FALSE(hr_detail::find_invalid_utf8(p.to_string()));
    for (const auto& n : f.notes) CHECK_FALSE(hr_detail::find_invalid_utf8(n));
  }
}

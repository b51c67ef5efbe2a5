// Issue 17 item 4 end to end: CSV files as Excel saves them go through the real inbox (`h2rd run
// --once`) and `h2rd plan`: each is accepted, or rejected with the promised message in NAME.error.txt.
#include "support/h2r_env.hpp"
#include "support/file_text.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace h2r::test;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const std::string k_header = "event_id,type,employee_id,first_name,last_name,email,department,employment_type";

// One hire row of k_header's columns, separated by `sep`.
std::string hire_row(const std::string& event_id, const std::string& id, const std::string& first,
                     const std::string& last, char sep = ',') {
  std::string row = event_id + sep + "hire" + sep + id + sep + first + sep + last + sep + "x" + id + "@example.com" +
                    sep + "Engineering" + sep + "full_time";
  return row;
}

// Latin-1 text (every byte one code point) as UTF-16LE with a byte-order mark: Excel's "Unicode Text".
std::string utf16le(const std::string& latin1) {
  std::string out = "\xFF\xFE";
  for (char ch : latin1) {
    out += ch;
    out += '\0';
  }
  return out;
}

} // namespace

TEST_CASE("e2e spreadsheet CSV: Excel's variants are accepted or rejected with the promised message") {
  H2rEnv env;
  // Accepted: a trailing empty header column, empty rows, ';' separators, UTF-16LE with a BOM and tabs,
  // header names as people type them.
  env.drop("trailing.csv", k_header + ",\r\n" + hire_row("x-1", "E1", "Tra", "Iling") + ",\r\n");
  env.drop("empty-rows.csv", k_header + "\r\n,,,,,,,\r\n" + hire_row("x-2", "E2", "Emp", "Ty") + "\r\n,,,,,,,\r\n");
  std::string semi_header = k_header;
  std::replace(semi_header.begin(), semi_header.end(), ',', ';');
  env.drop("semicolons.csv", semi_header + ";\r\n" + hire_row("x-3", "E3", "Semi", "Colon", ';') + ";\r\n");
  std::string tab_header = k_header;
  std::replace(tab_header.begin(), tab_header.end(), ',', '\t');
  env.drop("unicode.csv", utf16le(tab_header + "\r\n" + hire_row("x-4", "E4", "Jos\xE9", "Uni", '\t') + "\r\n"));
  env.drop("names.csv", "Event_ID,Type,Employee_ID,First Name,Last-Name,E-mail,Department,Employment Type\r\n" +
                            hire_row("x-5", "E5", "Head", "Er") + "\r\n");
  // Rejected: Windows-1252 ("CSV (Comma delimited)"), a header name one letter off.
  env.drop("cp1252.csv", k_header + "\r\n" + hire_row("x-6", "E6", "Jos\xE9", "Win") + "\r\n");
  env.drop("near.csv", "event_id,type,EmployeID,email\r\nx-7,terminate,E7,\r\n");

  auto run = env.run_once();
  INFO(run.err);
  CHECK(run.exit_code == 0);
  for (const char* name : {"trailing.csv", "empty-rows.csv", "semicolons.csv", "unicode.csv", "names.csv"}) {
    CAPTURE(name);
    CHECK(std::filesystem::exists(env.inbox() + "/processed/" + name));
  }
  for (const char* id : {"xE1", "xE2", "xE3", "xE4", "xE5"}) {
    CAPTURE(id);
    CHECK(env.sim_users_named(std::string(id) + "@example.com").size() == 1);
  }
  auto jose = env.sim_users_named("xE4@example.com");
  REQUIRE(jose.size() == 1);
  CHECK(jose[0]["name"]["givenName"] == "José"); // decoded from UTF-16, stored and sent as UTF-8
  CHECK(has(run.err, "inbox.note file=\"semicolons.csv\" note=\"columns separated by ';'\""));
  CHECK(has(run.err, "inbox.note file=\"names.csv\" note=\"header names read as: 'Event_ID' → 'event_id', "
                     "'Type' → 'type', 'Employee_ID' → 'employee_id'"));

  const std::string cp1252 = file_text(env.inbox() + "/rejected/cp1252.csv.error.txt");
  CHECK(has(cp1252, "record 1 (line 2): field 'first_name': invalid UTF-8 in 'Jos\\xE9' (byte "));
  CHECK(has(cp1252, "this looks like Windows-1252; save as CSV UTF-8"));
  const std::string near = file_text(env.inbox() + "/rejected/near.csv.error.txt");
  CHECK(has(near, "line 1: header: missing required column(s): employee_id (did you mean 'EmployeID'?)"));

  // `plan` reads the same files the same way (the notes on stderr), and refuses the same ones.
  const std::string semi_plan = env.dir().write("plan/semi.csv", semi_header + ";\r\n;;;;;;;;\r\n" +
                                                                     hire_row("p-1", "E8", "Pl", "An", ';') + ";\r\n").string();
  auto plan = env.h2rd({"plan", semi_plan});
  INFO(plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(has(plan.out, "POST /Users"));
  CHECK(has(plan.err, "semi.csv: note: columns separated by ';'"));
  CHECK(has(plan.err, "semi.csv: note: 1 empty row(s) skipped"));
  const std::string bad_plan = env.dir().write("plan/win.csv", k_header + "\n" + hire_row("p-2", "E9", "Ren\xE9", "E") + "\n").string();
  auto refused = env.h2rd({"plan", bad_plan});
  CHECK(refused.exit_code == 1);
  CHECK(has(refused.err, "win.csv: record 1 (line 2): field 'first_name': invalid UTF-8 in 'Ren\\xE9'"));
}

// Dates as spreadsheets write them (issue 28): M/D/YYYY and D/M/YYYY read by inbox.date_order with a
// calendar check, Excel's serials by inbox.excel_serial_dates, and without either a hint naming the key.
#include "core/spreadsheet_dates.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace h2r;

namespace {

const DateReading k_iso{};
const DateReading k_mdy{DateOrder::mdy, false};
const DateReading k_dmy{DateOrder::dmy, false};
const DateReading k_serials{DateOrder::iso, true};

std::string read_ok(std::string_view text, const DateReading& reading) {
  auto iso = read_effective_date(text, reading);
  REQUIRE_MESSAGE(iso, (iso ? "" : iso.error()));
  return *iso;
}

std::string refusal(std::string_view text, const DateReading& reading) {
  auto iso = read_effective_date(text, reading);
  REQUIRE_MESSAGE(!iso, (iso ? *iso : ""));
  return iso.error();
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

} // namespace

TEST_CASE("spreadsheet dates: MDY and DMY read every separator and width as the ISO date") {
  CHECK(read_ok("3/1/2026", k_mdy) == "2026-03-01");
  CHECK(read_ok("03/01/2026", k_mdy) == "2026-03-01");
  CHECK(read_ok("12/31/2026", k_mdy) == "2026-12-31");
  CHECK(read_ok("3.1.2026", k_mdy) == "2026-03-01");
  CHECK(read_ok("3-1-2026", k_mdy) == "2026-03-01");
  CHECK(read_ok("3/1/2026", k_dmy) == "2026-01-03");
  CHECK(read_ok("1.3.2026", k_dmy) == "2026-03-01");
  CHECK(read_ok("31-12-2026", k_dmy) == "2026-12-31");
  // ISO dates and date-times are read as before whatever the order.
  CHECK(read_ok("2026-03-01", k_mdy) == "2026-03-01");
  CHECK(read_ok("2026-03-01T09:00:00-05:00", k_dmy) == "2026-03-01T09:00:00-05:00");
  CHECK(read_ok("2026-03-01", k_iso) == "2026-03-01");
}

TEST_CASE("spreadsheet dates: leap years and impossible days follow the calendar") {
  CHECK(read_ok("2/29/2028", k_mdy) == "2028-02-29");
  CHECK(read_ok("29.2.2000", k_dmy) == "2000-02-29");        // divisible by 400: leap
  CHECK(has(refusal("2/29/2026", k_mdy), "month 2 of 2026 has no day 29"));
  CHECK(has(refusal("29/2/2100", k_dmy), "month 2 of 2100 has no day 29")); // divisible by 100: not leap
  CHECK(has(refusal("2/30/2028", k_mdy), "month 2 of 2028 has no day 30"));
  CHECK(has(refusal("4/31/2026", k_mdy), "month 4 of 2026 has no day 31"));
  CHECK(has(refusal("0/10/2026", k_mdy), "there is no month 0"));
  CHECK(has(refusal("3/0/2026", k_mdy), "has no day 0"));
  const std::string thirteen = refusal("13/1/2026", k_mdy);
  CHECK(has(thirteen, "is not a date in month/day/year order (inbox.date_order: MDY): there is no month 13"));
  CHECK(has(refusal("1/13/2026", k_dmy), "day/month/year order (inbox.date_order: DMY): there is no month 13"));
}

TEST_CASE("spreadsheet dates: 2-digit years, mixed separators and times of day are refused, saying why") {
  const std::string two = refusal("3/1/26", k_mdy);
  CHECK(has(two, "a 2-digit year could be 1926 or 2026; write the year with 4 digits"));
  CHECK(has(two, "M/D/YYYY"));
  CHECK(has(refusal("1.3.26", k_dmy), "D/M/YYYY"));
  CHECK(has(refusal("3/1/20260", k_mdy), "the year must have 4 digits"));
  CHECK(has(refusal("3/1-2026", k_mdy), "or a date in month/day/year order (3/1/2026)"));
  CHECK(has(refusal("March 1, 2026", k_dmy), "or a date in day/month/year order (1/3/2026)"));
  CHECK(has(refusal("3/1/2026 14:30", k_mdy), "has a time of day"));
  CHECK(has(refusal("3/1/2026 14:30", k_mdy), "2026-03-01T14:30:00-05:00"));
  CHECK(has(refusal("3/1/2026x", k_mdy), "text after the year"));
}

TEST_CASE("spreadsheet dates: without date_order a spreadsheet's date is refused with a hint naming the key") {
  const std::string us = refusal("3/1/2026", k_iso);
  CHECK(us == "is not an ISO date (YYYY-MM-DD); if your HR system writes month/day/year, set "
              "inbox.date_order: MDY in h2rd.yaml (day/month/year: DMY)");
  CHECK(has(refusal("13/1/2026", k_iso), "it reads as day/month/year: set inbox.date_order: DMY in h2rd.yaml"));
  CHECK(has(refusal("1/13/2026", k_iso), "it reads as month/day/year: set inbox.date_order: MDY in h2rd.yaml"));
  CHECK(has(refusal("46082", k_iso), "looks like an Excel serial date: set inbox.excel_serial_dates: true"));
  CHECK(refusal("tomorrow", k_iso) == "is not an ISO date (2026-12-01) or date-time with offset (2026-12-01T09:00:00Z)");
  // MDY does not read serials, nor serials M/D/YYYY.
  CHECK(has(refusal("46082", k_mdy), "inbox.excel_serial_dates"));
  CHECK(has(refusal("3/1/2026", k_serials), "inbox.date_order: MDY"));
}

TEST_CASE("spreadsheet dates: Excel serials in the 1900 date system, around its fake 1900-02-29") {
  CHECK(read_ok("46082", k_serials) == "2026-03-01");
  CHECK(read_ok("1", k_serials) == "1900-01-01");
  CHECK(read_ok("59", k_serials) == "1900-02-28");
  CHECK(has(refusal("60", k_serials), "Excel's 1900-02-29, a day that never was"));
  CHECK(read_ok("61", k_serials) == "1900-03-01");
  CHECK(read_ok("36526", k_serials) == "2000-01-01");
  CHECK(read_ok("109574", k_serials) == "2199-12-31");
  CHECK(read_ok("2958465", k_serials) == "9999-12-31"); // the caller's year range refuses it (core/time.hpp)
  CHECK(read_ok("46082.0", k_serials) == "2026-03-01");
  const std::string out_of_range = "is not an Excel serial date (a whole number 1..2958465, 1900-01-01..9999-12-31)";
  CHECK(refusal("0", k_serials) == out_of_range);
  CHECK(refusal("2958466", k_serials) == out_of_range);
  CHECK(refusal("99999999999999999999", k_serials) == out_of_range);
  const std::string fraction = refusal("46082.5", k_serials);
  CHECK(has(fraction, "is an Excel date and time (46082 the day, .5 a fraction of it, the time of day)"));
  CHECK(has(fraction, "format the column as a date"));
  CHECK(has(refusal("46082.333333333333333333", k_serials), "(46082 the day, .333333… a fraction of it"));
  CHECK(refusal("0.5", k_serials) == out_of_range);
  CHECK(refusal(std::string(100'000, '9') + ".5", k_serials) == out_of_range); // nothing of it echoed
  CHECK(refusal("-5", k_serials) == "is not an ISO date (2026-12-01) or date-time with offset (2026-12-01T09:00:00Z)");
}

TEST_CASE("spreadsheet dates: date_order words") {
  CHECK(parse_date_order("MDY") == DateOrder::mdy);
  CHECK(parse_date_order("dmy") == DateOrder::dmy);
  CHECK(parse_date_order("Iso") == DateOrder::iso);
  CHECK_FALSE(parse_date_order("YMD"));
  CHECK_FALSE(parse_date_order(""));
  CHECK(to_string(DateOrder::mdy) == "MDY");
}

// Effective dates: date-only means local midnight in the configured zone, across DST edges.
#include "core/time.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

using namespace h2r;

namespace {

std::string utc(std::string_view text, std::string_view zone) {
  auto t = parse_effective_date(text, zone);
  REQUIRE_MESSAGE(t, (t ? "" : t.error().message));
  return format_utc(*t);
}

} // namespace

TEST_CASE("parse_effective_date: a date is the start of that day in the time zone, DST included") {
  struct Case {
    const char* text;
    const char* zone;
    const char* expected_utc;
  };
  const std::vector<Case> cases = {
      {"2026-12-01", "UTC", "2026-12-01T00:00:00Z"},
      {"2026-12-01", "America/New_York", "2026-12-01T05:00:00Z"},   // EST
      {"2026-07-01", "America/New_York", "2026-07-01T04:00:00Z"},   // EDT
      // Spring forward on 2026-03-08 at 02:00: that day still starts at EST midnight, the next in EDT.
      {"2026-03-08", "America/New_York", "2026-03-08T05:00:00Z"},
      {"2026-03-09", "America/New_York", "2026-03-09T04:00:00Z"},
      // Fall back on 2026-11-01 at 02:00: that day starts at EDT midnight, the next in EST.
      {"2026-11-01", "America/New_York", "2026-11-01T04:00:00Z"},
      {"2026-11-02", "America/New_York", "2026-11-02T05:00:00Z"},
      // Midnight that does not exist (Sao Paulo sprang forward at 00:00 on 2018-11-04): 01:00 local.
      {"2018-11-04", "America/Sao_Paulo", "2018-11-04T03:00:00Z"},
      {"2026-12-01", "Asia/Kolkata", "2026-11-30T18:30:00Z"},
      // Date-times carry their own offset; the zone does not matter.
      {"2026-12-01T09:30:00Z", "America/New_York", "2026-12-01T09:30:00Z"},
      {"2026-12-01T09:30:00-05:00", "UTC", "2026-12-01T14:30:00Z"},
      {"2026-12-01T09:30:00.250+0100", "UTC", "2026-12-01T08:30:00Z"},
      {"2026-12-01T09:30:00+05:45", "UTC", "2026-12-01T03:45:00Z"},   // Nepal: the largest minutes in use
      {"2026-12-01T09:30:00-0959", "UTC", "2026-12-01T19:29:00Z"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    CAPTURE(c.zone);
    CHECK(utc(c.text, c.zone) == c.expected_utc);
  }
}

TEST_CASE("parse_effective_date: bad text and unknown zones are clear errors") {
  for (const char* bad : {"2026-13-01", "2026-02-30", "01/12/2026", "2026-12-01T25:00:00Z", "2026-12-01T09:00:00",
                          "tomorrow", "",
                          // An offset's minutes are 00..59: not read as an hour and more (+05:99 as +06:39).
                          "2027-01-10T09:00:00+05:99", "2027-01-10T09:00:00+0599", "2027-01-10T09:00:00-05:60",
                          "2027-01-10T09:00:00+5:30", "2027-01-10T09:00:00+05:3a"}) {
    CAPTURE(bad);
    auto t = parse_effective_date(bad, "UTC");
    REQUIRE_FALSE(t);
    CHECK(t.error().kind == ErrorKind::invalid);
    CHECK_FALSE(is_valid_effective_date(bad));
  }
  auto t = parse_effective_date("2026-12-01", "Mars/Olympus");
  REQUIRE_FALSE(t);
  CHECK(t.error().message.find("Mars/Olympus") != std::string::npos);
  CHECK(is_valid_time_zone("America/New_York"));
  CHECK_FALSE(is_valid_time_zone("Mars/Olympus"));
}

TEST_CASE("minus_days_in_zone: lead days land on local midnights across DST") {
  auto from = [](const char* date, const char* zone, int days) {
    auto t = parse_effective_date(date, zone);
    REQUIRE(t);
    return format_utc(minus_days_in_zone(*t, days, zone));
  };
  CHECK(from("2026-03-10", "America/New_York", 2) == "2026-03-08T05:00:00Z");   // back into EST
  CHECK(from("2026-11-03", "America/New_York", 2) == "2026-11-01T04:00:00Z");   // back into EDT
  CHECK(from("2026-12-01", "America/New_York", 0) == "2026-12-01T05:00:00Z");
  CHECK(from("2026-03-01", "UTC", 1) == "2026-02-28T00:00:00Z");
}

TEST_CASE("time_zone_rules_version: the release named by the system's tzdata.zi, else unknown") {
  CHECK(tzdata_version_of("# version 2025b") == "2025b");
  CHECK(tzdata_version_of("# version 2024a.1") == "2024a.1");
  for (const char* odd : {"", "# version ", "# Version 2025b", "version 2025b", "# version 2025b extra",
                          "# version 2025B", "# version 20250000000000000000b"}) {
    CAPTURE(odd);
    CHECK(tzdata_version_of(odd) == "unknown");
  }
  // This machine's, read once; Debian's tzdata package ships tzdata.zi (scripts/deps installs it).
  std::ifstream zi("/usr/share/zoneinfo/tzdata.zi");
  std::string first;
  std::getline(zi, first);
  CHECK(time_zone_rules_version() == tzdata_version_of(first));
  CHECK(time_zone_rules_version() != "unknown");
}

TEST_CASE("zone_rules_end: the last listed change of a zone that keeps changing, none for one that does not") {
  CHECK(tzif_footer_has_rule("TZif2...\nEST5EDT,M3.2.0,M11.1.0\n"));
  CHECK(tzif_footer_has_rule("TZif2...\n<+1030>-10:30<+11>-11,M10.1.0,M4.1.0\n"));
  CHECK_FALSE(tzif_footer_has_rule("TZif2...\nIST-5:30\n"));
  CHECK_FALSE(tzif_footer_has_rule("TZif2...\n\n"));
  CHECK_FALSE(tzif_footer_has_rule("TZif2...EST5EDT,M3.2.0,M11.1.0"));   // no footer line
  CHECK_FALSE(tzif_footer_has_rule(""));

  // Debian 12's zoneinfo ("fat") lists every change up to 2037.
  for (const char* zone : {"Australia/Sydney", "America/New_York", "Europe/London"}) {
    CAPTURE(zone);
    const auto end = zone_rules_end(zone);
    REQUIRE(end);
    CHECK(format_utc(*end).substr(0, 4) == "2037");
    CHECK(check_zone_rules_cover(*end - std::chrono::seconds(1), zone));
    const auto past = check_zone_rules_cover(*end, zone);
    REQUIRE_FALSE(past);
    CHECK(past.error().message.find(std::string("zone rules for ") + zone + " end (tzdata " +
                                    time_zone_rules_version()) != std::string::npos);
  }
  for (const char* zone : {"UTC", "Asia/Kolkata", "Asia/Tokyo", "Mars/Olympus", ""}) {
    CAPTURE(zone);
    CHECK_FALSE(zone_rules_end(zone));
    CHECK(check_zone_rules_cover(*parse_effective_date("2199-12-31", "UTC"), zone));
  }
}

// Issue 11 (9): time arithmetic from outside values saturates instead of wrapping; the date window;
// which hosts count as loopback.
#include "core/net.hpp"
#include "core/saturating.hpp"
#include "core/time.hpp"

#include <doctest/doctest.h>

#include <limits>

using namespace h2r;
using namespace std::chrono_literals;

TEST_CASE("saturating: add_ms_saturating clamps to the horizon and never wraps") {
  const SystemTime now = *parse_http_or_iso_date("2026-12-01T00:00:00Z");
  CHECK(add_ms_saturating(now, 5s) == now + 5s);
  CHECK(add_ms_saturating(now, -5s) == now - 5s);
  // 2^53 ms (the most a config duration could say) and the largest Millis: 100 years, not the past.
  for (Millis huge : {Millis(1LL << 53), Millis::max()}) {
    const SystemTime t = add_ms_saturating(now, huge);
    CHECK(t > now);
    CHECK(t == now + std::chrono::duration_cast<SystemTime::duration>(k_max_horizon));
    CHECK(add_ms_saturating(now, -huge) < now);
  }
  // Near the end of SystemTime's range the sum stops at its end.
  CHECK(add_ms_saturating(SystemTime::max() - 1s, 1h) == SystemTime::max());
  CHECK(add_ms_saturating(SystemTime::min() + 1s, -1h) == SystemTime::min());
}

TEST_CASE("saturating: seconds_to_ms_clamped takes any double without undefined behaviour") {
  CHECK(seconds_to_ms_clamped(3600, 24h) == 3600s);
  CHECK(seconds_to_ms_clamped(0.5, 24h) == 500ms);
  CHECK(seconds_to_ms_clamped(1e18, 24h) == 24h);
  CHECK(seconds_to_ms_clamped(std::numeric_limits<double>::infinity(), 24h) == 24h);
  CHECK(seconds_to_ms_clamped(std::numeric_limits<double>::quiet_NaN(), 24h) == 0ms);
  CHECK(seconds_to_ms_clamped(-1e300, 24h) == 0ms);
}

TEST_CASE("time: dates outside 1900..2199 are refused, never wrapped into another century") {
  for (const char* bad : {"9999-12-31", "2262-04-12", "3026-01-15", "1899-12-31", "0001-01-01",
                          "9999-12-31T23:59:59Z"}) {
    CAPTURE(bad);
    CHECK(is_valid_effective_date(bad));   // the shape is fine ...
    auto t = parse_effective_date(bad, "UTC");
    REQUIRE_FALSE(t);                      // ... the range is not
    CHECK(t.error().message.find(bad) != std::string::npos);
    CHECK(effective_date_range_problem(bad).has_value());
  }
  CHECK_FALSE(parse_http_or_iso_date("9999-12-31T23:59:59Z"));
  CHECK_FALSE(parse_http_or_iso_date("Fri, 31 Dec 9999 23:59:59 GMT"));
  CHECK(format_utc(*parse_effective_date("2199-12-31", "Pacific/Kiritimati")) == "2199-12-30T10:00:00Z");
  CHECK(format_utc(*parse_effective_date("1900-01-01", "UTC")) == "1900-01-01T00:00:00Z");
  CHECK_FALSE(effective_date_range_problem("2026-12-01"));
}

TEST_CASE("time: check_effective_window accepts up to max_future_days ahead") {
  const SystemTime now = *parse_http_or_iso_date("2026-12-01T00:00:00Z");
  CHECK(check_effective_window(now + 24h * 1095, now, 1095));
  auto far = check_effective_window(now + 24h * 1095 + 1s, now, 1095);
  REQUIRE_FALSE(far);
  CHECK(far.error().kind == ErrorKind::invalid);
  CHECK(far.error().message.find("more than 1095 days ahead") != std::string::npos);
  CHECK(far.error().message.find("limits.max_future_days") != std::string::npos);
  CHECK(check_effective_window(*parse_effective_date("1900-01-01", "UTC"), now, 1));
  CHECK_FALSE(check_effective_window(*parse_effective_date("1900-01-01", "UTC") - 1s, now, 1));
}

TEST_CASE("net: is_loopback_host knows 127.0.0.0/8, ::1 and localhost, and nothing else") {
  for (const char* yes : {"127.0.0.1", "127.255.0.9", "localhost", "LOCALHOST", "::1", "[::1]", "[::1]:8080",
                          "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1"})
    CHECK_MESSAGE(is_loopback_host(yes), yes);
  for (const char* no : {"0.0.0.0", "10.0.0.1", "128.0.0.1", "::", "[::]", "zoom.us", "localhost.evil.com",
                         "127.0.0.1.nip.io", "", "[::1", "::ffff:10.0.0.1"})
    CHECK_FALSE_MESSAGE(is_loopback_host(no), no);
}

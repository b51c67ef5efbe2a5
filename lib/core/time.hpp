// Dates and time zones: HR's effective dates become instants here.
#pragma once

#include "core/clock.hpp"
#include "core/error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace h2r {

// True when `name` is an IANA time zone known to the system's tzdata ("America/New_York", "UTC").
bool is_valid_time_zone(std::string_view name);

// The release of the system's tzdata this process took its zone rules from ("2025b"; "unknown" when its
// tzdata.zi does not say), read once, when the rules are first loaded: the rules do not change while the
// process runs, so neither does this. A tzdata update that changes a zone's rules (a country dropping
// daylight saving) takes effect at h2r's next start, which reschedules waiting events by it.
const std::string& time_zone_rules_version();
// The first line of a tzdata.zi ("# version 2025b") as its version; "unknown" when it is not one.
std::string tzdata_version_of(std::string_view first_line);

// Where `time_zone`'s rules, as this machine's zoneinfo lists them, stop: the start of its last listed
// change, for a zone that keeps changing after it (its TZif file ends with a daylight-saving rule, which
// the date library does not read: past that change it would keep the offset in force then). nullopt
// for a zone whose last offset holds for good, and for an unknown zone. Debian's zoneinfo lists every
// change up to 2037; a "slim" zoneinfo only up to the last change of the rule itself.
std::optional<SystemTime> zone_rules_end(std::string_view time_zone);
// The footer of a TZif file (its last line, a POSIX TZ string such as "EST5EDT,M3.2.0,M11.1.0"): true
// when it holds a daylight-saving rule.
bool tzif_footer_has_rule(std::string_view tzif);
// True when `text` is a date without a time ("2026-12-01"): a midnight in the configured zone.
bool is_date_only(std::string_view text);
// Refuses `effective` when a local day of `time_zone` on it cannot be told (after zone_rules_end): the
// error text ("is after ...") names the zone, where its rules end and the tzdata release.
Result<void> check_zone_rules_cover(SystemTime effective, std::string_view time_zone);

// The dates h2r accepts anywhere (effective dates, Retry-After dates), by their calendar day as written:
// 1900-01-01 to 2199-12-31. Far inside SystemTime's range (1677..2262, nanoseconds), so no time built
// from them, or from them plus a clamped duration (core/saturating.hpp), overflows.
inline constexpr int k_min_date_year = 1900;
inline constexpr int k_max_date_year = 2199;

// An effective date as HR writes it: "2026-12-01" is the start of that day in `time_zone`;
// "2026-12-01T09:30:00Z" / "...+01:00" / "...-05:00" is that instant (fractional seconds allowed).
// An error (kind invalid) says what is wrong with the text, a date outside k_min/max_date_year included.
Result<SystemTime> parse_effective_date(std::string_view text, std::string_view time_zone);

// True when `text` has the shape parse_effective_date accepts (no time zone needed).
bool is_valid_effective_date(std::string_view text);

// For a `text` of valid shape: nullopt when its year lies in k_min_date_year..k_max_date_year, else
// the sentence saying it does not ("is before 1900-01-01, the earliest date h2r accepts").
std::optional<std::string> effective_date_range_problem(std::string_view text);

// The window an effective date must fall in when a file is taken: not before 1900-01-01 (UTC) and not
// more than `max_future_days` days after `now` (limits.max_future_days: a typo such as 3026 for 2026
// must not wait a thousand years, nor overflow). An error (invalid) saying which bound it crosses.
Result<void> check_effective_window(SystemTime effective, SystemTime now, int max_future_days);

// Start of the calendar day `days` before the day of `t` in `time_zone` (for hire lead days).
SystemTime minus_days_in_zone(SystemTime t, int days, std::string_view time_zone);

// "2026-12-01T14:00:00Z": UTC, second precision, for people and --json.
std::string format_utc(SystemTime t);

// A duration as people write it in h2r's YAML: the largest of d, h, m, s that divides it ("1h", "90s"),
// else milliseconds ("1500ms").
std::string format_duration(std::chrono::milliseconds d);

// Parses an HTTP date (RFC 9110 IMF-fixdate) or an ISO-8601 date-time; nullopt when neither, or when
// its year lies outside k_min_date_year..k_max_date_year.
std::optional<SystemTime> parse_http_or_iso_date(std::string_view text);

} // namespace h2r

// Dates and time zones: HR's effective dates become instants here.
#pragma once

#include "core/clock.hpp"
#include "core/error.hpp"

#include <string>
#include <string_view>

namespace h2r {

// True when `name` is an IANA time zone known to the system's tzdata ("America/New_York", "UTC").
bool is_valid_time_zone(std::string_view name);

// An effective date as HR writes it: "2026-12-01" is the start of that day in `time_zone`;
// "2026-12-01T09:30:00Z" / "...+01:00" / "...-05:00" is that instant (fractional seconds allowed).
// An error (kind invalid) says what is wrong with the text.
Result<SystemTime> parse_effective_date(std::string_view text, std::string_view time_zone);

// True when `text` has the shape parse_effective_date accepts (no time zone needed).
bool is_valid_effective_date(std::string_view text);

// Start of the calendar day `days` before the day of `t` in `time_zone` (for hire lead days).
SystemTime minus_days_in_zone(SystemTime t, int days, std::string_view time_zone);

// "2026-12-01T14:00:00Z": UTC, second precision, for people and --json.
std::string format_utc(SystemTime t);

// Parses an HTTP date (RFC 9110 IMF-fixdate) or an ISO-8601 date-time; nullopt when neither.
std::optional<SystemTime> parse_http_or_iso_date(std::string_view text);

} // namespace h2r

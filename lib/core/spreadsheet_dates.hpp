// Dates as spreadsheets write them: `3/1/2026`, `1.3.2026`, Excel's serial `46082`. The inbox's
// `date_order` and `excel_serial_dates` (docs/man/h2rd.yaml.5) say how to read them; what h2r stores
// is always the ISO date (docs/man/h2r-events.5, DATES).
#pragma once

#include "core/expected.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace h2r {

// The order of day, month and year in a date that is not ISO (inbox.date_order). `iso`: only ISO dates
// (YYYY-MM-DD, or a date-time with offset) are read; the plain `inbox: PATH` means this.
enum class DateOrder { iso, mdy, dmy };

// How an inbox reads effective dates. Default: ISO only, no serials.
struct DateReading {
  DateOrder order = DateOrder::iso;
  bool excel_serials = false; // inbox.excel_serial_dates: a whole number 1..k_max_excel_serial is a day
  bool operator==(const DateReading&) const = default;
};

// Excel's 1900 date system: serial 1 is 1900-01-01, 60 is Excel's 1900-02-29 (a day that never was),
// 2958465 is 9999-12-31, the last day Excel shows.
inline constexpr long k_max_excel_serial = 2958465;

// "MDY", "DMY", "ISO" (any case) → the order; nullopt for anything else.
std::optional<DateOrder> parse_date_order(std::string_view text);
// "MDY", "DMY", "ISO".
std::string_view to_string(DateOrder order);

// An effective date as written → the text to store: an ISO text as it is; with `reading.order` MDY or
// DMY, `M/D/YYYY` (separators '/', '.' or '-', the same twice, 1 or 2 digits for day and month, 4 for
// the year) as YYYY-MM-DD; with `reading.excel_serials`, a serial as YYYY-MM-DD. The error is a
// sentence to follow the quoted value ("is not a date in month/day/year order: there is no month 13"),
// with a hint naming the config key that would read it when the text looks like a spreadsheet's date.
// The year range (core/time.hpp) is checked by the caller on the ISO text.
Expected<std::string, std::string> read_effective_date(std::string_view text, const DateReading& reading);

// An Excel serial (1900 date system) as YYYY-MM-DD; an error sentence for 60 (1900-02-29), a fraction
// (a time of day), and anything outside 1..k_max_excel_serial.
Expected<std::string, std::string> excel_serial_to_iso(std::string_view text);

} // namespace h2r

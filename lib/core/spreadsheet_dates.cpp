#include "core/spreadsheet_dates.hpp"

#include "core/time.hpp"

#include <date/date.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace h2r {
namespace {

constexpr std::size_t k_shown_fraction_digits = 6; // of a serial's fraction, in an error

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::size_t digit_run_end(std::string_view s, std::size_t from) {
  while (from < s.size() && is_digit(s[from])) ++from;
  return from;
}

bool all_digits(std::string_view s) { return !s.empty() && digit_run_end(s, 0) == s.size(); }

int small_int(std::string_view digits) {
  int v = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), v);
  return v;
}

std::string iso_of(date::year_month_day ymd) {
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return out;
}

// "3/1/2026", "01.03.2026", "1-3-2026 14:30": two numbers of 1 or 2 digits and a number, joined by the
// same separator ('/', '.' or '-'), and what follows the year.
struct OrderedDate {
  int first = 0;
  int second = 0;
  std::string_view year;
  std::string_view rest;
};

std::optional<OrderedDate> split_ordered_date(std::string_view s) {
  const std::size_t a = digit_run_end(s, 0);
  if (a == 0 || a > 2 || a >= s.size()) return std::nullopt;
  const char sep = s[a];
  if (sep != '/' && sep != '.' && sep != '-') return std::nullopt;
  const std::size_t b = digit_run_end(s, a + 1);
  if (b == a + 1 || b - a - 1 > 2 || b >= s.size() || s[b] != sep) return std::nullopt;
  const std::size_t c = digit_run_end(s, b + 1);
  if (c == b + 1) return std::nullopt;
  return OrderedDate{small_int(s.substr(0, a)), small_int(s.substr(a + 1, b - a - 1)), s.substr(b + 1, c - b - 1),
                     s.substr(c)};
}

// " 14:30", "T14:30:00": a time of day after the date.
bool is_time_of_day(std::string_view rest) {
  return rest.size() >= 2 && (rest[0] == ' ' || rest[0] == 'T' || rest[0] == 't') && is_digit(rest[1]);
}

std::string iso_words() {
  return "is not an ISO date (2026-12-01) or date-time with offset (2026-12-01T09:00:00Z)";
}

// Without date_order: what the text would be read as, in words, and the key that reads it.
std::string order_hint(const OrderedDate& d) {
  std::string out = "is not an ISO date (YYYY-MM-DD); ";
  if (d.first > 12 && d.second <= 12)
    return out + "it reads as day/month/year: set inbox.date_order: DMY in h2rd.yaml";
  if (d.second > 12 && d.first <= 12)
    return out + "it reads as month/day/year: set inbox.date_order: MDY in h2rd.yaml";
  return out + "if your HR system writes month/day/year, set inbox.date_order: MDY in h2rd.yaml "
               "(day/month/year: DMY)";
}

Expected<std::string, std::string> ordered_to_iso(const OrderedDate& d, DateOrder order) {
  const bool mdy = order == DateOrder::mdy;
  const std::string in_order = std::string("is not a date in ") + (mdy ? "month/day/year" : "day/month/year") +
                               " order (inbox.date_order: " + std::string(to_string(order)) + "): ";
  if (is_time_of_day(d.rest))
    return unexpected(std::string("has a time of day: with inbox.date_order h2r reads dates only (a time "
                                  "needs an ISO date-time with its offset, 2026-03-01T14:30:00-05:00)"));
  if (!d.rest.empty()) return unexpected(in_order + "text after the year");
  if (d.year.size() == 2)
    return unexpected(in_order + "a 2-digit year could be 19" + std::string(d.year) + " or 20" +
                      std::string(d.year) + "; write the year with 4 digits (Excel: format the column as " +
                      (mdy ? "M/D/YYYY" : "D/M/YYYY") + ")");
  if (d.year.size() != 4) return unexpected(in_order + "the year must have 4 digits");
  const int month = mdy ? d.first : d.second;
  const int day = mdy ? d.second : d.first;
  if (month < 1 || month > 12) return unexpected(in_order + "there is no month " + std::to_string(month));
  const date::year_month_day ymd{date::year{small_int(d.year)}, date::month{static_cast<unsigned>(month)},
                                 date::day{static_cast<unsigned>(day)}};
  if (!ymd.ok())
    return unexpected(in_order + "month " + std::to_string(month) + " of " + std::string(d.year) +
                      " has no day " + std::to_string(day));
  return iso_of(ymd);
}

// "46082" or "46082.5": digits, then at most one '.' and digits.
bool looks_like_serial(std::string_view s) {
  const std::size_t whole = digit_run_end(s, 0);
  if (whole == 0) return false;
  if (whole == s.size()) return true;
  return s[whole] == '.' && all_digits(s.substr(whole + 1));
}

} // namespace

std::optional<DateOrder> parse_date_order(std::string_view text) {
  std::string upper(text);
  for (char& c : upper)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (auto order : {DateOrder::iso, DateOrder::mdy, DateOrder::dmy})
    if (upper == to_string(order)) return order;
  return std::nullopt;
}

std::string_view to_string(DateOrder order) {
  switch (order) {
  case DateOrder::mdy: return "MDY";
  case DateOrder::dmy: return "DMY";
  case DateOrder::iso: break;
  }
  return "ISO";
}

Expected<std::string, std::string> excel_serial_to_iso(std::string_view text) {
  const std::string range = "is not an Excel serial date (a whole number 1.." + std::to_string(k_max_excel_serial) +
                            ", 1900-01-01..9999-12-31)";
  if (!looks_like_serial(text)) return unexpected(range);
  const std::size_t whole_end = digit_run_end(text, 0);
  const std::string_view whole = text.substr(0, whole_end);
  if (whole.size() > 7) return unexpected(range);
  long serial = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), serial);
  if (serial < 1 || serial > k_max_excel_serial) return unexpected(range);
  const std::string_view fraction = text.substr(std::min(whole_end + 1, text.size()));
  if (fraction.find_first_not_of('0') != std::string_view::npos) // shown cut: it comes from outside
    return unexpected("is an Excel date and time (" + std::string(whole) + " the day, ." +
                      std::string(fraction.substr(0, k_shown_fraction_digits)) +
                      (fraction.size() > k_shown_fraction_digits ? "…" : "") +
                      " a fraction of it, the time of day); h2r reads whole days: format the column as a date");
  if (serial == 60)
    return unexpected(std::string("is Excel's 1900-02-29, a day that never was (Excel counts 1900 as a leap "
                                  "year); write the date as YYYY-MM-DD"));
  // Serials before the fake leap day count from 1899-12-31, later ones from 1899-12-30.
  const date::sys_days epoch = date::sys_days(date::year{1899} / 12 / (serial < 60 ? 31 : 30));
  return iso_of(date::year_month_day(epoch + date::days(serial)));
}

Expected<std::string, std::string> read_effective_date(std::string_view text, const DateReading& reading) {
  if (is_valid_effective_date(text)) return std::string(text);
  if (looks_like_serial(text)) {
    if (reading.excel_serials) return excel_serial_to_iso(text);
    if (excel_serial_to_iso(text))
      return unexpected(std::string("is not an ISO date (YYYY-MM-DD); it looks like an Excel serial date: set "
                                    "inbox.excel_serial_dates: true in h2rd.yaml, or format the column as a date"));
  }
  if (auto ordered = split_ordered_date(text)) {
    if (reading.order == DateOrder::iso) return unexpected(order_hint(*ordered));
    return ordered_to_iso(*ordered, reading.order);
  }
  if (reading.order == DateOrder::iso) return unexpected(iso_words());
  return unexpected(iso_words() + " or a date in " +
                    (reading.order == DateOrder::mdy ? "month/day/year order (3/1/2026)"
                                                     : "day/month/year order (1/3/2026)"));
}

} // namespace h2r

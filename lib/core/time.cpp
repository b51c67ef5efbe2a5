#include "core/time.hpp"

#include "core/mutex.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>

namespace h2r {
namespace {

// Where Debian's tzdata (and libdate-tz built with USE_OS_TZDB) keeps the zone rules.
constexpr std::string_view k_zoneinfo_dir = "/usr/share/zoneinfo/";

// zone_rules_end's answers by zone name: each zone's file is read once.
Mutex g_rules_ends_mutex;
std::map<std::string, std::optional<SystemTime>, std::less<>> g_rules_ends H2R_GUARDED_BY(g_rules_ends_mutex);

// Loads the zone rules and reads their tzdata release together, once (time_zone_rules_version).
const std::string& rules_version_at_load() {
  static const std::string version = [] {
    std::ifstream in(std::string(k_zoneinfo_dir) + "tzdata.zi");
    std::string line;
    std::getline(in, line);
    try {
      (void)date::get_tzdb();
    } catch (const std::exception&) {
      // No rules at all: every zone lookup fails and says so.
    }
    return tzdata_version_of(line);
  }();
  return version;
}

const date::time_zone* find_zone(std::string_view name) {
  (void)rules_version_at_load();
  try {
    return date::locate_zone(std::string(name));
  } catch (const std::exception&) {
    return nullptr;
  }
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

int to_int(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// "YYYY-MM-DD" → a valid civil date, or nullopt.
std::optional<date::year_month_day> parse_civil_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  if (!all_digits(s.substr(0, 4)) || !all_digits(s.substr(5, 2)) || !all_digits(s.substr(8, 2)))
    return std::nullopt;
  date::year_month_day ymd{date::year{to_int(s.substr(0, 4))},
                           date::month{static_cast<unsigned>(to_int(s.substr(5, 2)))},
                           date::day{static_cast<unsigned>(to_int(s.substr(8, 2)))}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

struct DateTime {
  date::sys_days day;
  Millis time_of_day;
  std::chrono::minutes offset; // local = UTC + offset
};

// "YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM|±HHMM)" → parts, or nullopt.
std::optional<DateTime> parse_date_time(std::string_view s) {
  if (s.size() < 17) return std::nullopt;
  auto ymd = parse_civil_date(s.substr(0, 10));
  if (!ymd || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')) return std::nullopt;
  std::string_view rest = s.substr(11);
  if (rest.size() < 5 || rest[2] != ':' || !all_digits(rest.substr(0, 2)) || !all_digits(rest.substr(3, 2)))
    return std::nullopt;
  int hh = to_int(rest.substr(0, 2)), mm = to_int(rest.substr(3, 2)), ss = 0, ms = 0;
  rest.remove_prefix(5);
  if (!rest.empty() && rest[0] == ':') {
    if (rest.size() < 3 || !all_digits(rest.substr(1, 2))) return std::nullopt;
    ss = to_int(rest.substr(1, 2));
    rest.remove_prefix(3);
    if (!rest.empty() && rest[0] == '.') {
      rest.remove_prefix(1);
      size_t n = 0;
      while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
      if (n == 0 || n > 9) return std::nullopt;
      std::string frac(rest.substr(0, std::min<size_t>(n, 3)));
      while (frac.size() < 3) frac += '0';
      ms = to_int(frac);
      rest.remove_prefix(n);
    }
  }
  if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  std::chrono::minutes offset{0};
  if (rest == "Z" || rest == "z") {
  } else if ((rest.size() == 6 && rest[3] == ':') || rest.size() == 5) {
    // "+hh:mm" or "+hhmm": the minutes of an offset are 00..59 ("+05:99" is no offset, not +06:39).
    const std::string_view hours = rest.substr(1, 2), minutes = rest.substr(rest.size() - 2);
    if ((rest[0] != '+' && rest[0] != '-') || !all_digits(hours) || !all_digits(minutes) || to_int(minutes) > 59)
      return std::nullopt;
    offset = std::chrono::minutes(to_int(hours) * 60 + to_int(minutes));
    if (rest[0] == '-') offset = -offset;
  } else {
    return std::nullopt;
  }
  if (std::chrono::abs(offset) > std::chrono::hours(18)) return std::nullopt;
  return DateTime{date::sys_days(*ymd),
                  std::chrono::hours(hh) + std::chrono::minutes(mm) + std::chrono::seconds(ss) + Millis(ms),
                  offset};
}

SystemTime start_of_day(date::local_days day, const date::time_zone* zone) {
  // A day whose midnight falls in a DST gap starts at the first instant that exists on it;
  // an ambiguous midnight takes the earlier of its two instants.
  auto info = zone->get_info(day);
  if (info.result == date::local_info::nonexistent)
    return std::chrono::time_point_cast<SystemTime::duration>(info.second.begin);
  auto sys = zone->to_sys(day, date::choose::earliest);
  return std::chrono::time_point_cast<SystemTime::duration>(sys);
}

} // namespace

std::string tzdata_version_of(std::string_view first_line) {
  constexpr std::string_view prefix = "# version ";
  if (!first_line.starts_with(prefix)) return "unknown";
  std::string_view version = first_line.substr(prefix.size());
  // A release name: digits and a letter ("2025b"), a few characters at most.
  const bool plain = !version.empty() && version.size() <= 16 &&
                     std::all_of(version.begin(), version.end(), [](char c) {
                       return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.' || c == '-';
                     });
  return plain ? std::string(version) : "unknown";
}

const std::string& time_zone_rules_version() { return rules_version_at_load(); }

bool is_date_only(std::string_view text) { return parse_civil_date(text).has_value(); }

bool tzif_footer_has_rule(std::string_view tzif) {
  // "...\n<POSIX TZ>\n" at the very end (TZif version 2 and later); a rule follows the first comma.
  if (tzif.size() < 2 || tzif.back() != '\n') return false;
  tzif.remove_suffix(1);
  const auto start = tzif.rfind('\n');
  if (start == std::string_view::npos) return false;
  return tzif.substr(start + 1).find(',') != std::string_view::npos;
}

std::optional<SystemTime> zone_rules_end(std::string_view time_zone) {
  MutexLock lock(g_rules_ends_mutex);
  if (auto known = g_rules_ends.find(time_zone); known != g_rules_ends.end()) return known->second;
  std::optional<SystemTime> end;
  if (const date::time_zone* zone = find_zone(time_zone)) {
    // Zone files are a few kilobytes; a larger one is not read (its rules are taken as they come).
    constexpr std::size_t k_max_tzif_bytes = 1 << 20;
    std::ifstream in(std::string(k_zoneinfo_dir) + zone->name(), std::ios::binary);
    std::string tzif(k_max_tzif_bytes + 1, '\0');
    in.read(tzif.data(), static_cast<std::streamsize>(tzif.size()));
    tzif.resize(static_cast<std::size_t>(in.gcount()));
    if (tzif.size() <= k_max_tzif_bytes && tzif_footer_has_rule(tzif)) {
      const auto last = zone->get_info(date::sys_days(date::year{k_max_date_year} / 12 / 31)).begin;
      end = std::chrono::time_point_cast<SystemTime::duration>(last);
    }
  }
  g_rules_ends.emplace(std::string(time_zone), end);
  return end;
}

Result<void> check_zone_rules_cover(SystemTime effective, std::string_view time_zone) {
  const auto end = zone_rules_end(time_zone);
  if (!end || effective < *end) return {};
  return fail(ErrorKind::invalid,
              "is after " + format_utc(*end) + ", where this machine's zone rules for " + std::string(time_zone) +
                  " end (tzdata " + time_zone_rules_version() + " lists its changes up to then, and h2r does not "
                  "read the rule beyond): its local day then cannot be told. Debian's zoneinfo lists changes to "
                  "2037; a 'slim' one only to the rule's last change");
}

bool is_valid_time_zone(std::string_view name) { return !name.empty() && find_zone(name) != nullptr; }

bool is_valid_effective_date(std::string_view text) {
  return parse_civil_date(text).has_value() || parse_date_time(text).has_value();
}

namespace {

// before + value + after, appended into one string. (Not `"'" + std::string(value) + ...`: at -O3
// GCC 12 reports a false -Wrestrict overlap in the inlined operator+(const char*, string&&).)
std::string quoted_then(std::string_view value, std::string_view before, std::string_view after) {
  std::string out;
  out.reserve(before.size() + value.size() + after.size());
  out.append(before).append(value).append(after);
  return out;
}

} // namespace

std::optional<std::string> effective_date_range_problem(std::string_view text) {
  if (text.size() < 4 || !all_digits(text.substr(0, 4))) return std::nullopt; // not a date: not this check's business
  const int year = to_int(text.substr(0, 4));
  if (year < k_min_date_year)
    return "is before " + std::to_string(k_min_date_year) + "-01-01, the earliest date h2r accepts";
  if (year > k_max_date_year)
    return "is after " + std::to_string(k_max_date_year) + "-12-31, the latest date h2r accepts";
  return std::nullopt;
}

Result<void> check_effective_window(SystemTime effective, SystemTime now, int max_future_days) {
  const SystemTime earliest{date::sys_days(date::year{k_min_date_year} / 1 / 1).time_since_epoch()};
  if (effective < earliest)
    return fail(ErrorKind::invalid, "is before " + std::to_string(k_min_date_year) + "-01-01, the earliest date h2r accepts");
  const int days = std::clamp(max_future_days, 0, 36500);
  const SystemTime latest = now + std::chrono::hours(24) * days;
  if (effective > latest)
    return fail(ErrorKind::invalid, "is " + format_utc(effective) + ", more than " + std::to_string(days) +
                                        " days ahead (after " + format_utc(latest) +
                                        "; limits.max_future_days): a typo in the year?");
  return {};
}

Result<SystemTime> parse_effective_date(std::string_view text, std::string_view time_zone) {
  if (auto problem = effective_date_range_problem(text); problem && is_valid_effective_date(text))
    return fail(ErrorKind::invalid, "'" + std::string(text) + "' " + *problem);
  if (auto ymd = parse_civil_date(text)) {
    const date::time_zone* zone = find_zone(time_zone);
    if (!zone) return fail(ErrorKind::invalid, quoted_then(time_zone, "unknown time zone '", "'"));
    return start_of_day(date::local_days(*ymd), zone);
  }
  if (auto dt = parse_date_time(text)) {
    auto utc = dt->day + dt->time_of_day - dt->offset;
    return std::chrono::time_point_cast<SystemTime::duration>(utc);
  }
  return fail(ErrorKind::invalid, quoted_then(text, "'", "' is not an ISO date (2026-12-01) or date-time with offset "
                                                       "(2026-12-01T09:00:00Z, 2026-12-01T09:00:00-05:00)"));
}

SystemTime minus_days_in_zone(SystemTime t, int days, std::string_view time_zone) {
  const date::time_zone* zone = find_zone(time_zone);
  if (!zone) zone = date::locate_zone("UTC");
  auto local = zone->to_local(t);
  auto day = date::floor<date::days>(local);
  return start_of_day(day - date::days(days), zone);
}

std::string format_utc(SystemTime t) {
  return date::format("%Y-%m-%dT%H:%M:%SZ", date::floor<std::chrono::seconds>(t));
}

std::optional<SystemTime> parse_http_or_iso_date(std::string_view text) {
  auto in_range = [](date::sys_days day) {
    const auto year = static_cast<int>(date::year_month_day(day).year());
    return year >= k_min_date_year && year <= k_max_date_year;
  };
  if (auto dt = parse_date_time(text)) {
    if (!in_range(dt->day)) return std::nullopt;
    return std::chrono::time_point_cast<SystemTime::duration>(dt->day + dt->time_of_day - dt->offset);
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" — fixed width, read by hand (the weekday is not checked).
  static constexpr std::string_view k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text[3] != ',' || text[4] != ' ' || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT")
    return std::nullopt;
  unsigned month = 0;
  for (unsigned m = 0; m < 12; ++m)
    if (text.substr(8, 3) == k_months[m]) month = m + 1;
  for (std::size_t at : {5u, 12u, 14u, 17u, 20u, 23u})
    if (!all_digits(text.substr(at, 2))) return std::nullopt;
  const date::year_month_day ymd{date::year{to_int(text.substr(12, 4))}, date::month{month},
                                 date::day{static_cast<unsigned>(to_int(text.substr(5, 2)))}};
  const int hh = to_int(text.substr(17, 2)), mm = to_int(text.substr(20, 2)), ss = to_int(text.substr(23, 2));
  if (month == 0 || !ymd.ok() || hh > 23 || mm > 59 || ss > 60 || !in_range(date::sys_days(ymd))) return std::nullopt;
  return std::chrono::time_point_cast<SystemTime::duration>(date::sys_days(ymd) + std::chrono::hours(hh) +
                                                            std::chrono::minutes(mm) + std::chrono::seconds(ss));
}

std::string format_duration(std::chrono::milliseconds d) {
  const long long ms = d.count();
  static const std::pair<long long, const char*> k_units[] = {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
  if (ms > 0)
    for (const auto& [size, name] : k_units)
      if (ms % size == 0) return std::to_string(ms / size) + name;
  return std::to_string(ms) + "ms";
}

} // namespace h2r

// The template filter date('FORMAT'): an ISO 8601 date (or date-time) written again with a small
// fixed set of tokens, never strftime with the admin's text.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace h2r {

inline constexpr std::size_t k_date_format_max = 64;  // bytes of a date('...') format

// nullopt when `format` is a valid date format: the tokens YYYY (2026), YY (26), MM (03), DD (01) and
// MMM (Mar); any other ASCII letter is an error; every other character is copied. Otherwise the
// problem, naming the offending letters.
std::optional<std::string> check_date_format(std::string_view format);

// `value` (YYYY-MM-DD, optionally followed by 'T' or ' ' and a time, surrounding white space ignored)
// written in `format` (checked by check_date_format); "" when `value` is not such a date.
std::string format_iso_date(std::string_view value, std::string_view format);

} // namespace h2r

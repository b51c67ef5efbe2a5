#include "rules/date_format.hpp"

#include "rules/text_fold.hpp"

#include <array>
#include <cctype>

namespace h2r {
namespace {

enum class Token { none, year4, year2, month_name, month2, day2 };

// The token at `i` of `format` and its length; none (length 1) for a character copied as it is.
std::pair<Token, std::size_t> token_at(std::string_view format, std::size_t i) {
  const std::string_view rest = format.substr(i);
  if (rest.starts_with("YYYY")) return {Token::year4, 4};
  if (rest.starts_with("YY")) return {Token::year2, 2};
  if (rest.starts_with("MMM")) return {Token::month_name, 3};
  if (rest.starts_with("MM")) return {Token::month2, 2};
  if (rest.starts_with("DD")) return {Token::day2, 2};
  return {Token::none, 1};
}

bool is_ascii_letter(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

std::optional<int> digits(std::string_view text, std::size_t at, std::size_t count) {
  int value = 0;
  for (std::size_t k = at; k < at + count; ++k) {
    if (!std::isdigit(static_cast<unsigned char>(text[k]))) return std::nullopt;
    value = value * 10 + (text[k] - '0');
  }
  return value;
}

int days_in_month(int year, int month) {
  constexpr std::array<int, 12> k_days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : k_days[static_cast<std::size_t>(month - 1)];
}

void two_digits(std::string& out, int value) {
  out += static_cast<char>('0' + value / 10 % 10);
  out += static_cast<char>('0' + value % 10);
}

} // namespace

std::optional<std::string> check_date_format(std::string_view format) {
  if (format.empty()) return "an empty date format (e.g. date('YYYY-MM-DD'))";
  if (format.size() > k_date_format_max)
    return "a date format of " + std::to_string(format.size()) + " bytes (at most " + std::to_string(k_date_format_max) + ")";
  for (std::size_t i = 0; i < format.size();) {
    const auto [token, length] = token_at(format, i);
    if (token == Token::none && is_ascii_letter(format[i])) {
      std::size_t end = i;
      while (end < format.size() && is_ascii_letter(format[end])) ++end;
      return "'" + std::string(format.substr(i, end - i)) +
             "' is not a date format token (tokens: YYYY, YY, MM, DD, MMM; other letters are refused, "
             "other characters are copied)";
    }
    i += length;
  }
  return std::nullopt;
}

std::string format_iso_date(std::string_view value, std::string_view format) {
  const std::string date = trim(value);
  if (date.size() < 10 || date[4] != '-' || date[7] != '-') return {};
  if (date.size() > 10 && date[10] != 'T' && date[10] != 't' && date[10] != ' ') return {};
  const auto year = digits(date, 0, 4), month = digits(date, 5, 2), day = digits(date, 8, 2);
  if (!year || !month || !day || *month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month))
    return {};
  constexpr std::array<const char*, 12> k_months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::string out;
  for (std::size_t i = 0; i < format.size();) {
    const auto [token, length] = token_at(format, i);
    switch (token) {
    case Token::year4: two_digits(out, *year / 100); two_digits(out, *year % 100); break;
    case Token::year2: two_digits(out, *year % 100); break;
    case Token::month_name: out += k_months[static_cast<std::size_t>(*month - 1)]; break;
    case Token::month2: two_digits(out, *month); break;
    case Token::day2: two_digits(out, *day); break;
    case Token::none: out += format[i]; break;
    }
    i += length;
  }
  return out;
}

} // namespace h2r

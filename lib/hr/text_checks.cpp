#include "hr/text_checks.hpp"

#include <algorithm>
#include <cstdio>

namespace h2r::hr_detail {

std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  if (at >= n) return 0;
  const unsigned c = s[at];
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned lo = 0x80, hi = 0xBF; // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;      // overlong
    if (c == 0xED) hi = 0x9F;      // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;      // overlong
    if (c == 0xF4) hi = 0x8F;      // above U+10FFFF
  } else {
    return 0;
  }
  if (at + len > n) return 0;
  if (s[at + 1] < lo || s[at + 1] > hi) return 0;
  for (std::size_t k = 2; k < len; ++k)
    if (s[at + k] < 0x80 || s[at + k] > 0xBF) return 0;
  return len;
}

std::optional<std::size_t> find_invalid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) return i;
    i += len;
  }
  return std::nullopt;
}

int line_at(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

std::optional<std::size_t> find_excess_json_depth(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i; // skip the escaped character (\" and \\ included)
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  return std::nullopt;
}

std::string quote_for_report(std::string_view text, std::size_t max_bytes) {
  bool cut = false;
  if (text.size() > max_bytes) {
    std::size_t end = max_bytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
    cut = true;
  }
  std::string out = "'";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '\'' || ch == '\\' || ch == '"') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  if (cut) out += "\xE2\x80\xA6"; // …
  out += '\'';
  return out;
}

bool has_control_char(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7F;
  });
}

bool add_problem(std::vector<FileProblem>& problems, FileProblem problem) {
  if (problems.size() > k_max_problems_listed) return false;
  if (problems.size() == k_max_problems_listed) {
    problems.push_back({0, 0, "", "too many problems: only the first " +
                                      std::to_string(k_max_problems_listed) + " are listed"});
    return false;
  }
  problems.push_back(std::move(problem));
  return true;
}

} // namespace h2r::hr_detail

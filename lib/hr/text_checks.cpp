#include "hr/text_checks.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <cstdio>

namespace h2r::hr_detail {

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
  return "'" + escape_for_log(text, max_bytes, "'\"") + "'";
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

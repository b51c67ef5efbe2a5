// Template: an attribute value such as "{first_name|ascii|lower}.{last_name|ascii|lower}@example.com".
#pragma once

#include "core/expected.hpp"
#include "hr/event.hpp"

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace h2r {

// A character of a field name, as placeholders and hr_fields take them: letters, digits, _ - .
bool is_field_char(char c);

// Literal text with `{field}` placeholders, each with optional filters applied left to right:
// lower, upper, trim, ascii (strip diacritics), default('x') / default("x") (used when the value is
// empty at that point). `{{` and `}}` are literal braces. Immutable; safe to share between threads.
class Template {
public:
  struct ParseError {
    std::string message;
    std::size_t offset = 0;  // byte offset of the problem in the template text
  };

  static Expected<Template, ParseError> parse(std::string_view text);

  // The rendered text; nullopt when the template has placeholders and every one of them renders
  // empty (absent or empty fields with no default): the attribute is then left out.
  std::optional<std::string> render(const EmployeeRecord& record) const;
  void collect_fields(std::set<std::string>& out) const;

private:
  enum class FilterKind { lower, upper, trim, ascii, fallback };
  struct Filter {
    FilterKind kind;
    std::string argument;  // for default(...)
  };
  struct Part {
    std::string literal;   // used when `field` is empty
    std::string field;
    std::vector<Filter> filters;
  };
  static std::optional<Filter> parse_filter(std::string_view text, std::string& error);

  std::vector<Part> m_parts;
};

} // namespace h2r

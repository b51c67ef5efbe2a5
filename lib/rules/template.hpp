// Template: an attribute value such as "{first_name|ascii|lower}.{last_name|ascii|lower}@example.com".
#pragma once

#include "core/expected.hpp"
#include "hr/event.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace h2r {

// A character of a field name, as placeholders and hr_fields take them: letters, digits, _ - .
bool is_field_char(char c);

// A lookup table of the rules file's `tables:` section, for the filter map(name). Keys are matched
// after Unicode case folding (fold_case, text_fold.hpp); `fallback` is the "*" entry.
struct TemplateTable {
  std::map<std::string, std::string> entries;  // fold_case(key) → value
  std::optional<std::string> fallback;         // the value for keys not in `entries`
  // The value for `key`: its entry, else the fallback, else "".
  std::string lookup(std::string_view key) const;
};
// Tables by name. A Template keeps shared pointers to the tables it uses, so it stays valid (and
// immutable) after the registry is gone.
using TemplateTables = std::map<std::string, std::shared_ptr<const TemplateTable>>;

// Limits of the expression language (h2r-rules(5), "Templates").
inline constexpr std::size_t k_template_max_count = 1024;        // left/right/mid's n and start
inline constexpr std::size_t k_template_max_join_fields = 16;    // fields of one join(...)
inline constexpr std::size_t k_template_max_argument = 1024;     // bytes of a quoted argument

// Literal text with placeholders, each `{field|filter|...}` or `{join('sep', a, b, ...)|filter|...}`,
// with filters applied left to right:
//   lower, upper, trim, ascii (strip diacritics), fold (any script to ASCII),
//   default('x') / default("x") (used when the value is empty at that point),
//   or(field) (that field's value when empty), map(table) (a `tables:` lookup),
//   left(n), right(n), mid(start, n) (code points; start from 1), date('YYYY-MM-DD') (an ISO date
//   re-formatted with YYYY YY MM DD MMM; not a date: empty).
// `{{` and `}}` are literal braces. Immutable; safe to share between threads.
class Template {
public:
  struct ParseError {
    std::string message;
    std::size_t offset = 0;  // byte offset of the problem in the template text
  };

  // `tables`: the tables map(name) may name; without them any map(...) is an error.
  static Expected<Template, ParseError> parse(std::string_view text, const TemplateTables* tables = nullptr);

  // The rendered text; nullopt when the template has placeholders and every one of them renders
  // empty (absent or empty fields with no default): the attribute is then left out.
  std::optional<std::string> render(const EmployeeRecord& record) const;
  // Every field a placeholder reads: its field, join(...)'s fields and or(...)'s.
  void collect_fields(std::set<std::string>& out) const;

private:
  enum class FilterKind { lower, upper, trim, ascii, fold, fallback, coalesce, map, left, right, mid, date };
  struct Filter {
    FilterKind kind;
    std::string argument;  // default's text, or's field, date's format
    std::size_t first = 0;   // left/right's n, mid's start
    std::size_t second = 0;  // mid's n
    std::shared_ptr<const TemplateTable> table;  // map's
  };
  struct Part {
    std::string literal;              // used when `fields` is empty
    std::vector<std::string> fields;  // one field, or join's fields
    std::string separator;            // join's
    bool join = false;                // join(...): the non-blank fields' values, joined by `separator`
    std::vector<Filter> filters;
  };
  static std::optional<Filter> parse_filter(std::string_view text, const TemplateTables* tables, std::string& error);
  static bool parse_head(std::string_view text, Part& part, std::string& error);
  std::string apply(const Filter& filter, std::string value, const EmployeeRecord& record) const;

  std::vector<Part> m_parts;
};

} // namespace h2r

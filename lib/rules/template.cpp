#include "rules/template.hpp"

#include "rules/date_format.hpp"
#include "rules/text_fold.hpp"

#include <cctype>
#include <utility>

namespace h2r {

bool is_field_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

std::string TemplateTable::lookup(std::string_view key) const {
  if (const auto it = entries.find(fold_case(key)); it != entries.end()) return it->second;
  return fallback.value_or(std::string());
}

namespace {

constexpr const char* k_filter_list =
    "filters: lower, upper, trim, ascii, fold, default('text'), or(field), map(table), left(n), right(n), "
    "mid(start, n), date('YYYY-MM-DD')";

bool is_field_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!is_field_char(c)) return false;
  return true;
}

// Splits `text` at `separator` outside single or double quotes.
std::vector<std::string_view> split_outside_quotes(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  std::size_t piece_start = 0;
  char quote = 0;
  for (std::size_t k = 0; k < text.size(); ++k) {
    if (quote) {
      if (text[k] == quote) quote = 0;
    } else if (text[k] == '\'' || text[k] == '"') {
      quote = text[k];
    } else if (text[k] == separator) {
      pieces.push_back(text.substr(piece_start, k - piece_start));
      piece_start = k + 1;
    }
  }
  pieces.push_back(text.substr(piece_start));
  return pieces;
}

// A call as filters and join are written: `name` or `name(arg, ...)`, arguments trimmed.
struct Call {
  std::string name;
  bool parenthesised = false;
  std::vector<std::string> arguments;
};

Call parse_call(std::string_view text) {
  Call call;
  const std::string whole = trim(text);
  std::size_t i = 0;
  while (i < whole.size() && (std::isalnum(static_cast<unsigned char>(whole[i])) || whole[i] == '_')) ++i;
  call.name = whole.substr(0, i);
  std::string_view rest = std::string_view(whole).substr(i);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty()) return call;
  if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') {
    call.name = whole;  // not a call: reported as an unknown name, as written
    return call;
  }
  call.parenthesised = true;
  const std::string_view inner = rest.substr(1, rest.size() - 2);
  if (trim(inner).empty()) return call;
  for (auto piece : split_outside_quotes(inner, ',')) call.arguments.push_back(trim(piece));
  return call;
}

// The text of a quoted argument ('text' or "text", no inner quote of the same kind), or nullopt.
std::optional<std::string> quoted(const std::string& argument) {
  if (argument.size() >= 2 && (argument.front() == '\'' || argument.front() == '"') &&
      argument.back() == argument.front() && argument.find(argument.front(), 1) == argument.size() - 1)
    return argument.substr(1, argument.size() - 2);
  return std::nullopt;
}

// A whole number from 1 to k_template_max_count, or nullopt.
std::optional<std::size_t> count(const std::string& argument) {
  if (argument.empty() || argument.size() > 4) return std::nullopt;
  std::size_t value = 0;
  for (char c : argument) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  if (value < 1 || value > k_template_max_count) return std::nullopt;
  return value;
}

std::string arity_error(const Call& call, const char* form) {
  return "filter '" + call.name + "' must be written " + form + ", got " + std::to_string(call.arguments.size()) +
         " argument" + (call.arguments.size() == 1 ? "" : "s");
}

std::string count_error(const Call& call, const std::string& argument, const char* which) {
  return call.name + "(...): " + which + " must be a whole number from 1 to " + std::to_string(k_template_max_count) +
         ", got '" + argument + "'";
}

std::string table_names(const TemplateTables& tables) {
  std::string out;
  for (const auto& [name, table] : tables) out += (out.empty() ? "" : ", ") + name;
  return out;
}

} // namespace

std::optional<Template::Filter> Template::parse_filter(std::string_view text, const TemplateTables* tables,
                                                       std::string& error) {
  const Call call = parse_call(text);
  const std::string& name = call.name;
  const auto fail = [&](std::string message) -> std::optional<Filter> {
    error = std::move(message);
    return std::nullopt;
  };
  const auto plain = [&](FilterKind kind) -> std::optional<Filter> {
    if (call.parenthesised) return fail("filter '" + name + "' takes no arguments (write " + name + ")");
    return Filter{kind, {}, 0, 0, nullptr};
  };
  if (name == "lower") return plain(FilterKind::lower);
  if (name == "upper") return plain(FilterKind::upper);
  if (name == "trim") return plain(FilterKind::trim);
  if (name == "ascii") return plain(FilterKind::ascii);
  if (name == "fold") return plain(FilterKind::fold);
  if (name == "default") {
    if (call.arguments.size() == 1)
      if (auto arg = quoted(call.arguments[0])) {
        if (arg->size() > k_template_max_argument)
          return fail("default's text is " + std::to_string(arg->size()) + " bytes (at most " +
                      std::to_string(k_template_max_argument) + ")");
        return Filter{FilterKind::fallback, *arg, 0, 0, nullptr};
      }
    return fail("filter '" + trim(text) + "' must be written default('text') or default(\"text\")");
  }
  if (name == "or") {
    if (call.arguments.size() != 1) return fail(arity_error(call, "or(field)"));
    if (!is_field_name(call.arguments[0]))
      return fail("or(...): '" + call.arguments[0] + "' is not a field name (letters, digits, _ - . only)");
    return Filter{FilterKind::coalesce, call.arguments[0], 0, 0, nullptr};
  }
  if (name == "map") {
    if (call.arguments.size() != 1) return fail(arity_error(call, "map(table)"));
    const std::string& table = call.arguments[0];
    if (!tables || tables->empty()) return fail("map(" + table + "): unknown table '" + table + "' (the rules file has no tables)");
    const auto it = tables->find(table);
    if (it == tables->end())
      return fail("map(" + table + "): unknown table '" + table + "' (tables: " + table_names(*tables) + ")");
    return Filter{FilterKind::map, table, 0, 0, it->second};
  }
  if (name == "left" || name == "right") {
    if (call.arguments.size() != 1) return fail(arity_error(call, name == "left" ? "left(n)" : "right(n)"));
    const auto n = count(call.arguments[0]);
    if (!n) return fail(count_error(call, call.arguments[0], "n"));
    return Filter{name == "left" ? FilterKind::left : FilterKind::right, {}, *n, 0, nullptr};
  }
  if (name == "mid") {
    if (call.arguments.size() != 2) return fail(arity_error(call, "mid(start, n)"));
    const auto start = count(call.arguments[0]);
    if (!start) return fail(count_error(call, call.arguments[0], "start"));
    const auto n = count(call.arguments[1]);
    if (!n) return fail(count_error(call, call.arguments[1], "n"));
    return Filter{FilterKind::mid, {}, *start, *n, nullptr};
  }
  if (name == "date") {
    const auto format = call.arguments.size() == 1 ? quoted(call.arguments[0]) : std::nullopt;
    if (!format) return fail("filter '" + trim(text) + "' must be written date('YYYY-MM-DD') (a quoted format)");
    if (auto problem = check_date_format(*format)) return fail("date('" + *format + "'): " + *problem);
    return Filter{FilterKind::date, *format, 0, 0, nullptr};
  }
  return fail("unknown filter '" + trim(text) + "' (" + k_filter_list + ")");
}

// The placeholder's head: a field name, or join('separator', field, ...).
bool Template::parse_head(std::string_view text, Part& part, std::string& error) {
  const std::string head = trim(text);
  if (head.starts_with("join") && head.find('(') != std::string::npos) {
    const Call call = parse_call(head);
    const std::string form = "join('separator', field, field, ...) with 1 to " +
                             std::to_string(k_template_max_join_fields) + " fields";
    const auto separator = call.arguments.empty() ? std::nullopt : quoted(call.arguments[0]);
    if (call.name != "join" || !separator || call.arguments.size() < 2 ||
        call.arguments.size() > k_template_max_join_fields + 1) {
      error = "'" + head + "' must be written " + form;
      return false;
    }
    if (separator->size() > k_template_max_argument) {
      error = "join(...): a separator of " + std::to_string(separator->size()) + " bytes (at most " +
              std::to_string(k_template_max_argument) + ")";
      return false;
    }
    for (std::size_t k = 1; k < call.arguments.size(); ++k) {
      if (!is_field_name(call.arguments[k])) {
        error = "join(...): '" + call.arguments[k] + "' is not a field name (letters, digits, _ - . only)";
        return false;
      }
      part.fields.push_back(call.arguments[k]);
    }
    part.separator = *separator;
    part.join = true;
    return true;
  }
  if (!is_field_name(head)) {
    error = "'" + head + "' is not a field name (letters, digits, _ - . only)";
    return false;
  }
  part.fields.push_back(head);
  return true;
}

Expected<Template, Template::ParseError> Template::parse(std::string_view text, const TemplateTables* tables) {
  Template out;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) out.m_parts.push_back(Part{std::move(literal), {}, {}, false, {}});
    literal.clear();
  };
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal += '}';
        i += 2;
        continue;
      }
      return unexpected(ParseError{"a lone '}' (write '}}' for a literal brace)", i});
    }
    if (c != '{') {
      literal += c;
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      i += 2;
      continue;
    }
    // A placeholder: find its closing brace, skipping quoted arguments.
    const std::size_t start = i;
    std::size_t end = i + 1;
    char quote = 0;
    for (; end < text.size(); ++end) {
      if (quote) {
        if (text[end] == quote) quote = 0;
      } else if (text[end] == '\'' || text[end] == '"') {
        quote = text[end];
      } else if (text[end] == '}') {
        break;
      }
    }
    if (end >= text.size()) return unexpected(ParseError{"a '{' that is never closed (write '{{' for a literal brace)", start});
    const std::string_view body = text.substr(start + 1, end - start - 1);
    const std::vector<std::string_view> pieces = split_outside_quotes(body, '|');
    if (trim(pieces.front()).empty())
      return unexpected(ParseError{"an empty placeholder '{" + std::string(body) + "}': name a field, e.g. {email}", start});
    Part part;
    std::string error;
    if (!parse_head(pieces.front(), part, error)) return unexpected(ParseError{std::move(error), start});
    for (std::size_t p = 1; p < pieces.size(); ++p) {
      auto filter = parse_filter(pieces[p], tables, error);
      if (!filter) return unexpected(ParseError{std::move(error), start});
      part.filters.push_back(std::move(*filter));
    }
    flush();
    out.m_parts.push_back(std::move(part));
    i = end + 1;
  }
  flush();
  return out;
}

namespace {

std::string field_value(const EmployeeRecord& record, const std::string& field) {
  const auto it = record.find(field);
  return it == record.end() ? std::string() : it->second;
}

} // namespace

std::string Template::apply(const Filter& f, std::string value, const EmployeeRecord& record) const {
  switch (f.kind) {
  case FilterKind::lower: return fold_lower(value);
  case FilterKind::upper: return fold_upper(value);
  case FilterKind::trim: return trim(value);
  case FilterKind::ascii: return fold_ascii(value);
  case FilterKind::fold: return fold_any_ascii(value);
  case FilterKind::fallback: return value.empty() ? f.argument : value;
  case FilterKind::coalesce: return value.empty() ? field_value(record, f.argument) : value;
  case FilterKind::map: return value.empty() ? value : f.table->lookup(value);
  case FilterKind::left: return utf8_left(value, f.first);
  case FilterKind::right: return utf8_right(value, f.first);
  case FilterKind::mid: return utf8_mid(value, f.first - 1, f.second);
  case FilterKind::date: return format_iso_date(value, f.argument);
  }
  return value;
}

std::optional<std::string> Template::render(const EmployeeRecord& record) const {
  std::string out;
  bool has_fields = false;
  bool any_value = false;
  for (const auto& part : m_parts) {
    if (part.fields.empty()) {
      out += part.literal;
      continue;
    }
    has_fields = true;
    std::string value;
    if (part.join) {
      for (const auto& field : part.fields) {
        std::string v = field_value(record, field);
        if (trim(v).empty()) continue;
        if (!value.empty()) value += part.separator;
        value += v;
      }
    } else {
      value = field_value(record, part.fields.front());
    }
    for (const auto& f : part.filters) value = apply(f, std::move(value), record);
    if (!value.empty()) any_value = true;
    out += value;
  }
  if (has_fields && !any_value) return std::nullopt;
  return out;
}

void Template::collect_fields(std::set<std::string>& out) const {
  for (const auto& part : m_parts) {
    out.insert(part.fields.begin(), part.fields.end());
    for (const auto& f : part.filters)
      if (f.kind == FilterKind::coalesce) out.insert(f.argument);
  }
}

} // namespace h2r

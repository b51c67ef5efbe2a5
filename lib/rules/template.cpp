#include "rules/template.hpp"

#include "rules/text_fold.hpp"

#include <cctype>

namespace h2r {

bool is_field_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

std::optional<Template::Filter> Template::parse_filter(std::string_view text, std::string& error) {
  const std::string name = trim(text);
  if (name == "lower") return Filter{FilterKind::lower, {}};
  if (name == "upper") return Filter{FilterKind::upper, {}};
  if (name == "trim") return Filter{FilterKind::trim, {}};
  if (name == "ascii") return Filter{FilterKind::ascii, {}};
  if (name.starts_with("default")) {
    std::string_view rest = std::string_view(name).substr(7);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.size() >= 4 && rest.front() == '(' && rest.back() == ')') {
      std::string_view inner = rest.substr(1, rest.size() - 2);
      const std::string arg = trim(inner);
      if (arg.size() >= 2 && (arg.front() == '\'' || arg.front() == '"') && arg.back() == arg.front() &&
          arg.find(arg.front(), 1) == arg.size() - 1)
        return Filter{FilterKind::fallback, arg.substr(1, arg.size() - 2)};
    }
    error = "filter '" + name + "' must be written default('text') or default(\"text\")";
    return std::nullopt;
  }
  error = "unknown filter '" + name + "' (filters: lower, upper, trim, ascii, default('text'))";
  return std::nullopt;
}

Expected<Template, Template::ParseError> Template::parse(std::string_view text) {
  Template out;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) out.m_parts.push_back(Part{std::move(literal), {}, {}});
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
    // A placeholder: find its closing brace, skipping quoted default arguments.
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
    // Split on '|' outside quotes.
    std::vector<std::string_view> pieces;
    std::size_t piece_start = 0;
    quote = 0;
    for (std::size_t k = 0; k < body.size(); ++k) {
      if (quote) {
        if (body[k] == quote) quote = 0;
      } else if (body[k] == '\'' || body[k] == '"') {
        quote = body[k];
      } else if (body[k] == '|') {
        pieces.push_back(body.substr(piece_start, k - piece_start));
        piece_start = k + 1;
      }
    }
    pieces.push_back(body.substr(piece_start));
    Part part;
    part.field = trim(pieces.front());
    if (part.field.empty())
      return unexpected(ParseError{"an empty placeholder '{" + std::string(body) + "}': name a field, e.g. {email}", start});
    for (char fc : part.field)
      if (!is_field_char(fc))
        return unexpected(ParseError{"'" + part.field + "' is not a field name (letters, digits, _ - . only)", start});
    for (std::size_t p = 1; p < pieces.size(); ++p) {
      std::string error;
      auto filter = parse_filter(pieces[p], error);
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

std::optional<std::string> Template::render(const EmployeeRecord& record) const {
  std::string out;
  bool has_fields = false;
  bool any_value = false;
  for (const auto& part : m_parts) {
    if (part.field.empty()) {
      out += part.literal;
      continue;
    }
    has_fields = true;
    const auto it = record.find(part.field);
    std::string value = it == record.end() ? std::string() : it->second;
    for (const auto& f : part.filters) {
      switch (f.kind) {
      case FilterKind::lower: value = fold_lower(value); break;
      case FilterKind::upper: value = fold_upper(value); break;
      case FilterKind::trim: value = trim(value); break;
      case FilterKind::ascii: value = fold_ascii(value); break;
      case FilterKind::fallback:
        if (value.empty()) value = f.argument;
        break;
      }
    }
    if (!value.empty()) any_value = true;
    out += value;
  }
  if (has_fields && !any_value) return std::nullopt;
  return out;
}

void Template::collect_fields(std::set<std::string>& out) const {
  for (const auto& part : m_parts)
    if (!part.field.empty()) out.insert(part.field);
}

} // namespace h2r

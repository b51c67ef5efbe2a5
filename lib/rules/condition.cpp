#include "rules/condition.hpp"

#include "core/text.hpp"

#include "rules/text_fold.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>

namespace h2r {
namespace {

constexpr std::array<std::pair<std::string_view, Condition::Op>, 8> k_operators{{
    {"equals", Condition::Op::equals},
    {"not_equals", Condition::Op::not_equals},
    {"in", Condition::Op::in},
    {"contains", Condition::Op::contains},
    {"starts_with", Condition::Op::starts_with},
    {"ends_with", Condition::Op::ends_with},
    {"matches", Condition::Op::matches},
    {"exists", Condition::Op::exists},
}};

constexpr const char* k_operator_list = "equals, not_equals, in, contains, starts_with, ends_with, matches or exists";

std::optional<Condition::Op> find_operator(std::string_view name) {
  for (const auto& [n, op] : k_operators)
    if (n == name) return op;
  return std::nullopt;
}

// Compiles `pattern` with RE2; on failure reports why (at the pattern's place in the file, naming the
// character RE2 stopped at when it says) and returns nullptr.
std::shared_ptr<const re2::RE2> compile_pattern(yaml::Reader& reader, const YAML::Node& at, const std::string& what,
                                                const std::string& pattern, bool case_sensitive,
                                                Condition::PatternBudget& budget) {
  if (budget.bytes_left <= 0) {
    reader.error(at, what + ": the `matches` patterns of this file are too large together; use fewer or simpler ones");
    return nullptr;
  }
  if (pattern.size() > Condition::k_max_pattern_bytes) {
    reader.error(at, what + ": the pattern is " + std::to_string(pattern.size()) + " bytes; the limit is " +
                         std::to_string(Condition::k_max_pattern_bytes));
    return nullptr;
  }
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(Condition::k_regex_max_mem);
  options.set_case_sensitive(case_sensitive);
  auto regex = std::make_shared<const re2::RE2>(pattern, options);
  if (regex->ok()) {
    constexpr std::int64_t k_bytes_per_instruction = 16;  // RE2's Prog::Inst and its bookkeeping, roughly
    budget.bytes_left -= k_bytes_per_instruction * regex->ProgramSize() + static_cast<std::int64_t>(pattern.size());
    return regex;
  }
  std::string where;
  if (const std::string& arg = regex->error_arg(); !arg.empty())
    if (const auto at_char = pattern.find(arg); at_char != std::string::npos)
      where = " (at character " + std::to_string(at_char + 1) + " of the pattern)";
  bool unsupported = false;  // the Perl features RE2 leaves out on purpose: say so
  for (std::size_t i = 0; i + 1 < pattern.size(); ++i)
    if (pattern[i] == '\\' && pattern[i + 1] >= '1' && pattern[i + 1] <= '9') unsupported = true;
  for (std::string_view look : {"(?=", "(?!", "(?<=", "(?<!"})
    if (pattern.find(look) != std::string::npos) unsupported = true;
  const std::string hint =
      unsupported ? "; `matches` is RE2 syntax, which has no backreferences (\\1) or lookaround ((?=...), (?<=...))" : "";
  reader.error(at, what + ": invalid regular expression '" + pattern + "': " + regex->error() + where + hint);
  return nullptr;
}

} // namespace

std::optional<Condition> Condition::parse(yaml::Reader& reader, const YAML::Node& node, const std::string& what,
                                          PatternBudget& budget) {
  if (!node.IsMap()) {
    reader.error(node, what + " must be a condition map such as { field: department, equals: Sales }, got " +
                           yaml::describe(node));
    return std::nullopt;
  }
  Condition out;
  const bool composite = node["all"] || node["any"] || node["not"];
  if (composite) {
    auto map = reader.map(node, what, {"all", "any", "not"});
    if (!map) return std::nullopt;
    if (map->entries().size() != 1) {
      reader.error(map->entries()[1].key_node,
                   what + " must have exactly one of all, any or not; nest them to combine");
      return std::nullopt;
    }
    const auto& entry = map->entries().front();
    bool ok = true;
    if (entry.key == "not") {
      out.m_kind = Kind::negation;
      auto child = parse(reader, entry.value, what + ".not", budget);
      if (!child) return std::nullopt;
      out.m_children.push_back(std::move(*child));
      return out;
    }
    out.m_kind = entry.key == "all" ? Kind::all : Kind::any;
    const std::string list_what = what + "." + entry.key;
    auto items = reader.list(entry.value, list_what);
    if (!items) return std::nullopt;
    if (items->empty()) {
      reader.error(entry.value, list_what + " needs at least one condition");
      ok = false;
    }
    for (std::size_t i = 0; i < items->size(); ++i) {
      auto child = parse(reader, (*items)[i], list_what + "[" + std::to_string(i) + "]", budget);
      if (child)
        out.m_children.push_back(std::move(*child));
      else
        ok = false;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  auto map = reader.map(node, what,
                        {"field", "case_sensitive", "equals", "not_equals", "in", "contains", "starts_with",
                         "ends_with", "matches", "exists"});
  if (!map) return std::nullopt;
  bool ok = true;
  const yaml::MapView::Entry* op_entry = nullptr;
  for (const auto& entry : map->entries()) {
    if (!find_operator(entry.key)) continue;
    if (op_entry) {
      reader.error(entry.key_node, what + " has two operators ('" + op_entry->key + "' and '" + entry.key +
                                       "'); use all: [...] to combine them");
      ok = false;
      continue;
    }
    op_entry = &entry;
  }
  const bool had_unknown_keys = map->entries().size() != node.size();  // already reported (a typo'd operator?)
  if (!op_entry && !had_unknown_keys) {
    reader.error(node, what + " needs one operator: " + k_operator_list);
    ok = false;
  }
  if (const auto* f = map->get("field")) {
    if (auto name = reader.non_empty_string(*f, what + ".field")) {
      out.m_field = *name;
      std::tie(out.m_line, out.m_column) = yaml::position(*f);
    } else
      ok = false;
  } else {
    reader.error(node, what + " needs the key 'field' (the employee field to test)");
    ok = false;
  }
  if (const auto* cs = map->get("case_sensitive")) {
    if (auto b = reader.boolean(*cs, what + ".case_sensitive"))
      out.m_case_sensitive = *b;
    else
      ok = false;
  }
  if (!op_entry) return std::nullopt;
  out.m_op = *find_operator(op_entry->key);
  const std::string op_what = what + "." + op_entry->key;
  const YAML::Node& value = op_entry->value;
  switch (out.m_op) {
  case Op::exists: {
    auto b = reader.boolean(value, op_what);
    if (!b) return std::nullopt;
    out.m_exists = *b;
    break;
  }
  case Op::in: {
    auto items = reader.list(value, op_what);
    if (!items) return std::nullopt;
    if (items->empty()) {
      reader.error(value, op_what + " needs at least one value");
      ok = false;
    }
    for (std::size_t i = 0; i < items->size(); ++i) {
      if (auto s = reader.string((*items)[i], op_what + "[" + std::to_string(i) + "]"))
        out.m_values.push_back(*s);
      else
        ok = false;
    }
    break;
  }
  case Op::matches: {
    auto pattern = reader.string(value, op_what);
    if (!pattern) return std::nullopt;
    out.m_regex = compile_pattern(reader, value, op_what, *pattern, out.m_case_sensitive, budget);
    if (!out.m_regex) return std::nullopt;
    out.m_values.push_back(*pattern);
    break;
  }
  default: {
    auto s = reader.string(value, op_what);
    if (!s) return std::nullopt;
    out.m_values.push_back(*s);
    break;
  }
  }
  if (!out.m_case_sensitive)
    for (auto& v : out.m_values) v = fold_case(v);
  if (!ok) return std::nullopt;
  return out;
}

bool Condition::matches(const EmployeeRecord& record) const {
  switch (m_kind) {
  case Kind::all:
    return std::all_of(m_children.begin(), m_children.end(), [&](const Condition& c) { return c.matches(record); });
  case Kind::any:
    return std::any_of(m_children.begin(), m_children.end(), [&](const Condition& c) { return c.matches(record); });
  case Kind::negation:
    return !m_children.front().matches(record);
  case Kind::leaf:
    return leaf_matches(record);
  }
  return false;
}

bool Condition::leaf_matches(const EmployeeRecord& record) const {
  const auto it = record.find(m_field);
  const bool present = it != record.end() && !it->second.empty();
  if (m_op == Op::exists) return present == m_exists;
  if (!present) return m_op == Op::not_equals;
  if (m_op == Op::matches) return re2::RE2::PartialMatch(it->second, *m_regex);
  const std::string value = m_case_sensitive ? it->second : fold_case(it->second);
  const std::string& expected = m_values.front();
  switch (m_op) {
  case Op::equals: return value == expected;
  case Op::not_equals: return value != expected;
  case Op::in: return std::find(m_values.begin(), m_values.end(), value) != m_values.end();
  case Op::contains: return value.find(expected) != std::string::npos;
  case Op::starts_with: return value.starts_with(expected);
  case Op::ends_with: return value.ends_with(expected);
  default: return false;
  }
}

std::string Condition::place() const { return m_line > 0 ? " (line " + std::to_string(m_line) + ")" : ""; }

std::string Condition::leaf_text() const {
  // At most 5 values, each cut at 80 bytes: an `in` list may be long.
  auto quoted = [](const std::vector<std::string>& values) {
    constexpr std::size_t k_shown = 5;
    std::string out;
    for (std::size_t i = 0; i < values.size() && i < k_shown; ++i)
      out += (out.empty() ? "'" : ", '") + truncate_utf8(values[i], 80) + "'";
    if (values.size() > k_shown) out += " and " + std::to_string(values.size() - k_shown) + " more";
    return out;
  };
  switch (m_op) {
  case Op::equals: return m_field + " is " + quoted(m_values);
  case Op::not_equals: return m_field + " is not " + quoted(m_values);
  case Op::in: return m_field + " is one of " + quoted(m_values);
  case Op::contains: return m_field + " contains " + quoted(m_values);
  case Op::starts_with: return m_field + " starts with " + quoted(m_values);
  case Op::ends_with: return m_field + " ends with " + quoted(m_values);
  case Op::matches: return m_field + " matches /" + truncate_utf8(m_regex ? m_regex->pattern() : "", 80) + "/";
  case Op::exists: return m_field + (m_exists ? " is given" : " is absent");
  }
  return m_field;
}

std::string Condition::leaf_why_not(const EmployeeRecord& record) const {
  if (leaf_matches(record)) return "";
  const auto it = record.find(m_field);
  const bool present = it != record.end() && !it->second.empty();
  const std::string is = present ? "is '" + truncate_utf8(it->second, 80) + "'" : "is empty or absent";
  return m_field + " " + is + ", and the rule asks that " + leaf_text() + place();
}

std::string Condition::why_not(const EmployeeRecord& record) const {
  switch (m_kind) {
  case Kind::all:
    for (const auto& c : m_children)
      if (auto why = c.why_not(record); !why.empty()) return why;
    return "";
  case Kind::any: {
    std::string out;
    for (const auto& c : m_children) {
      auto why = c.why_not(record);
      if (why.empty()) return "";
      out += (out.empty() ? "none of its `any` holds: " : "; ") + why;
    }
    return out;
  }
  case Kind::negation: {
    if (m_children.front().why_not(record).empty())
      return "its `not` part holds for this employee" +
             (m_children.front().m_kind == Kind::leaf ? ": " + m_children.front().leaf_text() + m_children.front().place() : "");
    return "";
  }
  case Kind::leaf:
    return leaf_why_not(record);
  }
  return "";
}

void Condition::collect_fields(std::set<std::string>& out) const {
  if (m_kind == Kind::leaf) out.insert(m_field);
  for (const auto& c : m_children) c.collect_fields(out);
}

void Condition::collect_field_references(std::vector<RuleReference>& out) const {
  if (m_kind == Kind::leaf) out.push_back({m_field, m_line, m_column});
  for (const auto& c : m_children) c.collect_field_references(out);
}

} // namespace h2r

#include "yaml/yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>

namespace h2r::yaml {

const MapView::Entry* MapView::entry(std::string_view key) const {
  for (const auto& e : m_entries)
    if (e.key == key) return &e;
  return nullptr;
}

const YAML::Node* MapView::get(std::string_view key) const {
  const Entry* e = entry(key);
  return e ? &e->value : nullptr;
}

void sort_by_place(Diagnostics& diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
}

std::pair<int, int> position(const YAML::Node& node) {
  if (!node.IsDefined()) return {0, 0};
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {0, 0};
  return {mark.line + 1, mark.column + 1};
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return "'" + node.Scalar() + "'";
}

std::string join_choices(std::initializer_list<std::string_view> choices) {
  std::string out;
  std::size_t i = 0;
  for (auto c : choices) {
    if (i > 0) out += (i + 1 == choices.size()) ? " or " : ", ";
    out += c;
    ++i;
  }
  return out;
}

std::optional<YAML::Node> Reader::parse(const std::string& text) {
  if (text.size() > m_limits.max_bytes) {
    error_at(0, 0, "the file is larger than " + describe_bytes(m_limits.max_bytes) + ", the limit for this file");
    return std::nullopt;
  }
  try {
    if (auto problem = check_expansion(text, m_limits.max_nodes)) {
      error_at(problem->line, problem->column, std::move(problem->message));
      return std::nullopt;
    }
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    const int column = e.mark.is_null() ? 0 : e.mark.column + 1;
    // yaml-cpp says "illegal map value" or the like for a tab in the indentation: name the cause.
    if (auto tab = line > 0 ? find_indent_tab(text, line - 1, line) : find_indent_tab(text, 1, 0)) {
      error_at(tab->line, tab->column, std::move(tab->message));
      return std::nullopt;
    }
    error_at(line, column, "YAML syntax error: " + e.msg);
    return std::nullopt;
  }
}

void Reader::error(const YAML::Node& at, std::string message) {
  const auto [line, column] = position(at);
  error_at(line, column, std::move(message));
}

void Reader::warning(const YAML::Node& at, std::string message) {
  const auto [line, column] = position(at);
  m_out.push_back(Diagnostic{m_file, line, column, std::move(message), true});
}

void Reader::error_at(int line, int column, std::string message) {
  m_out.push_back(Diagnostic{m_file, line, column, std::move(message), false});
}

std::optional<MapView> Reader::map(const YAML::Node& node, std::string_view what,
                                   std::initializer_list<std::string_view> allowed) {
  if (!node.IsMap()) {
    error(node, std::string(what) + " must be a map, got " + describe(node));
    return std::nullopt;
  }
  MapView view;
  view.m_node = node;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      error(key, "a key in " + std::string(what) + " must be a plain name, got " + describe(key));
      continue;
    }
    const std::string name = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      error(key, "unknown key '" + name + "' in " + std::string(what) + " (allowed: " +
                     join_choices(allowed) + ")");
      continue;
    }
    if (const MapView::Entry* first = view.entry(name)) {
      error(key, "duplicate key '" + name + "' in " + std::string(what) + " (first at line " +
                     std::to_string(position(first->key_node).first) + ")");
      continue;
    }
    view.m_entries.push_back(MapView::Entry{name, key, it->second});
  }
  return view;
}

bool Reader::require(const MapView& map, std::string_view key, std::string_view what) {
  if (map.get(key)) return true;
  error(map.node(), std::string(what) + " needs the key '" + std::string(key) + "'");
  return false;
}

std::optional<std::string> Reader::string(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) {
    error(node, std::string(what) + " must be a text value, got " + describe(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::string> Reader::non_empty_string(const YAML::Node& node, std::string_view what) {
  auto text = string(node, what);
  if (text && text->empty()) {
    error(node, std::string(what) + " must not be empty");
    return std::nullopt;
  }
  return text;
}

std::optional<bool> Reader::boolean(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  error(node, std::string(what) + " must be true or false, got " + describe(node));
  return std::nullopt;
}

std::optional<long long> Reader::integer(const YAML::Node& node, std::string_view what, long long min,
                                         long long max) {
  const std::string range = " from " + std::to_string(min) +
                            (max == std::numeric_limits<long long>::max() ? " up" : " to " + std::to_string(max));
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    long long value = 0;
    const char* begin = s.data();
    if (!s.empty() && s[0] == '+') ++begin;
    auto [end, ec] = std::from_chars(begin, s.data() + s.size(), value);
    if (ec == std::errc() && end == s.data() + s.size() && begin != end) {
      if (value >= min && value <= max) return value;
      error(node, std::string(what) + " must be an integer" + range + ", got " + s);
      return std::nullopt;
    }
  }
  error(node, std::string(what) + " must be an integer" + range + ", got " + describe(node));
  return std::nullopt;
}

std::optional<std::string> Reader::choice(const YAML::Node& node, std::string_view what,
                                          std::initializer_list<std::string_view> choices) {
  if (node.IsScalar() &&
      std::find(choices.begin(), choices.end(), node.Scalar()) != choices.end())
    return node.Scalar();
  error(node, std::string(what) + " must be " + join_choices(choices) + ", got " + describe(node));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> Reader::duration(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar())
    if (auto d = parse_duration(node.Scalar())) return d;
  error(node, std::string(what) + " must be a duration such as 500ms, 30s, 2m, 1h or 1d, got " +
                  describe(node));
  return std::nullopt;
}

std::optional<std::uint64_t> Reader::size(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar())
    if (auto s = parse_size(node.Scalar())) return s;
  error(node, std::string(what) + " must be a size such as 1048576, 512KiB, 64MiB or 1GiB, got " +
                  describe(node));
  return std::nullopt;
}

std::optional<std::vector<YAML::Node>> Reader::list(const YAML::Node& node, std::string_view what) {
  if (!node.IsSequence()) {
    error(node, std::string(what) + " must be a list, got " + describe(node));
    return std::nullopt;
  }
  std::vector<YAML::Node> items;
  for (const auto& item : node) items.push_back(item);
  return items;
}

namespace {

// Reads the leading decimal digits of `text` into `value`; false when none or on overflow.
bool take_number(std::string_view& text, std::uint64_t& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return false;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return true;
}

bool multiply(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  if (b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b) return false;
  out = a * b;
  return true;
}

} // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  constexpr std::uint64_t k_limit = std::uint64_t{1} << 53;  // far beyond any sensible duration
  std::uint64_t total = 0;
  while (!text.empty()) {
    std::uint64_t n = 0;
    if (!take_number(text, n)) return std::nullopt;
    std::uint64_t unit = 0;
    if (text.starts_with("ms")) {
      unit = 1;
      text.remove_prefix(2);
    } else if (!text.empty()) {
      switch (text[0]) {
      case 's': unit = 1000; break;
      case 'm': unit = 60'000; break;
      case 'h': unit = 3'600'000; break;
      case 'd': unit = 86'400'000; break;
      default: return std::nullopt;
      }
      text.remove_prefix(1);
    } else {
      return std::nullopt;  // a unit is required
    }
    std::uint64_t part = 0;
    if (!multiply(n, unit, part) || part > k_limit || total + part > k_limit) return std::nullopt;
    total += part;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(total));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t n = 0;
  if (!take_number(text, n)) return std::nullopt;
  static const std::pair<std::string_view, std::uint64_t> k_units[] = {
      {"", 1},          {"B", 1},           {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30},
      {"TiB", 1ull << 40}, {"KB", 1000},    {"MB", 1'000'000},   {"GB", 1'000'000'000}};
  for (const auto& [name, factor] : k_units) {
    if (text == name) {
      std::uint64_t out = 0;
      if (!multiply(n, factor, out)) return std::nullopt;
      return out;
    }
  }
  return std::nullopt;
}

} // namespace h2r::yaml

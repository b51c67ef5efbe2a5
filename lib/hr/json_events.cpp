#include "hr/json_events.hpp"

#include "hr/event_validation.hpp"
#include "hr/text_checks.hpp"

#include <nlohmann/json.hpp>

#include <set>
#include <string>

namespace h2r::hr_detail {
namespace {

using nlohmann::json;

std::string syntax_message(std::string message) {
  // "[json.exception.parse_error.101] parse error at line 1, column 5: ..." → "parse error at ..."
  if (auto close = message.find("] "); message.rfind("[json.exception", 0) == 0 && close != std::string::npos)
    message.erase(0, close + 2);
  return "not valid JSON: " + message;
}

// Parses one JSON text whose depth was already checked. Duplicate keys inside one object are
// reported (nlohmann would silently keep the last). `fixed_record` > 0 numbers the only record
// (NDJSON); otherwise records are the top-level object (1) or the top-level array's elements.
// Parses `text`, naming each duplicate key (at its object's record) in `problems`: the slow way, with a
// set of keys per object. Used when the quick pass below saw a duplicate.
std::optional<json> parse_json_naming_duplicates(std::string_view text, int fixed_record, int line,
                                                 std::vector<FileProblem>& problems) {
  std::vector<std::set<std::string>> keys;
  int record = fixed_record;
  bool top_array = false;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
    case json::parse_event_t::array_start:
      if (depth == 0) top_array = true;
      break;
    case json::parse_event_t::object_start:
      if (fixed_record == 0 && ((depth == 0 && !top_array) || (depth == 1 && top_array))) ++record;
      keys.emplace_back();
      break;
    case json::parse_event_t::key:
      if (!keys.empty() && parsed.is_string() && !keys.back().insert(parsed.get<std::string>()).second)
        add_problem(problems, {record, line, parsed.get<std::string>(), "duplicate key"});
      break;
    case json::parse_event_t::object_end:
      if (!keys.empty()) keys.pop_back();
      break;
    default:
      break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {
    add_problem(problems, {fixed_record, line, "", syntax_message(e.what())});
    return std::nullopt;
  }
}

// SAX events of one JSON text: records numbered and duplicate keys named as the callback of
// parse_json_naming_duplicates does, with a set of keys per open object and nothing else kept.
class NamingSax {
public:
  NamingSax(int fixed_record, int line, JsonScan& out) : m_record(fixed_record), m_fixed(fixed_record), m_line(line), m_out(out) {}

  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(json::number_integer_t) { return value(); }
  bool number_unsigned(json::number_unsigned_t) { return value(); }
  bool number_float(json::number_float_t, const std::string&) { return value(); }
  bool string(std::string&) { return value(); }
  bool binary(json::binary_t&) { return value(); }
  bool start_object(std::size_t) {
    if (m_fixed == 0 && ((m_depth == 0 && !m_out.top_array) || (m_depth == 1 && m_out.top_array))) ++m_record;
    value();
    m_keys.emplace_back();
    return enter();
  }
  bool key(std::string& key) {
    if (!m_keys.empty() && !m_keys.back().insert(key).second)
      add_problem(m_out.problems, {m_record, m_line, key, "duplicate key"});
    return true;
  }
  bool end_object() {
    if (!m_keys.empty()) m_keys.pop_back();
    --m_depth;
    return true;
  }
  bool start_array(std::size_t) {
    if (m_depth == 0) m_out.top_array = true;
    else value();
    return enter();
  }
  bool end_array() {
    --m_depth;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    m_out.syntax_error = true;
    add_problem(m_out.problems, {m_fixed, m_line, "", syntax_message(e.what())});
    return false;
  }

private:
  bool value() {
    if (m_depth == 1 && m_out.top_array) ++m_out.top_elements;
    return true;
  }
  bool enter() {
    if (++m_depth <= k_max_json_depth) return true;
    m_out.too_deep = true; // stop: the whole-file reader reports it (a hostile file nests millions deep)
    return false;
  }

  int m_record;
  int m_fixed;
  int m_line;
  JsonScan& m_out;
  int m_depth = 0;
  std::vector<std::set<std::string>> m_keys;
};

// The quick pass (every record goes through it): keys are only counted per object; an object that ends
// with fewer members than keys read had a duplicate. Only then is the text parsed again the slow way; on
// a syntax error a SAX pass that builds nothing names the duplicate keys before it and words the error,
// as the slow way would.
std::optional<json> parse_json_text(std::string_view text, int fixed_record, int line,
                                    std::vector<FileProblem>& problems) {
  std::vector<std::size_t> counts;
  bool duplicate = false;
  auto callback = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
    case json::parse_event_t::object_start:
      counts.push_back(0);
      break;
    case json::parse_event_t::key:
      if (!counts.empty()) ++counts.back();
      break;
    case json::parse_event_t::object_end:
      if (!counts.empty()) {
        duplicate = duplicate || parsed.size() != counts.back();
        counts.pop_back();
      }
      break;
    default:
      break;
    }
    return true;
  };
  try {
    auto doc = json::parse(text.begin(), text.end(), callback);
    if (!duplicate) return doc;
  } catch (const json::exception&) {
    for (auto& p : scan_json_text(text, fixed_record, line).problems) add_problem(problems, std::move(p));
    return std::nullopt;
  }
  return parse_json_naming_duplicates(text, fixed_record, line, problems);
}

bool too_deep(std::string_view text, int record, int line, std::vector<FileProblem>& problems) {
  if (auto at = find_excess_json_depth(text, k_max_json_depth)) {
    const int at_line = line > 0 ? line : line_at(text, *at);
    add_problem(problems, {record, at_line, "",
                           "JSON nested deeper than " + std::to_string(k_max_json_depth) + " levels"});
    return true;
  }
  return false;
}

} // namespace

JsonScan scan_json_text(std::string_view text, int fixed_record, int line) {
  JsonScan out;
  NamingSax sax(fixed_record, line, out);
  json::sax_parse(text.begin(), text.end(), &sax);
  return out;
}

JsonScan scan_json_stream(std::istream& in) {
  JsonScan out;
  NamingSax sax(0, 0, out);
  json::sax_parse(in, &sax);
  return out;
}

ParsedFile parse_json_events(std::string_view content, const DateReading& dates) {
  ParsedFile out;
  if (too_deep(content, 0, 0, out.problems)) return out;
  auto doc = parse_json_text(content, 0, 0, out.problems);
  if (!doc) return out;
  if (doc->is_array()) {
    if (doc->size() > k_max_records_per_file) {
      add_problem(out.problems, {0, 0, "", "more than " + std::to_string(k_max_records_per_file) + " events"});
      return out;
    }
    int record = 0;
    for (const auto& element : *doc) {
      if (auto event = validate_event_record(element, ++record, 0, out.problems, dates))
        out.events.push_back(std::move(*event));
      if (out.problems.size() > k_max_problems_listed) break;
    }
  } else if (doc->is_object()) {
    if (auto event = validate_event_record(*doc, 1, 0, out.problems, dates)) out.events.push_back(std::move(*event));
  } else {
    add_problem(out.problems, {0, 0, "", "a JSON event file holds one event object or an array of them"});
  }
  return out;
}

std::optional<HrEvent> read_ndjson_record(std::string_view text, int record, int line,
                                          std::vector<FileProblem>& problems, const DateReading& dates) {
  if (too_deep(text, record, line, problems)) return std::nullopt;
  auto doc = parse_json_text(text, record, line, problems);
  if (!doc) return std::nullopt;
  return validate_event_record(*doc, record, line, problems, dates);
}

std::optional<HrEvent> read_json_element(std::string_view text, int record, std::vector<FileProblem>& problems,
                                         bool& read_whole, const DateReading& dates) {
  std::vector<FileProblem> found;
  auto doc = parse_json_text(text, record, 0, found);
  if (!doc || !doc->is_object()) { // the whole-file reader numbers and words these
    read_whole = true;
    return std::nullopt;
  }
  for (auto& p : found) add_problem(problems, std::move(p));
  return validate_event_record(*doc, record, 0, problems, dates);
}

ParsedFile parse_ndjson_events(std::string_view content, const DateReading& dates) {
  ParsedFile out;
  int line = 0;
  int record = 0;
  std::size_t pos = 0;
  while (pos < content.size()) {
    auto end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view text = content.substr(pos, end - pos);
    pos = end + 1;
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) continue; // blank line
    if (static_cast<std::size_t>(++record) > k_max_records_per_file) {
      add_problem(out.problems, {0, 0, "", "more than " + std::to_string(k_max_records_per_file) + " events"});
      break;
    }
    if (auto event = read_ndjson_record(text, record, line, out.problems, dates)) out.events.push_back(std::move(*event));
    if (out.problems.size() > k_max_problems_listed) break;
  }
  return out;
}

} // namespace h2r::hr_detail

#include "hr/csv_header.hpp"

#include "core/text.hpp"
#include "hr/csv.hpp"
#include "hr/text_checks.hpp"

#include <algorithm>
#include <set>

namespace h2r::hr_detail {
namespace {

constexpr std::string_view k_required[] = {"employee_id", "event_id", "type"};
constexpr std::string_view k_event_columns[] = {"event_id", "type", "effective_date", "leave_type"};
// The employee fields of h2r-events(5)'s example record: names a spreadsheet header may spell differently.
constexpr std::string_view k_known_fields[] = {
    "event_id",   "type",      "effective_date", "leave_type",    "employee_id",     "first_name",
    "last_name",  "email",     "department",     "job_title",     "location",        "manager_email",
    "employment_type", "cost_center", "phone"};
constexpr std::size_t k_sniff_rows = 64; // rows tokenized per candidate separator to find the header

std::string_view trim_blanks(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::string without_underscores(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  return s;
}

// Columns of the header row (cells after the last non-blank one do not count) and how many of the
// required fields they name.
std::pair<std::size_t, std::size_t> header_fit(const std::vector<std::string>& cells) {
  std::size_t columns = cells.size();
  while (columns > 0 && trim_blanks(cells[columns - 1]).empty()) --columns;
  std::set<std::string> fields;
  for (std::size_t c = 0; c < columns; ++c)
    if (auto field = known_field_for_column(cells[c])) fields.insert(*field);
  std::size_t required = 0;
  for (auto r : k_required) required += fields.count(std::string(r));
  return {required, columns};
}

// The header name most likely meant for the missing `required` field, or "" when none is close:
// a small edit distance ("EmployeID"), or the field as a whole word of the name ("Event Type").
std::string near_match(std::string_view required, const std::vector<std::string>& names,
                       const std::vector<std::string>& fields) {
  const std::string want = without_underscores(std::string(required));
  const std::size_t limit = std::max<std::size_t>(1, required.size() / 4);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (std::size_t c = 0; c < names.size(); ++c) {
    if (names[c].empty() || known_field_for_column(fields[c])) continue; // already means a known field
    const std::string normalized = normalize_column_name(names[c]);
    std::size_t distance = edit_distance(without_underscores(normalized), want);
    if (distance > limit && ("_" + normalized + "_").find("_" + std::string(required) + "_") != std::string::npos)
      distance = limit;
    if (distance < best_distance) {
      best_distance = distance;
      best = names[c];
    }
  }
  return best;
}

} // namespace

std::string delimiter_name(char delimiter) {
  return delimiter == '\t' ? "tab" : "'" + std::string(1, delimiter) + "'";
}

char sniff_csv_delimiter(std::string_view content) {
  char best = ',';
  std::pair<std::size_t, std::size_t> best_fit{0, 0};
  for (char delimiter : k_csv_delimiters) {
    const CsvTable table = tokenize_csv(content, k_sniff_rows, delimiter);
    auto header = std::find_if(table.rows.begin(), table.rows.end(),
                               [](const CsvRow& row) { return !is_blank_row(row.cells); });
    if (header == table.rows.end()) continue;
    const auto fit = header_fit(header->cells);
    if (fit > best_fit) {
      best_fit = fit;
      best = delimiter;
    }
  }
  return best;
}

std::string normalize_column_name(std::string_view name) {
  name = trim_blanks(name);
  std::string out;
  out.reserve(name.size());
  for (char ch : name) {
    if (ch == ' ' || ch == '-' || ch == '_' || ch == '\t') {
      if (out.empty() || out.back() != '_') out += '_';
    } else {
      out += (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
    }
  }
  return out;
}

std::optional<std::string> known_field_for_column(std::string_view name) {
  if (name.size() > k_max_field_name_bytes) return std::nullopt;
  const std::string normalized = normalize_column_name(name);
  const std::string bare = without_underscores(normalized);
  for (auto field : k_known_fields)
    if (normalized == field || bare == without_underscores(std::string(field))) return std::string(field);
  return std::nullopt;
}

bool is_event_column(std::string_view field) {
  return std::find(std::begin(k_event_columns), std::end(k_event_columns), field) != std::end(k_event_columns);
}

bool is_blank_row(const std::vector<std::string>& cells) {
  return std::all_of(cells.begin(), cells.end(), [](const std::string& c) { return trim_blanks(c).empty(); });
}

CsvHeader read_csv_header(const std::vector<std::string>& cells, int line, char delimiter,
                          std::vector<FileProblem>& problems) {
  CsvHeader header;
  std::size_t columns = cells.size();
  while (columns > 0 && trim_blanks(cells[columns - 1]).empty()) --columns;
  header.trailing_empty = cells.size() - columns;

  std::vector<std::string> names; // as written, trimmed
  std::string renamed;            // "'Employee ID' → 'employee_id', …"
  std::set<std::string> seen;
  std::size_t employee_columns = 0;
  for (std::size_t c = 0; c < columns; ++c) {
    std::string name(trim_blanks(cells[c]));
    std::string field = name;
    if (name.empty() || name.size() > k_max_field_name_bytes || has_control_char(name)) {
      add_problem(problems, {0, line, "", "header: column " + std::to_string(c + 1) + " name " +
                                              quote_for_report(name) + " is not 1 to " +
                                              std::to_string(k_max_field_name_bytes) +
                                              " bytes without control characters"});
    } else if (auto known = known_field_for_column(name)) {
      field = *known;
      if (field != name)
        renamed += (renamed.empty() ? "" : ", ") + quote_for_report(name) + " → " + quote_for_report(field);
    }
    if (!field.empty() && !seen.insert(field).second)
      add_problem(problems, {0, line, field, field == name ? "header: column appears twice"
                                                           : "header: column " + quote_for_report(name) +
                                                                 " names this field again"});
    if (!is_event_column(field)) ++employee_columns;
    names.push_back(std::move(name));
    header.fields.push_back(std::move(field));
  }

  if (!renamed.empty()) header.notes.push_back("header names read as: " + renamed);

  std::string missing;
  std::size_t found = 0;
  for (auto required : k_required) {
    if (seen.count(std::string(required))) {
      ++found;
      continue;
    }
    missing += std::string(missing.empty() ? "" : ", ") + std::string(required);
    if (auto near = near_match(required, names, header.fields); !near.empty())
      missing += " (did you mean " + quote_for_report(near) + "?)";
  }
  if (!missing.empty() && columns <= 1 && found == 0)
    add_problem(problems, {0, line, "", "header: no employee_id, event_id and type columns with ',', ';' or "
                                        "tab as the separator (the header reads " +
                                            quote_for_report(names.empty() ? "" : names.front(), 60) + ")"});
  else if (!missing.empty())
    add_problem(problems, {0, line, "", "header: missing required column(s): " + missing + " (columns separated by " +
                                            delimiter_name(delimiter) + ")"});
  if (employee_columns > k_max_fields_per_employee)
    add_problem(problems, {0, line, "", "header: more than " + std::to_string(k_max_fields_per_employee) +
                                            " employee columns"});
  return header;
}

} // namespace h2r::hr_detail

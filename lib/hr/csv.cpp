#include "hr/csv.hpp"

#include "hr/event_validation.hpp"
#include "hr/text_checks.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace h2r::hr_detail {

CsvTable tokenize_csv(std::string_view s, std::size_t max_rows) {
  CsvTable table;
  CsvRow row;
  std::string field;
  int line = 1;
  row.line = 1;
  bool row_has_content = false; // anything (even an empty quoted field or a comma) on this row
  std::size_t i = 0;
  const std::size_t n = s.size();

  auto end_row = [&] {
    if (row_has_content) {
      row.cells.push_back(std::move(field));
      table.rows.push_back(std::move(row));
    }
    row = CsvRow{};
    field.clear();
    row_has_content = false;
  };
  auto line_break_at = [&](std::size_t k) -> std::size_t { // length of a line break at k, 0 if none
    if (s[k] == '\r') return (k + 1 < n && s[k + 1] == '\n') ? 2 : 1;
    return s[k] == '\n' ? 1 : 0;
  };

  while (i < n) {
    if (!row_has_content) row.line = line;
    if (s[i] == '"') { // quoted field
      row_has_content = true;
      const int start_line = line;
      ++i;
      for (;;) {
        if (i >= n) {
          table.error = "unterminated quoted field (it starts on line " + std::to_string(start_line) + ")";
          table.error_line = start_line;
          return table;
        }
        if (s[i] == '"') {
          if (i + 1 < n && s[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (std::size_t br = line_break_at(i)) {
          field.append(s.substr(i, br));
          i += br;
          ++line;
          continue;
        }
        field += s[i++];
      }
      if (i < n && s[i] != ',' && line_break_at(i) == 0) {
        table.error = "unexpected character after a closing quote (a quote inside a quoted field is "
                      "written as \"\")";
        table.error_line = line;
        return table;
      }
      continue;
    }
    if (s[i] == ',') {
      row_has_content = true;
      row.cells.push_back(std::move(field));
      field.clear();
      ++i;
      continue;
    }
    if (std::size_t br = line_break_at(i)) {
      end_row();
      i += br;
      ++line;
      if (table.rows.size() > max_rows) return table;
      continue;
    }
    // Unquoted text up to the next comma or line break.
    row_has_content = true;
    const std::size_t start = i;
    while (i < n && s[i] != ',' && s[i] != '"' && line_break_at(i) == 0) ++i;
    field.append(s.substr(start, i - start));
    if (i < n && s[i] == '"') {
      table.error = "a quote inside an unquoted field (quote the whole field and double the quote)";
      table.error_line = line;
      return table;
    }
  }
  end_row();
  return table;
}

ParsedFile parse_csv_events(std::string_view content) {
  ParsedFile out;
  CsvTable table = tokenize_csv(content, k_max_records_per_file + 1);
  if (!table.error.empty()) {
    add_problem(out.problems, {0, table.error_line, "", table.error});
    return out;
  }
  if (table.rows.size() > k_max_records_per_file + 1) {
    add_problem(out.problems, {0, 0, "", "more than " + std::to_string(k_max_records_per_file) + " events"});
    return out;
  }
  if (table.rows.empty()) return out; // no header, no rows: no changes

  // Header: trimmed names; required, unique, sane columns.
  std::vector<std::string> header;
  std::set<std::string> seen;
  std::size_t employee_columns = 0;
  const int header_line = table.rows.front().line;
  for (auto name : table.rows.front().cells) {
    const auto first = name.find_first_not_of(" \t");
    const auto last = name.find_last_not_of(" \t");
    name = first == std::string::npos ? "" : name.substr(first, last - first + 1);
    if (name.empty() || name.size() > k_max_field_name_bytes || has_control_char(name))
      add_problem(out.problems, {0, header_line, "", "header: column name " + quote_for_report(name) +
                                                         " is not 1 to " + std::to_string(k_max_field_name_bytes) +
                                                         " bytes without control characters"});
    else if (!seen.insert(name).second)
      add_problem(out.problems, {0, header_line, name, "header: column appears twice"});
    if (name != "event_id" && name != "type" && name != "effective_date" && name != "leave_type")
      ++employee_columns;
    header.push_back(std::move(name));
  }
  std::string missing;
  for (const char* required : {"employee_id", "event_id", "type"})
    if (!seen.count(required)) missing += std::string(missing.empty() ? "" : ", ") + required;
  if (!missing.empty())
    add_problem(out.problems, {0, header_line, "", "header: missing required column(s): " + missing});
  if (employee_columns > k_max_fields_per_employee)
    add_problem(out.problems, {0, header_line, "", "header: more than " +
                                                       std::to_string(k_max_fields_per_employee) +
                                                       " employee columns"});
  if (!out.problems.empty()) return out;
  if (table.rows.size() == 1) return out; // only a header: no changes

  // Each row becomes the JSON shape of an event and is validated like one; an empty cell is absent.
  for (std::size_t r = 1; r < table.rows.size(); ++r) {
    const CsvRow& row = table.rows[r];
    const int record = static_cast<int>(r);
    if (row.cells.size() != header.size()) {
      add_problem(out.problems, {record, row.line, "", "has " + std::to_string(row.cells.size()) +
                                                           " fields, the header has " +
                                                           std::to_string(header.size())});
      continue;
    }
    nlohmann::json event = nlohmann::json::object();
    nlohmann::json employee = nlohmann::json::object();
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (row.cells[c].empty()) continue;
      const std::string& name = header[c];
      if (name == "event_id" || name == "type" || name == "effective_date" || name == "leave_type")
        event[name] = row.cells[c];
      else
        employee[name] = row.cells[c];
    }
    event["employee"] = std::move(employee);
    if (auto ev = validate_event_record(event, record, row.line, out.problems)) out.events.push_back(std::move(*ev));
    if (out.problems.size() > k_max_problems_listed) break;
  }
  return out;
}

} // namespace h2r::hr_detail

#include "hr/csv.hpp"

#include "hr/csv_header.hpp"
#include "hr/encoding.hpp"
#include "hr/event_validation.hpp"
#include "hr/text_checks.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace h2r::hr_detail {

CsvTable tokenize_csv(std::string_view s, std::size_t max_rows, char delimiter) {
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
      if (i < n && s[i] != delimiter && line_break_at(i) == 0) {
        table.error = "unexpected character after a closing quote (a quote inside a quoted field is "
                      "written as \"\")";
        table.error_line = line;
        return table;
      }
      continue;
    }
    if (s[i] == delimiter) {
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
    // Unquoted text up to the next separator or line break.
    row_has_content = true;
    const std::size_t start = i;
    while (i < n && s[i] != delimiter && s[i] != '"' && line_break_at(i) == 0) ++i;
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

std::size_t header_row_index(const CsvTable& table) {
  std::size_t first = 0;
  while (first + 1 < table.rows.size() && is_blank_row(table.rows[first].cells)) ++first;
  return first;
}

namespace {

// A data row's cells beyond the header's named columns must be empty (Excel's trailing ","); false
// when one holds a value, or the row has fewer cells than the header.
bool fits_header(const CsvRow& row, std::size_t columns) {
  if (row.cells.size() < columns) return false;
  for (std::size_t c = columns; c < row.cells.size(); ++c)
    if (row.cells[c].find_first_not_of(" \t") != std::string::npos) return false;
  return true;
}

} // namespace

ParsedFile parse_csv_events(std::string_view content, const DateReading& dates) {
  ParsedFile out;
  const char delimiter = sniff_csv_delimiter(content);
  CsvTable table = tokenize_csv(content, k_max_records_per_file + 1, delimiter);
  if (!table.error.empty()) {
    add_problem(out.problems, {0, table.error_line, "", table.error});
    return out;
  }
  if (table.rows.size() > k_max_records_per_file + 1) {
    add_problem(out.problems, {0, 0, "", "more than " + std::to_string(k_max_records_per_file) + " events"});
    return out;
  }
  if (table.rows.empty()) return out; // no header, no rows: no changes

  const std::size_t header_row = header_row_index(table);
  CsvHeader header_info = read_csv_header(table.rows[header_row].cells, table.rows[header_row].line, delimiter,
                                          out.problems);
  const std::vector<std::string>& header = header_info.fields;
  if (!out.problems.empty()) return out;
  if (table.rows.size() == 1) return out; // only a header: no changes

  // Each row becomes the JSON shape of an event and is validated like one; an empty cell is absent.
  // Empty rows (",,,," or only blanks) are skipped and not counted as records.
  int record = 0;
  std::size_t blank_rows = 0;
  for (std::size_t r = header_row + 1; r < table.rows.size(); ++r) {
    const CsvRow& row = table.rows[r];
    if (is_blank_row(row.cells)) {
      ++blank_rows;
      continue;
    }
    ++record;
    if (auto ev = csv_row_event(row, header, record, out.problems, dates)) out.events.push_back(std::move(*ev));
    if (out.problems.size() > k_max_problems_listed) break;
  }
  out.notes = csv_notes(delimiter, header_info, blank_rows);
  return out;
}

std::optional<HrEvent> csv_row_event(const CsvRow& row, const std::vector<std::string>& header, int record,
                                     std::vector<FileProblem>& problems, const DateReading& dates) {
  if (!fits_header(row, header.size())) {
    add_problem(problems, {record, row.line, "", "has " + std::to_string(row.cells.size()) +
                                                     " fields, the header has " + std::to_string(header.size()) +
                                                     (row.cells.size() > header.size()
                                                          ? " (a value stands in a column without a name)"
                                                          : "")});
    return std::nullopt;
  }
  nlohmann::json event = nlohmann::json::object();
  nlohmann::json employee = nlohmann::json::object();
  for (std::size_t c = 0; c < header.size(); ++c) {
    if (row.cells[c].empty()) continue;
    const std::string& name = header[c];
    if (is_event_column(name))
      event[name] = row.cells[c];
    else
      employee[name] = row.cells[c];
  }
  event["employee"] = std::move(employee);
  return validate_event_record(event, record, row.line, problems, dates);
}

std::vector<std::string> csv_notes(char delimiter, CsvHeader& header, std::size_t blank_rows) {
  // How the file was read, for the log and `plan`: what a person might not expect.
  std::vector<std::string> notes;
  if (delimiter != ',') notes.push_back("columns separated by " + delimiter_name(delimiter));
  for (auto& note : header.notes) notes.push_back(std::move(note));
  if (header.trailing_empty > 0)
    notes.push_back(std::to_string(header.trailing_empty) + " empty column(s) at the end of the header ignored");
  if (blank_rows > 0) notes.push_back(std::to_string(blank_rows) + " empty row(s) skipped");
  return notes;
}

std::optional<FileProblem> locate_invalid_utf8_in_csv(std::string_view content) {
  const char delimiter = sniff_csv_delimiter(content);
  const CsvTable table = tokenize_csv(content, k_max_records_per_file + 1, delimiter);
  if (table.rows.empty()) return std::nullopt;
  const std::size_t header_row = header_row_index(table);
  const CsvRow& header_cells = table.rows[header_row];
  for (std::size_t r = 0; r <= header_row; ++r)
    for (const auto& cell : table.rows[r].cells)
      if (auto bad = find_invalid_utf8(cell))
        return FileProblem{0, table.rows[r].line, "",
                           "header: invalid UTF-8 in column name " + excerpt_around(cell, *bad)};
  std::vector<FileProblem> ignored;
  const CsvHeader header = read_csv_header(header_cells.cells, header_cells.line, delimiter, ignored);
  int record = 0;
  for (std::size_t r = header_row + 1; r < table.rows.size(); ++r) {
    const CsvRow& row = table.rows[r];
    if (is_blank_row(row.cells)) continue;
    ++record;
    for (std::size_t c = 0; c < row.cells.size(); ++c) {
      if (auto bad = find_invalid_utf8(row.cells[c])) {
        std::string column = c < header.fields.size() ? header.fields[c] : "";
        std::string where = column.empty() ? "column " + std::to_string(c + 1) + ": " : "";
        return FileProblem{record, row.line, std::move(column),
                           where + "invalid UTF-8 in " + excerpt_around(row.cells[c], *bad)};
      }
    }
  }
  return std::nullopt;
}

} // namespace h2r::hr_detail

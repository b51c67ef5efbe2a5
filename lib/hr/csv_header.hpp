// The header row of a CSV event file as spreadsheets write it (internal to lib/hr): which separator
// the file uses, which column fills which field, and a near match when a required column is missing.
#pragma once

#include "hr/readers.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace h2r::hr_detail {

// The separators a CSV event file may use: comma, semicolon (European Excel), tab ("Unicode Text").
inline constexpr char k_csv_delimiters[] = {',', ';', '\t'};

// "','", "';'" or "tab", for messages.
std::string delimiter_name(char delimiter);

// The separator that splits the header (the first row with text) into columns holding the most of
// employee_id, event_id and type, then into the most columns; quoted fields are respected. ',' when
// none splits it.
char sniff_csv_delimiter(std::string_view content);

// `name` without surrounding spaces and tabs, ASCII lower-case, each run of ' ', '-' and '_' as one
// '_': "Employee ID", "employee-id" and " EMPLOYEE_ID " all give "employee_id".
std::string normalize_column_name(std::string_view name);

// The field of h2r-events(5) a column name means ("Employee ID", "EmployeeID", "employee-id" →
// "employee_id"), or nullopt for a column of the file's own.
std::optional<std::string> known_field_for_column(std::string_view name);

// event_id, type, effective_date, leave_type: columns that are event fields, not employee fields.
bool is_event_column(std::string_view field);

// True when every cell is empty or only spaces and tabs (a spreadsheet's empty row: ",,,,").
bool is_blank_row(const std::vector<std::string>& cells);

struct CsvHeader {
  std::vector<std::string> fields;     // the field each column fills, in column order
  std::size_t trailing_empty = 0;      // empty columns after the last named one (dropped from `fields`)
  std::vector<std::string> notes;      // how names were read: "header names read as: 'Employee ID' → 'employee_id'"
};

// Reads the header row `cells` (found on `line`, split by `delimiter`). Problems — a bad or repeated
// name, a missing required column (with its near match: "did you mean 'EmployeID'?"), no separator
// that fits, too many columns — are appended to `problems`.
CsvHeader read_csv_header(const std::vector<std::string>& cells, int line, char delimiter,
                          std::vector<FileProblem>& problems);

} // namespace h2r::hr_detail

// RFC 4180 CSV: a tokenizer, and the CSV event reader built on it (internal to lib/hr; use
// parse_event_file in readers.hpp).
#pragma once

#include "hr/readers.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace h2r::hr_detail {

struct CsvRow {
  int line = 0;                   // 1-based line where the row starts (a quoted field may span lines)
  std::vector<std::string> cells; // unquoted values
};

struct CsvTable {
  std::vector<CsvRow> rows;       // the header row included; completely empty lines are skipped
  std::string error;              // non-empty: syntax error at `error_line`; rows then holds what came before
  int error_line = 0;
};

// Splits `content` into rows: fields separated by `delimiter`, records by CRLF, LF or a lone CR; a
// field in double quotes may hold separators, line breaks and doubled quotes (""). A quote inside an
// unquoted field, text after a closing quote and an unterminated quoted field are syntax errors. Stops
// after `max_rows` rows (then rows.size() == max_rows + 1 signals "more").
CsvTable tokenize_csv(std::string_view content, std::size_t max_rows, char delimiter = ',');

// `content` is valid UTF-8 without a byte-order mark and not blank (parse_event_file checks that).
// What spreadsheets write is read as meant: the separator is sniffed from the header (',', ';' or
// tab); header names are matched to the fields of h2r-events(5) ignoring case, spaces, '-' and '_'; empty
// columns at the end of the header (Excel's "a,b,c,") and their empty cells are ignored; empty rows
// (",,,," or blanks) are skipped. ParsedFile::notes says which of these happened.
// `dates`: how effective dates are read (validate_event_record).
ParsedFile parse_csv_events(std::string_view content, const DateReading& dates);

struct CsvHeader;

// Index of the header row: the first row with text (a spreadsheet may start with empty rows). When
// every row is blank, the last one (whose header problems then say what is missing).
std::size_t header_row_index(const CsvTable& table);

// One data row that is not blank (record = its 1-based number among those): its event, or its
// problems appended. The row's cells beyond the header's columns must be empty.
std::optional<HrEvent> csv_row_event(const CsvRow& row, const std::vector<std::string>& header, int record,
                                     std::vector<FileProblem>& problems, const DateReading& dates);

// What parse_csv_events says about how it read a file (ParsedFile::notes); moves header.notes.
std::vector<std::string> csv_notes(char delimiter, CsvHeader& header, std::size_t blank_rows);

// For a CSV file that is not valid UTF-8: the first cell holding a bad byte, as a problem naming its
// record, line and column, with the value and the bad byte shown ('Jos\xE9'). nullopt when the file
// cannot be split into cells up to that point.
std::optional<FileProblem> locate_invalid_utf8_in_csv(std::string_view content);

} // namespace h2r::hr_detail

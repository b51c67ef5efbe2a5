// RFC 4180 CSV: a tokenizer, and the CSV event reader built on it (internal to lib/hr; use
// parse_event_file in readers.hpp).
#pragma once

#include "hr/readers.hpp"

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

// Splits `content` into rows: fields separated by ',', records by CRLF, LF or a lone CR; a field in
// double quotes may hold commas, line breaks and doubled quotes (""). A quote inside an unquoted field,
// text after a closing quote and an unterminated quoted field are syntax errors. Stops after
// `max_rows` rows (then rows.size() == max_rows + 1 signals "more").
CsvTable tokenize_csv(std::string_view content, std::size_t max_rows);

// `content` is valid UTF-8 without a byte-order mark and not blank (parse_event_file checks that).
ParsedFile parse_csv_events(std::string_view content);

} // namespace h2r::hr_detail

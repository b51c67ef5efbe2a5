// Event file readers: the bytes of one HR event file (JSON, NDJSON/JSONL or CSV) become HrEvents, or a
// list of every problem found in it. A file is taken whole or not at all (docs/man/h2r-events.5).
#pragma once

#include "core/spreadsheet_dates.hpp"
#include "hr/event.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace h2r {

// Limits on what one file may hold. Anything above them is a problem that rejects the file.
inline constexpr std::size_t k_max_event_id_bytes = 200;
inline constexpr std::size_t k_max_employee_id_bytes = 200;
inline constexpr std::size_t k_max_field_name_bytes = 100;
inline constexpr std::size_t k_max_field_value_bytes = 4096;
inline constexpr std::size_t k_max_fields_per_employee = 200;
inline constexpr std::size_t k_max_records_per_file = 1'000'000;
inline constexpr int k_max_json_depth = 16;          // nesting of arrays/objects; an event needs 3
inline constexpr std::size_t k_max_problems_listed = 1000; // a report stops after this many problems

// One thing wrong with a file. record/line are 1-based; 0 means "not about one record" / "unknown".
struct FileProblem {
  int record = 0;
  int line = 0;
  std::string field;   // the field or key at fault, empty when the problem is not about one field
  std::string message; // one sentence; never echoes more than a short, escaped piece of the input

  // "record 3 (line 7): field 'email': not a plausible e-mail address"; parts that are unknown are left
  // out ("line 4: unterminated quoted field", "file is empty").
  std::string to_string() const;
};

// What a file holds: its events in file order, or (problems non-empty) a reason to reject it whole.
// When problems is non-empty, events must be ignored.
struct ParsedFile {
  std::vector<HrEvent> events;
  std::vector<FileProblem> problems;
  std::vector<std::string> notes; // how the file was read, when a person may not expect it (CSV: the
                                  // separator, header names matched, empty rows and columns ignored)
};

enum class FileFormat { json, ndjson, csv };

// The format a file name's extension says: .json, .ndjson/.jsonl, .csv (case-insensitive); nullopt for
// anything else.
std::optional<FileFormat> format_for_name(std::string_view file_name);

// "accepted: .json, .ndjson, .jsonl, .csv" — for reports about files of unknown extension.
std::string_view accepted_extensions();

// Parses and validates a whole file. Never throws for any input; a UTF-8 byte-order mark is skipped,
// UTF-16 with a byte-order mark is decoded; other bytes that are not UTF-8 are a problem naming where.
// - json: one event object or an array of them; HrEvent::line is 0.
// - ndjson: one event object per line; blank lines are allowed; HrEvent::line is the line.
// - csv: RFC 4180 with a header row (CRLF or LF line ends; ',', ';' or tab between fields, and other
//   spreadsheet habits: see parse_csv_events in csv.hpp); `employee_id`, `event_id` and `type` columns
//   are required; `effective_date` and `leave_type` are event fields, every other column an employee
//   field. An EMPTY CELL MEANS "ABSENT" (the field keeps its last value; CSV cannot clear a field).
//   Lines that are completely empty are skipped. HrEvent::line is the line where the record starts.
// Every problem is collected (up to k_max_problems_listed), not just the first. An export with no
// changes is fine and has no events: `[]`, an NDJSON or CSV file that is empty or only blank lines,
// a CSV file with only its header. An empty .json file (zero bytes or only blanks) is a problem:
// it is not JSON. `dates` says how effective dates are read (inbox.date_order, inbox.excel_serial_dates:
// core/spreadsheet_dates.hpp; the default reads ISO only); events hold them as ISO.
ParsedFile parse_event_file(FileFormat format, std::string_view content, const DateReading& dates = {});

} // namespace h2r

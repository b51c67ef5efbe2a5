// JSON and NDJSON event readers (internal to lib/hr; use parse_event_file in readers.hpp).
#pragma once

#include "hr/readers.hpp"

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string_view>
#include <vector>

namespace h2r::hr_detail {

// `content` is valid UTF-8 without a byte-order mark and not blank (parse_event_file checks that).
// `dates`: how effective dates are read (validate_event_record).
ParsedFile parse_json_events(std::string_view content, const DateReading& dates);
ParsedFile parse_ndjson_events(std::string_view content, const DateReading& dates);

// One NDJSON line that is not blank (valid UTF-8 without NUL): its event, or its problems appended.
std::optional<HrEvent> read_ndjson_record(std::string_view text, int record, int line,
                                          std::vector<FileProblem>& problems, const DateReading& dates);

// One element of a JSON array file, as text (record = its 1-based index): its event, or its problems
// appended. Sets `read_whole` (and appends nothing) when the element is not JSON or not an object:
// parse_json_events on the whole file words that as it must be (numbering, positions).
std::optional<HrEvent> read_json_element(std::string_view text, int record, std::vector<FileProblem>& problems,
                                         bool& read_whole, const DateReading& dates);

// What one SAX pass over a JSON text finds without building it in memory (scan_json_text,
// scan_json_stream): the duplicate keys, named as the whole-file reader names them, then the syntax
// error if any, as the whole-file reader words it; the number of elements of a top-level array.
struct JsonScan {
  std::vector<FileProblem> problems;
  bool syntax_error = false;      // its problem is the last in `problems` (unless the list was cut)
  bool too_deep = false;          // nested deeper than k_max_json_depth: the scan stopped there
  bool top_array = false;
  std::size_t top_elements = 0;   // of the top-level array
};

// `fixed_record` > 0 numbers the only record (NDJSON); otherwise records are the top-level object
// (1) or the top-level array's elements. `line` goes into every problem (0: none).
JsonScan scan_json_text(std::string_view text, int fixed_record, int line);
// The same over a stream read to its end or to the first syntax error (records numbered as for a
// whole file).
JsonScan scan_json_stream(std::istream& in);

} // namespace h2r::hr_detail

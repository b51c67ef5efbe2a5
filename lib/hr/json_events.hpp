// JSON and NDJSON event readers (internal to lib/hr; use parse_event_file in readers.hpp).
#pragma once

#include "hr/readers.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace h2r::hr_detail {

// `content` is valid UTF-8 without a byte-order mark and not blank (parse_event_file checks that).
ParsedFile parse_json_events(std::string_view content);
ParsedFile parse_ndjson_events(std::string_view content);

// One NDJSON line that is not blank (valid UTF-8 without NUL): its event, or its problems appended.
std::optional<HrEvent> read_ndjson_record(std::string_view text, int record, int line,
                                          std::vector<FileProblem>& problems);

// One element of a JSON array file, as text (record = its 1-based index): its event, or its problems
// appended. Sets `read_whole` (and appends nothing) when the element is not JSON or not an object:
// parse_json_events on the whole file words that as it must be (numbering, positions).
std::optional<HrEvent> read_json_element(std::string_view text, int record, std::vector<FileProblem>& problems,
                                         bool& read_whole);

} // namespace h2r::hr_detail

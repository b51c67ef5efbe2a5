// JSON and NDJSON event readers (internal to lib/hr; use parse_event_file in readers.hpp).
#pragma once

#include "hr/readers.hpp"

#include <string_view>

namespace h2r::hr_detail {

// `content` is valid UTF-8 without a byte-order mark and not blank (parse_event_file checks that).
ParsedFile parse_json_events(std::string_view content);
ParsedFile parse_ndjson_events(std::string_view content);

} // namespace h2r::hr_detail

// One event record (as JSON) → HrEvent, with every problem it has (internal to lib/hr).
#pragma once

#include "hr/readers.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace h2r::hr_detail {

// something@domain.tld: one '@', non-empty local part, a dotted domain without empty labels, no
// whitespace or control characters, at most 254 bytes.
bool is_plausible_email(std::string_view text);

// Validates one record (`record`/`line` as in FileProblem) and appends its problems to `problems`.
// Returns the event only when the record has no problem. The CSV reader builds the same JSON shape
// from a row, so both formats are validated by this one function. `dates` says how effective_date
// is read (inbox.date_order, inbox.excel_serial_dates); the event holds it as ISO.
std::optional<HrEvent> validate_event_record(const nlohmann::json& record_json, int record, int line,
                                             std::vector<FileProblem>& problems, const DateReading& dates);

// Adds a problem for the second and later occurrences of an event_id among `events`.
void check_duplicate_event_ids(const std::vector<HrEvent>& events, std::vector<FileProblem>& problems);

} // namespace h2r::hr_detail

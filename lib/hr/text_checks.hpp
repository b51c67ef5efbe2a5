// Byte-level checks shared by the event readers (internal to lib/hr).
#pragma once

#include "core/utf8.hpp"
#include "hr/readers.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace h2r::hr_detail {

// The UTF-8 checks live in core (the JSON writer uses them too).
using h2r::find_invalid_utf8;
using h2r::utf8_sequence_length;

// 1-based line number of byte `offset` in `text`.
int line_at(std::string_view text, std::size_t offset);

// Offset where arrays/objects in the JSON `text` first nest deeper than `max_depth`, or nullopt.
// Iterative, respects strings and escapes; does not otherwise validate the JSON.
std::optional<std::size_t> find_excess_json_depth(std::string_view text, int max_depth);

// `text` for a report: at most `max_bytes` (cut on a UTF-8 boundary, "…" appended), control
// characters, quotes and backslashes escaped, in single quotes.
std::string quote_for_report(std::string_view text, std::size_t max_bytes = 40);

// True when `text` holds a control character (U+0000–U+001F, U+007F).
bool has_control_char(std::string_view text);

// Appends `problem` unless k_max_problems_listed are already listed; the first problem over the limit
// is replaced by one saying the list was cut. Returns false once the list is full (callers may stop).
bool add_problem(std::vector<FileProblem>& problems, FileProblem problem);

} // namespace h2r::hr_detail

// Reading the flat JSON objects the store keeps in text columns (events.fields, employees.record)
// straight into their maps, without building a JSON document first (SAX). The same parser as
// nlohmann::json::parse, so what it accepts and how it decodes escapes do not change.
#pragma once

#include "hr/event.hpp"

#include <string_view>

namespace h2r {

// `text` must be one JSON object whose values are strings or null; false (and `out` partly filled)
// otherwise. A repeated key keeps its last value (but, unlike a check of the parsed document, a value
// that is no string is refused even when a repeat of its key replaces it). `out` must be empty. Plain ASCII text without escapes
// is read by a short loop of its own, anything else by nlohmann's SAX parser.
bool parse_flat_object(std::string_view text, FieldPatch& out);
// The same with string values only (null is refused too).
bool parse_flat_object(std::string_view text, EmployeeRecord& out);

// The JSON text nlohmann::json's dump(-1, ' ', false, error_handler_t::replace) gives for the map as an
// object (null for an empty optional), byte for byte (core/json_text.hpp's json_flat_object).
std::string dump_flat_object(const FieldPatch& fields);
std::string dump_flat_object(const EmployeeRecord& record);

} // namespace h2r

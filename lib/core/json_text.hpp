// JSON text written directly, byte for byte as nlohmann's dump() writes it, for hot paths where building
// a document only to dump it costs more than the work around it (ingest, outcomes).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace h2r {

// Appends `text` as a JSON string, as nlohmann's dump() with ensure_ascii = false and
// error_handler_t::replace writes it: `"` and `\` escaped, \b \f \n \r \t by name, the other control
// characters as \u00xx, everything else byte for byte; text that is not valid UTF-8 is written by
// nlohmann itself (each bad sequence replaced by U+FFFD), so the bytes are the same in every case.
void append_json_string(std::string& out, std::string_view text);

// The inside of a JSON string (no quotes): `"` `\` and the control characters escaped as above, every
// other byte as it is, also bytes that are not UTF-8 (for text already known to be valid, or where the
// bytes must be kept as they are).
void append_json_escaped(std::string& out, std::string_view text);

namespace json_text_detail {
inline const std::string* value_of(const std::string& value) { return &value; }
inline const std::string* value_of(const std::optional<std::string>& value) { return value ? &*value : nullptr; }
} // namespace json_text_detail

// A map of text (or optional text: null when empty) as one JSON object, keys in the map's order — the
// bytes nlohmann's dump (replace) gives for the same object built from a std::map.
template <class Map>
std::string json_flat_object(const Map& map) {
  std::string out;
  out.reserve(16 + 32 * map.size());
  out += '{';
  for (const auto& [name, value] : map) {
    if (out.size() > 1) out += ',';
    append_json_string(out, name);
    out += ':';
    if (const std::string* text = json_text_detail::value_of(value)) append_json_string(out, *text);
    else out += "null";
  }
  out += '}';
  return out;
}

} // namespace h2r

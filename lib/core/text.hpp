// Small text helpers shared across modules.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace h2r {

// `s` with A–Z turned into a–z; every other byte unchanged (HTTP header names, e-mail userNames).
std::string ascii_lower(std::string s);

// Lower-case hex SHA-256 of `bytes` (64 characters), or "" if OpenSSL fails.
std::string sha256_hex(std::string_view bytes);

inline constexpr std::size_t k_log_value_max_bytes = 300;

// The one way untrusted text (file names, field values, HR ids, server error text) goes into a log
// line or a report line, so it can never start a line of its own nor fake one: at most `max_bytes`
// of `text` (cut on a UTF-8 boundary, "…" appended when cut); C0 and C1 controls, DEL and bytes that
// are not valid UTF-8 as \xNN; U+2028, U+2029 and the bidirectional controls (U+200E/F,
// U+202A–U+202E, U+2066–U+2069) as \u{XXXX}; a backslash and each character in `quotes` preceded
// by a backslash. Pass quotes = "" for report lines that are not inside quotes.
std::string escape_for_log(std::string_view text, std::size_t max_bytes = k_log_value_max_bytes,
                           std::string_view quotes = "\"");

// At most `max_bytes` of `text`, cut on a UTF-8 boundary with "…" appended when cut (the result may
// be up to 3 bytes longer than max_bytes).
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

} // namespace h2r

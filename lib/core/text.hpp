// Small text helpers shared across modules.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
// by a backslash. Pass quotes = "" for report lines that are not inside quotes, and
// escape_backslash = false for text that is already escaped where it quotes input (a report's problem
// lines: a backslash there cannot start a line, and doubling it would garble 'Jos\xE9').
std::string escape_for_log(std::string_view text, std::size_t max_bytes = k_log_value_max_bytes,
                           std::string_view quotes = "\"", bool escape_backslash = true);

// At most `max_bytes` of `text`, cut on a UTF-8 boundary with "…" appended when cut (the result may
// be up to 3 bytes longer than max_bytes).
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

// Edits (insert, delete, replace one byte, or swap two adjacent bytes) that turn `a` into `b`: the
// optimal-string-alignment distance, so "frist_name" is 1 from "first_name". Bytes, case-sensitive.
// Inputs above 1,024 bytes are not compared: the answer is then the longer size (no match).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word` (ASCII case ignored) for a "did you mean 'X'?", when it is close
// enough to be a typo: at most max(1, size/3) edits, never more than 3, and not `word` itself. Ties go
// to the first candidate. nullopt when none is that close.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

} // namespace h2r

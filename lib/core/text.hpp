// Small text helpers shared across modules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace h2r {

// `s` with A–Z turned into a–z; every other byte unchanged (HTTP header names, e-mail userNames).
std::string ascii_lower(std::string s);

// Lower-case hex SHA-256 of `bytes` (64 characters), or "" if OpenSSL fails.
std::string sha256_hex(std::string_view bytes);

// Edits (insert, delete, replace one byte, or swap two adjacent bytes) that turn `a` into `b`: the
// optimal-string-alignment distance, so "frist_name" is 1 from "first_name". Bytes, case-sensitive.
// Inputs above 1,024 bytes are not compared: the answer is then the longer size (no match).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word` (ASCII case ignored) for a "did you mean 'X'?", when it is close
// enough to be a typo: at most max(1, size/3) edits, never more than 3, and not `word` itself. Ties go
// to the first candidate. nullopt when none is that close.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

} // namespace h2r

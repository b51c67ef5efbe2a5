// Small text helpers shared across modules.
#pragma once

#include <string>
#include <string_view>

namespace h2r {

// `s` with A–Z turned into a–z; every other byte unchanged (HTTP header names, e-mail userNames).
std::string ascii_lower(std::string s);

// Lower-case hex SHA-256 of `bytes` (64 characters), or "" if OpenSSL fails.
std::string sha256_hex(std::string_view bytes);

} // namespace h2r

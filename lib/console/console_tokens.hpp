// The console's token file: who may open the admin console, with which role. One token a line,
// "ROLE NAME TOKEN" (viewer|reviewer, 1..64 of [A-Za-z0-9._-], 64 hex digits); '#' starts a comment.
#pragma once

#include "core/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace h2r {

enum class ConsoleRole { viewer, reviewer };
std::string_view to_string(ConsoleRole role);

struct ConsoleToken {
  std::string name;          // recorded as "console:<name>" in event histories
  ConsoleRole role = ConsoleRole::viewer;
  std::string value;         // 64 lowercase hex digits (256 bits); never logged
};

inline constexpr std::size_t k_console_token_file_max_bytes = 64 * 1024;
inline constexpr std::size_t k_console_max_tokens = 100;

// Reads the token file. When it does not exist and `create_when_missing`, creates it (mode 0600, its
// folder must exist) with one reviewer token named "admin". Errors name the file and line: a file
// readable or writable by group or others, a bad line, a duplicate name or token, no token at all.
Result<std::vector<ConsoleToken>> load_console_tokens(const std::string& path, bool create_when_missing);

// Parses the file's text (`path` only names it in errors).
Result<std::vector<ConsoleToken>> parse_console_tokens(std::string_view text, const std::string& path);

// 32 random bytes as 64 lowercase hex digits.
Result<std::string> new_console_secret();

// Constant-time comparison of two secrets.
bool same_secret(std::string_view a, std::string_view b);

} // namespace h2r

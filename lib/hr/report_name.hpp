// Names made from an inbox file's name that must still be valid file names (internal to lib/hr).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace h2r::hr_detail {

// The longest file name (one path component) Linux filesystems take, in bytes (NAME_MAX).
inline constexpr std::size_t k_max_name_bytes = 255;

// `name` + `suffix` when that fits in k_max_name_bytes; otherwise `name` cut (on a UTF-8 boundary)
// + "~" + the first 16 hex digits of SHA-256(name) + `suffix`, exactly as long as fits — so two long
// names that share their first 200 bytes still get different results. `suffix` must be short (< 200).
std::string fitted_name(std::string_view name, std::string_view suffix);

// The report beside rejected/NAME: "NAME.error.txt", shortened by fitted_name when too long.
inline std::string report_name(std::string_view moved_name) { return fitted_name(moved_name, ".error.txt"); }

} // namespace h2r::hr_detail

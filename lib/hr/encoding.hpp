// The text encoding of event files (internal to lib/hr): UTF-16 with a byte-order mark (Excel's
// "Unicode Text") becomes UTF-8, and bytes that are not UTF-8 are reported where a person finds them.
#pragma once

#include "core/expected.hpp"
#include "hr/readers.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace h2r::hr_detail {

// `bytes` decoded from UTF-16 when they start with its byte-order mark (FF FE little-endian, FE FF
// big-endian), as UTF-8 without a mark; nullopt when there is no such mark. An odd byte count or an
// unpaired surrogate is a problem naming its line and saying how to save the file as UTF-8.
std::optional<Expected<std::string, FileProblem>> decode_utf16_with_bom(std::string_view bytes);

// True when `bytes` begins like UTF-16 without a byte-order mark: a NUL byte in every other position
// of its first (up to 64) bytes.
bool looks_like_utf16(std::string_view bytes);

// The problem for `content` (a file of `format`) that is not UTF-8 at byte `offset`; `skipped` bytes
// (a UTF-8 byte-order mark) came before `content` in the file. Names the line (for CSV the record and
// column), shows the value with the bad byte as \xE9, and when the file looks like Windows-1252 (no
// UTF-8 beyond ASCII anywhere) says to save it as CSV UTF-8.
FileProblem invalid_utf8_problem(FileFormat format, std::string_view content, std::size_t offset,
                                 std::size_t skipped);

// The part of `text` around byte `offset` for a report, in single quotes: escaped as quote_for_report
// does, each byte that is not UTF-8 shown as \xE9, "…" where the value was cut.
std::string excerpt_around(std::string_view text, std::size_t offset);

} // namespace h2r::hr_detail

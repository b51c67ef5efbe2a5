#include "hr/encoding.hpp"

#include "core/utf8.hpp"

#include "hr/csv.hpp"
#include "hr/text_checks.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace h2r::hr_detail {
namespace {

constexpr std::string_view k_save_as_utf8 = "save as CSV UTF-8 (Excel: \"CSV UTF-8 (Comma delimited)\")";

// True when some character of `text` beyond ASCII is valid UTF-8 (then a bad byte is damage, not a
// file written in an 8-bit code page).
bool has_utf8_beyond_ascii(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = utf8_sequence_length(text, i);
    if (len > 1) return true;
    i += len == 0 ? 1 : len;
  }
  return false;
}

} // namespace

std::optional<Expected<std::string, FileProblem>> decode_utf16_with_bom(std::string_view bytes) {
  if (bytes.size() < 2) return std::nullopt;
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  bool little_endian = false;
  if (b[0] == 0xFF && b[1] == 0xFE)
    little_endian = true;
  else if (!(b[0] == 0xFE && b[1] == 0xFF))
    return std::nullopt;

  const std::string encoding = little_endian ? "UTF-16LE" : "UTF-16BE";
  auto unit_at = [&](std::size_t i) -> std::uint32_t {
    return little_endian ? (b[i] | (b[i + 1] << 8)) : ((b[i] << 8) | b[i + 1]);
  };
  std::string out;
  out.reserve(bytes.size());
  int line = 1;
  std::size_t i = 2;
  while (i + 1 < bytes.size()) {
    std::uint32_t cp = unit_at(i);
    const std::size_t at = i;
    i += 2;
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < bytes.size() && unit_at(i) >= 0xDC00 && unit_at(i) <= 0xDFFF) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (unit_at(i) - 0xDC00);
      i += 2;
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      return unexpected(FileProblem{0, line, "", "this file is " + encoding + " and has a broken character at byte " +
                                                     std::to_string(at + 1) + "; " + std::string(k_save_as_utf8)});
    }
    if (cp == '\n') ++line;
    append_utf8(out, cp);
  }
  if (i != bytes.size())
    return unexpected(FileProblem{0, line, "", "this file is " + encoding + " but ends in half a character (" +
                                                   std::to_string(bytes.size()) + " bytes); " +
                                                   std::string(k_save_as_utf8)});
  return Expected<std::string, FileProblem>(std::move(out));
}

bool looks_like_utf16(std::string_view bytes) {
  const std::size_t n = std::min<std::size_t>(bytes.size(), 64) & ~std::size_t{1};
  if (n < 4) return false;
  bool even_nul = true, odd_nul = true;
  for (std::size_t i = 0; i < n; i += 2) {
    even_nul = even_nul && bytes[i] == '\0' && bytes[i + 1] != '\0';
    odd_nul = odd_nul && bytes[i + 1] == '\0' && bytes[i] != '\0';
  }
  return even_nul || odd_nul;
}

std::string excerpt_around(std::string_view text, std::size_t offset) {
  constexpr std::size_t k_before = 20; // bytes shown before the bad one when the value is long
  constexpr std::size_t k_shown = 40;
  std::size_t start = 0;
  if (offset > k_before && text.size() > k_shown) {
    start = offset - k_before;
    while (start < offset && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
  }
  text.remove_prefix(start);
  const bool cut = text.size() > k_shown;
  if (cut) {
    std::size_t end = k_shown; // back to the start of a character, at most 3 bytes
    while (end + 3 > k_shown && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
  }
  // Runs of valid UTF-8 escaped as quote_for_report does; each byte that is not UTF-8 as \xNN.
  std::string out = start > 0 ? "'\xE2\x80\xA6" : "'"; // …
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = i;
    while (end < text.size()) {
      const std::size_t len = utf8_sequence_length(text, end);
      if (len == 0) break;
      end += len;
    }
    if (end > i) {
      const std::string quoted = quote_for_report(text.substr(i, end - i), end - i);
      out.append(quoted, 1, quoted.size() - 2);
    }
    if (end < text.size()) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(text[end]));
      out += buf;
      ++end;
    }
    i = end;
  }
  if (cut) out += "\xE2\x80\xA6";
  return out + "'";
}

FileProblem invalid_utf8_problem(FileFormat format, std::string_view content, std::size_t offset,
                                 std::size_t skipped) {
  std::string hint = "the file must be UTF-8";
  if (!has_utf8_beyond_ascii(content))
    hint = format == FileFormat::csv ? "this looks like Windows-1252; " + std::string(k_save_as_utf8)
                                     : "this looks like Windows-1252; the file must be UTF-8";
  const std::string byte = " (byte " + std::to_string(skipped + offset + 1) + "); ";

  if (format == FileFormat::csv) {
    if (auto problem = locate_invalid_utf8_in_csv(content)) {
      problem->message += byte + hint;
      return *problem;
    }
  }
  // The line holding the bad byte, without its line break.
  const std::size_t line_start = offset == 0 ? 0 : content.rfind('\n', offset - 1) + 1; // npos + 1 == 0
  std::size_t line_end = content.find('\n', offset);
  if (line_end == std::string_view::npos) line_end = content.size();
  if (line_end > line_start && content[line_end - 1] == '\r') --line_end;
  const std::string_view text = content.substr(line_start, line_end - line_start);
  return FileProblem{0, line_at(content, offset), "",
                     "invalid UTF-8 in " + excerpt_around(text, offset - line_start) + byte + hint};
}

} // namespace h2r::hr_detail

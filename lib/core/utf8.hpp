// UTF-8: encoding one code point (the readers' UTF-16 decoding, the rules' text folding) and checking
// bytes (the event and rules readers, the JSON writer of core/json_text.hpp).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace h2r {

// Appends the UTF-8 bytes of `cp` (at most U+10FFFF; the caller passes only valid code points).
inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Length (1 to 4) of the valid UTF-8 sequence starting at byte `at` of `text`; 0 when the bytes there
// are not valid UTF-8 (overlong forms, surrogates, code points above U+10FFFF) or `at` is past the end.
std::size_t utf8_sequence_length(std::string_view text, std::size_t at);

// Offset of the first byte that is not part of valid UTF-8, or nullopt when all of `text` is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

inline bool is_valid_utf8(std::string_view text) { return !find_invalid_utf8(text); }

} // namespace h2r

#include "core/utf8.hpp"

namespace h2r {

std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  if (at >= n) return 0;
  const unsigned c = s[at];
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned lo = 0x80, hi = 0xBF; // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;      // overlong
    if (c == 0xED) hi = 0x9F;      // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;      // overlong
    if (c == 0xF4) hi = 0x8F;      // above U+10FFFF
  } else {
    return 0;
  }
  if (at + len > n) return 0;
  if (s[at + 1] < lo || s[at + 1] > hi) return 0;
  for (std::size_t k = 2; k < len; ++k)
    if (s[at + k] < 0x80 || s[at + k] > 0xBF) return 0;
  return len;
}

std::optional<std::size_t> find_invalid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {   // ASCII, the common case: no call
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) return i;
    i += len;
  }
  return std::nullopt;
}

} // namespace h2r

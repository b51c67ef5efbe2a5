#include "rules/text_fold.hpp"

#include "core/utf8.hpp"

#include <cstdint>

namespace h2r {
namespace {

// Decodes one UTF-8 code point at `i`; invalid bytes decode as themselves (as U+0080..U+00FF would be
// wrong, they are flagged by `len` = 1 and `valid` = false so callers copy the byte unchanged).
struct Decoded {
  char32_t cp = 0;
  std::size_t len = 1;
  bool valid = true;
};

Decoded decode(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1, true};
  std::size_t len = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) { len = 2; cp = b0 & 0x1F; }
  else if ((b0 & 0xF0) == 0xE0) { len = 3; cp = b0 & 0x0F; }
  else if ((b0 & 0xF8) == 0xF0) { len = 4; cp = b0 & 0x07; }
  else return {b0, 1, false};
  if (i + len > s.size()) return {b0, 1, false};
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return {b0, 1, false};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, len, true};
}

char32_t lower_cp(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c == 0x130) return 'i';
  if (c == 0x178) return 0xFF;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return (c % 2 == 0) ? c + 1 : c;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 1) ? c + 1 : c;
  if (c >= 0x218 && c <= 0x21B) return (c % 2 == 0) ? c + 1 : c;  // Ș ș Ț ț
  return c;
}

char32_t upper_cp(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c == 0xFF) return 0x178;
  if (c == 0x131) return 'I';
  if (c == 0x17F) return 'S';
  if ((c >= 0x100 && c <= 0x137 && c != 0x130) || (c >= 0x14A && c <= 0x177)) return (c % 2 == 1) ? c - 1 : c;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 0) ? c - 1 : c;
  if (c >= 0x218 && c <= 0x21B) return (c % 2 == 1) ? c - 1 : c;
  return c;
}

// ASCII forms of U+00C0..U+00FF.
constexpr const char* k_latin1[64] = {
    "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",   // C0..CF
    "D", "N", "O", "O", "O", "O", "O", "x", "O", "U", "U", "U", "U", "Y", "TH", "ss",  // D0..DF
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",   // E0..EF
    "d", "n", "o", "o", "o", "o", "o", "/", "o", "u", "u", "u", "u", "y", "th", "y",   // F0..FF
};

// ASCII forms of U+0100..U+017F (Latin Extended-A).
constexpr const char* k_latin_ext_a[128] = {
    "A", "a", "A", "a", "A", "a", "C", "c", "C", "c", "C", "c", "C", "c", "D", "d",    // 100..10F
    "D", "d", "E", "e", "E", "e", "E", "e", "E", "e", "E", "e", "G", "g", "G", "g",    // 110..11F
    "G", "g", "G", "g", "H", "h", "H", "h", "I", "i", "I", "i", "I", "i", "I", "i",    // 120..12F
    "I", "i", "IJ", "ij", "J", "j", "K", "k", "k", "L", "l", "L", "l", "L", "l", "L",  // 130..13F
    "l", "L", "l", "N", "n", "N", "n", "N", "n", "n", "N", "n", "O", "o", "O", "o",    // 140..14F
    "O", "o", "OE", "oe", "R", "r", "R", "r", "R", "r", "S", "s", "S", "s", "S", "s",  // 150..15F
    "S", "s", "T", "t", "T", "t", "T", "t", "U", "u", "U", "u", "U", "u", "U", "u",    // 160..16F
    "U", "u", "U", "u", "W", "w", "Y", "y", "Y", "Z", "z", "Z", "z", "Z", "z", "s",    // 170..17F
};

// ASCII form of `c`, or nullptr when it has none (kept as is). "" drops the character.
const char* ascii_form(char32_t c) {
  if (c >= 0xC0 && c <= 0xFF) return k_latin1[c - 0xC0];
  if (c >= 0x100 && c <= 0x17F) return k_latin_ext_a[c - 0x100];
  if (c >= 0x300 && c <= 0x36F) return "";  // combining diacritical marks
  switch (c) {
  case 0xA0: return " ";
  case 0x218: return "S";
  case 0x219: return "s";
  case 0x21A: return "T";
  case 0x21B: return "t";
  case 0x2018: case 0x2019: case 0x201A: return "'";
  case 0x201C: case 0x201D: case 0x201E: return "\"";
  case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: return "-";
  default: return nullptr;
  }
}

template <class Map>
std::string map_code_points(std::string_view s, Map&& map) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const Decoded d = decode(s, i);
    if (!d.valid)
      out += s[i];
    else
      map(d.cp, out);
    i += d.len;
  }
  return out;
}

} // namespace

std::string fold_lower(std::string_view utf8) {
  return map_code_points(utf8, [](char32_t c, std::string& out) { append_utf8(out, lower_cp(c)); });
}

std::string fold_upper(std::string_view utf8) {
  return map_code_points(utf8, [](char32_t c, std::string& out) { append_utf8(out, upper_cp(c)); });
}

std::string fold_ascii(std::string_view utf8) {
  return map_code_points(utf8, [](char32_t c, std::string& out) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (const char* form = ascii_form(c)) {
      out += form;
    } else {
      append_utf8(out, c);
    }
  });
}

namespace {

// Byte offset of code point `count` of `utf8` (its size when it has fewer).
std::size_t code_point_offset(std::string_view utf8, std::size_t count) {
  std::size_t at = 0;
  for (std::size_t n = 0; n < count && at < utf8.size(); ++n) {
    const std::size_t length = utf8_sequence_length(utf8, at);
    at += length == 0 ? 1 : length;
  }
  return at;
}

std::size_t code_point_count(std::string_view utf8) {
  std::size_t n = 0;
  for (std::size_t at = 0; at < utf8.size(); ++n) {
    const std::size_t length = utf8_sequence_length(utf8, at);
    at += length == 0 ? 1 : length;
  }
  return n;
}

} // namespace

std::string utf8_left(std::string_view utf8, std::size_t count) {
  return std::string(utf8.substr(0, code_point_offset(utf8, count)));
}

std::string utf8_mid(std::string_view utf8, std::size_t start, std::size_t count) {
  const std::string_view rest = utf8.substr(code_point_offset(utf8, start));
  return utf8_left(rest, count);
}

std::string utf8_right(std::string_view utf8, std::size_t count) {
  const std::size_t total = code_point_count(utf8);
  return std::string(utf8.substr(code_point_offset(utf8, total > count ? total - count : 0)));
}

std::string trim(std::string_view text) {
  constexpr std::string_view k_space = " \t\r\n\f\v";
  const auto first = text.find_first_not_of(k_space);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(k_space);
  return std::string(text.substr(first, last - first + 1));
}

} // namespace h2r

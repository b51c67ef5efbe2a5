#include "core/text.hpp"

#include <openssl/evp.h>

#include <cstdio>
#include <algorithm>

namespace h2r {
namespace {

constexpr std::string_view k_ellipsis = "\xE2\x80\xA6"; // …

// Length of the valid UTF-8 sequence at the start of `s` and its code point, or 0 when invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence(std::string_view s, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  std::size_t len = 0;
  char32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool is_line_or_bidi_control(char32_t cp) {
  return cp == 0x2028 || cp == 0x2029 || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

// The longest prefix of `text` of at most `max_bytes` that does not end inside a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes, bool& cut) {
  cut = text.size() > max_bytes;
  if (!cut) return text;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

} // namespace

std::string ascii_lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // Fetched once: EVP_sha256() makes every EVP_Digest look the algorithm up in OpenSSL 3's provider
  // store again (~9 k instructions a call, a third of hashing a desired user's digest text).
  static const EVP_MD* const k_sha256 = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched ? fetched : EVP_sha256();
  }();
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, k_sha256, nullptr) != 1) return {};
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    hex += k_hex[md[i] >> 4];
    hex += k_hex[md[i] & 0xF];
  }
  return hex;
}

std::string escape_for_log(std::string_view text, std::size_t max_bytes, std::string_view quotes,
                           bool escape_backslash) {
  bool cut = false;
  text = utf8_prefix(text, max_bytes, cut);
  std::string out;
  out.reserve(text.size() + 8);
  char buf[16];
  while (!text.empty()) {
    char32_t cp = 0;
    const std::size_t len = utf8_sequence(text, cp);
    if (len == 0 || cp < 0x20 || cp == 0x7F) { // invalid byte or C0 control/DEL: one byte as \xNN
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(text[0]));
      out += buf;
      text.remove_prefix(1);
      continue;
    }
    if (cp >= 0x80 && cp <= 0x9F) { // C1 control: each byte of its encoding
      for (std::size_t i = 0; i < len; ++i) {
        std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(text[i]));
        out += buf;
      }
    } else if (is_line_or_bidi_control(cp)) {
      std::snprintf(buf, sizeof buf, "\\u{%04X}", static_cast<unsigned>(cp));
      out += buf;
    } else if (len == 1 && ((escape_backslash && text[0] == '\\') || quotes.find(text[0]) != std::string_view::npos)) {
      out += '\\';
      out += text[0];
    } else {
      out.append(text.substr(0, len));
    }
    text.remove_prefix(len);
  }
  if (cut) out += k_ellipsis;
  return out;
}

std::string truncate_utf8(std::string_view text, std::size_t max_bytes) {
  bool cut = false;
  std::string out(utf8_prefix(text, max_bytes, cut));
  if (cut) out += k_ellipsis;
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  constexpr std::size_t k_max_input = 1024;
  if (a.size() > k_max_input || b.size() > k_max_input) return std::max(a.size(), b.size());
  // Three rows of the classic table: two back (for a swap), one back, and the current one.
  std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        current[j] = std::min(current[j], before[j - 2] + 1);
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string lowered = ascii_lower(std::string(word));
  const std::size_t limit = std::min<std::size_t>(3, std::max<std::size_t>(1, word.size() / 3));
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    if (candidate == word) continue;
    const std::size_t d = edit_distance(lowered, ascii_lower(candidate));
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

} // namespace h2r

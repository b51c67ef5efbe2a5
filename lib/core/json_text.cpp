#include "core/json_text.hpp"

#include <nlohmann/json.hpp>

namespace h2r {
namespace {

// Length of the valid UTF-8 sequence starting at `at` (a lead byte >= 0x80), or 0 if it is not one.
std::size_t utf8_length(std::string_view s, std::size_t at) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(at);
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;   // the allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) len = 2;
  else if (c == 0xE0) len = 3, lo = 0xA0;
  else if (c >= 0xE1 && c <= 0xEC) len = 3;
  else if (c == 0xED) len = 3, hi = 0x9F;   // no surrogates
  else if (c >= 0xEE && c <= 0xEF) len = 3;
  else if (c == 0xF0) len = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) len = 4;
  else if (c == 0xF4) len = 4, hi = 0x8F;   // nothing above U+10FFFF
  else return 0;
  if (at + len > s.size()) return 0;
  if (b(at + 1) < lo || b(at + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k)
    if (b(at + k) < 0x80 || b(at + k) > 0xBF) return 0;
  return len;
}

bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

} // namespace

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_length(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

void append_json_escaped(std::string& out, std::string_view text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  const char* const data = text.data();
  std::size_t run = 0;   // start of the bytes not written yet: runs go in with one append each
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (!needs_escape(c)) continue;
    out.append(data + run, i - run);
    run = i + 1;
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default: {
      const char escaped[] = {'\\', 'u', '0', '0', k_hex[c >> 4], k_hex[c & 0xf]};
      out.append(escaped, sizeof escaped);
    }
    }
  }
  out.append(data + run, text.size() - run);
}

void append_json_string(std::string& out, std::string_view text) {
  if (!is_valid_utf8(text)) {
    out += nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  out.reserve(out.size() + text.size() + 2);
  out += '"';
  append_json_escaped(out, text);
  out += '"';
}

} // namespace h2r

#include "zoom/user_fields.hpp"

#include "core/utf8.hpp"

#include <cmath>
#include <cstdlib>
#include <vector>

namespace h2r {
namespace {

class Scanner {
public:
  Scanner(std::string_view text, UserFields& out) : m_p(text.data()), m_end(text.data() + text.size()), m_out(out) {}
  bool run();

private:
  enum class Member { other, id, user_name, active };

  void skip_ws() {
    while (m_p < m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\n' || *m_p == '\r')) ++m_p;
  }
  bool hex4(unsigned& value);
  bool string(std::string* decoded);   // at '"'; appends the decoded text to `decoded` when given
  bool number();
  bool literal(std::string_view word);
  bool key_member(Member& member);     // a top-level key: which member it names

  const char* m_p;
  const char* m_end;
  UserFields& m_out;
};

bool Scanner::hex4(unsigned& value) {
  if (m_end - m_p < 4) return false;
  value = 0;
  for (int i = 0; i < 4; ++i, ++m_p) {
    const char c = *m_p;
    unsigned digit;
    if (c >= '0' && c <= '9') digit = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') digit = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') digit = static_cast<unsigned>(c - 'A' + 10);
    else return false;
    value = value * 16 + digit;
  }
  return true;
}

bool Scanner::string(std::string* decoded) {
  ++m_p;   // the opening quote
  const char* run = m_p;
  for (;;) {
    if (m_p == m_end) return false;
    const auto c = static_cast<unsigned char>(*m_p);
    if (c == '"') {
      if (decoded) decoded->append(run, m_p);
      ++m_p;
      return true;
    }
    if (c == '\\') {
      if (decoded) decoded->append(run, m_p);
      if (++m_p == m_end) return false;
      char plain = 0;
      switch (*m_p) {
      case '"': plain = '"'; break;
      case '\\': plain = '\\'; break;
      case '/': plain = '/'; break;
      case 'b': plain = '\b'; break;
      case 'f': plain = '\f'; break;
      case 'n': plain = '\n'; break;
      case 'r': plain = '\r'; break;
      case 't': plain = '\t'; break;
      case 'u': {
        ++m_p;
        unsigned cp;
        if (!hex4(cp)) return false;
        if (cp >= 0xD800 && cp <= 0xDBFF) {   // a high surrogate: a low one must follow
          if (m_end - m_p < 2 || m_p[0] != '\\' || m_p[1] != 'u') return false;
          m_p += 2;
          unsigned low;
          if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return false;
        }
        if (decoded) append_utf8(*decoded, static_cast<char32_t>(cp));
        run = m_p;
        continue;
      }
      default: return false;
      }
      if (decoded) *decoded += plain;
      run = ++m_p;
      continue;
    }
    if (c < 0x20) return false;
    if (c < 0x80) {
      ++m_p;
      continue;
    }
    // UTF-8 as RFC 3629 (and nlohmann's lexer) allow it: no overlongs, surrogates or > U+10FFFF.
    int follow = 0;
    unsigned char low = 0x80, high = 0xBF;   // the first continuation byte's range
    if (c >= 0xC2 && c <= 0xDF) follow = 1;
    else if (c == 0xE0) follow = 2, low = 0xA0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) follow = 2;
    else if (c == 0xED) follow = 2, high = 0x9F;
    else if (c == 0xF0) follow = 3, low = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) follow = 3;
    else if (c == 0xF4) follow = 3, high = 0x8F;
    else return false;
    ++m_p;
    for (int k = 0; k < follow; ++k, ++m_p) {
      if (m_p == m_end) return false;
      const auto d = static_cast<unsigned char>(*m_p);
      if (d < (k == 0 ? low : 0x80) || d > (k == 0 ? high : 0xBF)) return false;
    }
  }
}

bool Scanner::number() {
  const char* start = m_p;
  bool integer = true;
  const auto digits = [&] {
    const char* from = m_p;
    while (m_p < m_end && *m_p >= '0' && *m_p <= '9') ++m_p;
    return m_p > from;
  };
  if (*m_p == '-') ++m_p;
  if (m_p == m_end) return false;
  if (*m_p == '0') ++m_p;
  else if (!digits()) return false;
  if (m_p < m_end && *m_p == '.') {
    integer = false;
    ++m_p;
    if (!digits()) return false;
  }
  if (m_p < m_end && (*m_p == 'e' || *m_p == 'E')) {
    integer = false;
    ++m_p;
    if (m_p < m_end && (*m_p == '+' || *m_p == '-')) ++m_p;
    if (!digits()) return false;
  }
  // nlohmann refuses a number whose value as a double is not finite (an integer too long for 64 bits
  // is read as one): only those that may overflow are converted.
  if (integer && m_p - start <= 19) return true;
  const std::string token(start, m_p);
  return std::isfinite(std::strtod(token.c_str(), nullptr));
}

bool Scanner::literal(std::string_view word) {
  if (static_cast<std::size_t>(m_end - m_p) < word.size() || std::string_view(m_p, word.size()) != word) return false;
  m_p += word.size();
  return true;
}

bool Scanner::key_member(Member& member) {
  const char* start = m_p + 1;
  if (!string(nullptr)) return false;
  std::string_view raw(start, static_cast<std::size_t>(m_p - 1 - start));
  std::string decoded;
  if (raw.find('\\') != std::string_view::npos) {
    m_p = start - 1;
    if (!string(&decoded)) return false;
    raw = decoded;
  }
  member = raw == "id" ? Member::id : raw == "userName" ? Member::user_name : raw == "active" ? Member::active
                                                                                                : Member::other;
  return true;
}

bool Scanner::run() {
  if (m_end - m_p >= 3 && std::string_view(m_p, 3) == "\xEF\xBB\xBF") m_p += 3;   // a byte order mark
  std::vector<char> open;   // the containers the value being read is in: '{' or '['
  Member member = Member::other;   // the top-level key of the value being read (top-level object)
  bool want_key = false;
  for (;;) {
    skip_ws();
    if (m_p == m_end) return false;
    if (want_key) {
      if (*m_p != '"') return false;
      Member named = Member::other;
      if (open.size() == 1) {
        if (!key_member(named)) return false;
        member = named;
      } else if (!string(nullptr)) {
        return false;
      }
      skip_ws();
      if (m_p == m_end || *m_p != ':') return false;
      ++m_p;
      want_key = false;
      continue;
    }
    // A value.
    const bool top_member = open.size() == 1 && open[0] == '{';
    switch (*m_p) {
    case '{':
    case '[': {
      const char kind = *m_p++;
      open.push_back(kind);
      skip_ws();
      if (m_p < m_end && *m_p == (kind == '{' ? '}' : ']')) {
        ++m_p;
        open.pop_back();
        break;   // an empty container: a whole value
      }
      want_key = kind == '{';
      continue;
    }
    case '"': {
      std::string* into = nullptr;
      if (top_member && member == Member::id) into = &m_out.id;
      else if (top_member && member == Member::user_name) into = &m_out.user_name;
      if (into) into->clear();
      if (!string(into)) return false;
      break;
    }
    case 't':
      if (!literal("true")) return false;
      if (top_member && member == Member::active) m_out.active = true;
      break;
    case 'f':
      if (!literal("false")) return false;
      if (top_member && member == Member::active) m_out.active = false;
      break;
    case 'n':
      if (!literal("null")) return false;
      break;
    default:
      if (*m_p != '-' && (*m_p < '0' || *m_p > '9')) return false;
      if (!number()) return false;
    }
    // After a whole value: a comma, the end of its container(s), or the end of the text.
    for (;;) {
      skip_ws();
      // nlohmann's lexer reads a NUL byte as the end of the input: what follows one is not read.
      if (open.empty()) return m_p == m_end || *m_p == '\0';
      if (m_p == m_end) return false;
      if (*m_p == ',') {
        ++m_p;
        want_key = open.back() == '{';
        break;
      }
      if (*m_p != (open.back() == '{' ? '}' : ']')) return false;
      ++m_p;
      open.pop_back();
    }
  }
}

} // namespace

bool read_user_fields(std::string_view text, UserFields& out) { return Scanner(text, out).run(); }

} // namespace h2r

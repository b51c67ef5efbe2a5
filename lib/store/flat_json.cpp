#include "store/flat_json.hpp"

#include "core/json_text.hpp"

#include <nlohmann/json.hpp>

namespace h2r {
namespace {

template <class Map>
class FlatObjectReader final : public nlohmann::json_sax<nlohmann::json> {
public:
  static constexpr bool k_nulls = std::is_same_v<typename Map::mapped_type, std::optional<std::string>>;
  explicit FlatObjectReader(Map& out) : m_out(out) {}
  bool null() override {
    if constexpr (k_nulls) {
      if (m_depth != 1) return false;
      m_out[std::move(m_key)] = std::nullopt;
      return true;
    } else {
      return false;
    }
  }
  bool boolean(bool) override { return false; }
  bool number_integer(number_integer_t) override { return false; }
  bool number_unsigned(number_unsigned_t) override { return false; }
  bool number_float(number_float_t, const string_t&) override { return false; }
  bool string(string_t& value) override {
    if (m_depth != 1) return false;
    m_out[std::move(m_key)] = std::move(value);
    return true;
  }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override { return ++m_depth == 1; }
  bool key(string_t& value) override {
    m_key = std::move(value);
    return true;
  }
  bool end_object() override { return --m_depth, true; }
  bool start_array(std::size_t) override { return false; }
  bool end_array() override { return false; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
  bool complete() const { return m_depth == 0; }

private:
  Map& m_out;
  int m_depth = 0;
  std::string m_key;
};

// The common case without the JSON lexer: printable ASCII only, no escapes. Returns nullopt when the text
// has anything else (a backslash, a byte outside 0x20..0x7e in a string, a value that is no string or
// null): the caller then reads it with the full parser, which decides.
template <class Map>
std::optional<bool> parse_plain(std::string_view text, Map& out) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto skip_ws = [&] {
    while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
  };
  // A string at i (after its opening quote), up to its closing quote; nullopt when it needs the parser.
  auto plain_string = [&]() -> std::optional<std::string_view> {
    const std::size_t start = i;
    for (; i < n; ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c == '"') return text.substr(start, i++ - start);
      if (c == '\\' || c < 0x20 || c > 0x7e) return std::nullopt;
    }
    return std::nullopt;
  };
  skip_ws();
  if (i == n || text[i] != '{') return std::nullopt;
  ++i;
  skip_ws();
  if (i < n && text[i] == '}') {
    ++i;
  } else {
    for (;;) {
      if (i == n || text[i] != '"') return std::nullopt;
      ++i;
      auto key = plain_string();
      if (!key) return std::nullopt;
      skip_ws();
      if (i == n || text[i] != ':') return std::nullopt;
      ++i;
      skip_ws();
      if (i < n && text[i] == '"') {
        ++i;
        auto value = plain_string();
        if (!value) return std::nullopt;
        out[std::string(*key)] = std::string(*value);
      } else if constexpr (FlatObjectReader<Map>::k_nulls) {
        if (text.substr(i, 4) != "null") return std::nullopt;
        i += 4;
        out[std::string(*key)] = std::nullopt;
      } else {
        return std::nullopt;
      }
      skip_ws();
      if (i < n && text[i] == ',') {
        ++i;
        skip_ws();
        continue;
      }
      if (i < n && text[i] == '}') {
        ++i;
        break;
      }
      return std::nullopt;
    }
  }
  skip_ws();
  if (i != n) return std::nullopt;
  return true;
}

template <class Map>
bool parse_into(std::string_view text, Map& out) {
  if (auto plain = parse_plain(text, out)) return *plain;
  out.clear();
  FlatObjectReader<Map> reader(out);
  return nlohmann::json::sax_parse(text, &reader) && reader.complete();
}

} // namespace

std::string dump_flat_object(const FieldPatch& fields) { return json_flat_object(fields); }
std::string dump_flat_object(const EmployeeRecord& record) { return json_flat_object(record); }

bool parse_flat_object(std::string_view text, FieldPatch& out) { return parse_into(text, out); }
bool parse_flat_object(std::string_view text, EmployeeRecord& out) { return parse_into(text, out); }

} // namespace h2r

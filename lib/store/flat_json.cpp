#include "store/flat_json.hpp"

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

template <class Map>
bool parse_into(std::string_view text, Map& out) {
  FlatObjectReader<Map> reader(out);
  return nlohmann::json::sax_parse(text, &reader) && reader.complete();
}

} // namespace

bool parse_flat_object(std::string_view text, FieldPatch& out) { return parse_into(text, out); }
bool parse_flat_object(std::string_view text, EmployeeRecord& out) { return parse_into(text, out); }

} // namespace h2r

// libFuzzer target: read_user_fields (lib/zoom/user_fields.hpp), which reads Zoom's create answer
// without nlohmann, must accept exactly the texts nlohmann::json::sax_parse accepts and take the same
// top-level id, userName and active as a SAX reader does. Any difference aborts.
#include "zoom/user_fields.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

class Reference final : public nlohmann::json_sax<nlohmann::json> {
public:
  explicit Reference(h2r::UserFields& user) : m_user(user) {}
  bool null() override { return true; }
  bool boolean(bool value) override {
    if (m_depth == 1 && m_key == "active") m_user.active = value;
    return true;
  }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t& value) override {
    if (m_depth == 1 && m_key == "id") m_user.id = std::move(value);
    else if (m_depth == 1 && m_key == "userName") m_user.user_name = std::move(value);
    return true;
  }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return ++m_depth, true; }
  bool key(string_t& value) override {
    if (m_depth == 1) m_key = std::move(value);
    return true;
  }
  bool end_object() override { return --m_depth, true; }
  bool start_array(std::size_t) override { return ++m_depth, true; }
  bool end_array() override { return --m_depth, true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

private:
  h2r::UserFields& m_user;
  int m_depth = 0;
  std::string m_key;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  h2r::UserFields expected, got;
  Reference reference(expected);
  const bool expected_ok = nlohmann::json::sax_parse(text, &reference);
  const bool ok = h2r::read_user_fields(text, got);
  if (ok != expected_ok) std::abort();
  if (ok && (got.id != expected.id || got.user_name != expected.user_name || got.active != expected.active))
    std::abort();
  return 0;
}

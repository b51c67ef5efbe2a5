// The reader ScimClient::create_user used before lib/zoom/user_fields (nlohmann's SAX parser taking
// the top-level id, userName and active): the reference read_user_fields is compared with, by its unit
// test and by the fuzz target. Header-only: the fuzz build links no test support library.
#pragma once

#include "zoom/user_fields.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace h2r::test {

class UserFieldsReference final : public nlohmann::json_sax<nlohmann::json> {
public:
  explicit UserFieldsReference(UserFields& user) : m_user(user) {}
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
  UserFields& m_user;
  int m_depth = 0;
  std::string m_key;
};

// What the reference reads from `text`: whether it accepts it, and the fields.
inline bool read_user_fields_reference(const std::string& text, UserFields& out) {
  UserFieldsReference reference(out);
  return nlohmann::json::sax_parse(text, &reference);
}

} // namespace h2r::test

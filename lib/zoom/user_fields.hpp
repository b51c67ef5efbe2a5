// Reading a created user's top-level "id", "userName" and "active" out of Zoom's answer in one pass
// over the text, without nlohmann's lexer (which cost ~55 k instructions per create answer): the
// provisioner needs only the id. It accepts exactly the texts nlohmann::json::sax_parse accepts
// (RFC 8259 JSON, one value, a UTF-8 byte order mark allowed, strings checked as UTF-8, surrogate
// pairs, numbers whose float value overflows refused, the text ending at a NUL byte after the value) and takes the same values a SAX reader of the
// top-level members takes (the last of a repeated key; only a string id/userName, a boolean active).
#pragma once

#include <string>
#include <string_view>

namespace h2r {

struct UserFields {
  std::string id;          // "" when absent
  std::string user_name;   // "" when absent
  bool active = true;      // true when absent
};

// False when `text` is not one JSON value; `out` then holds whatever was read before the fault.
bool read_user_fields(std::string_view text, UserFields& out);

} // namespace h2r

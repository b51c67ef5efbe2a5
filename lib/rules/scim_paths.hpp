// SCIM attribute paths of rules.yaml `attributes:` and where each lands in the Zoom SCIM user body
// (docs/zoom.md "User body").
#pragma once

#include "core/scim_urns.hpp"
#include "rules/short_path.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace h2r {

enum class ScimValueType { text, boolean };

// True when `path` is a known attribute path; `type` then says what its value must be.
bool is_known_scim_path(std::string_view path, ScimValueType* type = nullptr);
// "userName, name.givenName, ..." for error messages.
std::string known_scim_paths();

// Text values h2r sends are bounded per path (a table in scim_paths.cpp: userName and emails.work 128
// characters, name parts 64, displayName 128, phone numbers 32, …); an unknown path gets this.
inline constexpr std::size_t k_max_scim_value_chars = 256;
// The most characters (UTF-8 code points) a text value at `path` may have.
std::size_t max_scim_value_chars(std::string_view path);
// Code points in UTF-8 `text` (bytes that are not continuation bytes).
std::size_t utf8_chars(std::string_view text);
// nullopt when `value` fits `path`'s limit; else the reason, naming the path, the length and the limit.
std::optional<std::string> scim_value_too_long(std::string_view path, std::string_view value);

// Puts `value` at `path` in `body`: userName → "userName", name.givenName → {"name":{"givenName"}},
// emails.work → "emails":[{"type":"work","value":…,"primary":true}], phoneNumbers.X →
// "phoneNumbers":[{"type":X,"value":…}], enterprise.X → the enterprise extension object (manager as
// {"value":…}), zoom.loginType.X → ZoomUser {"loginType":{X:…}}, zoom.personalLinkName / zoom.pronouns →
// the zoom:1.0:User extension. `path` must be known.
void set_scim_attribute(nlohmann::json& body, std::string_view path, const nlohmann::json& value);

// Sets body["schemas"] to the URNs in use: core always, then enterprise, ZoomUser and zoom:1.0 when
// their objects are present, in that order.
void set_scim_schemas(nlohmann::json& body);

} // namespace h2r

// Small HTTP and SCIM helpers shared by the zoom-sim routes.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace zoom_sim {

inline constexpr const char* k_scim_content_type = "application/scim+json";
inline constexpr const char* k_json_content_type = "application/json";
inline constexpr const char* k_error_schema = "urn:ietf:params:scim:api:messages:2.0:Error";
inline constexpr const char* k_list_schema = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
inline constexpr const char* k_patch_schema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
inline constexpr const char* k_user_schema = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr const char* k_group_schema = "urn:ietf:params:scim:schemas:core:2.0:Group";
inline constexpr const char* k_enterprise_schema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
// Zoom's license extension: present on single-user reads, omitted from list results.
inline constexpr const char* k_license_schema = "urn:ietf:params:scim:schemas:extension:zoom:1.0:User";

bool iequals(std::string_view a, std::string_view b);

// Decodes %XX escapes; '+' stays '+' (path-segment rules). Malformed escapes are kept literally.
std::string percent_decode(std::string_view text);

// Encodes everything except RFC 3986 unreserved characters.
std::string percent_encode(std::string_view text);

// The decoded rest of the request path after `prefix`, taken from the raw request target so that
// escaped reserved characters in ids survive. nullopt when the path does not start with `prefix`
// or the rest is empty.
std::optional<std::string> path_tail(const httplib::Request& req, std::string_view prefix);

// Standard base64 (padding optional); nullopt on bad input.
std::optional<std::string> base64_decode(std::string_view text);

// Escapes regex metacharacters so a configured base path can be used in a route pattern.
std::string regex_escape(std::string_view text);

// "2026-11-28T10:15:03Z" (UTC, whole seconds).
std::string format_iso(std::chrono::system_clock::time_point t);
// "Sat, 28 Nov 2026 10:15:03 GMT" (RFC 9110 IMF-fixdate).
std::string format_http_date(std::chrono::system_clock::time_point t);

// Sends `body` with `status`; SCIM content type unless told otherwise.
void send_json(httplib::Response& res, int status, const nlohmann::json& body,
               const char* content_type = k_scim_content_type);

// SCIM error body: {"schemas":[Error],"detail":…,"status":<number>[,"scimType":…]}.
void send_scim_error(httplib::Response& res, int status, std::string_view detail,
                     std::string_view scim_type = {});

// Zoom's own error shape: {"code":…,"message":…} (application/json).
void send_zoom_error(httplib::Response& res, int status, int code, std::string_view message);

// Parses a JSON object body sent as application/scim+json or application/json. On failure it has
// already answered (415 or 400) and returns nullopt.
std::optional<nlohmann::json> read_json_body(const httplib::Request& req, httplib::Response& res);

} // namespace zoom_sim

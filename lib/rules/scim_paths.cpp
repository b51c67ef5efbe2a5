#include "rules/scim_paths.hpp"
#include "rules/short_path.hpp"

#include <array>
#include <utility>

namespace h2r {
namespace {

struct PathInfo {
  std::string_view path;
  ScimValueType type;
  std::size_t max_chars;   // longest text value h2r sends (characters); 0 for booleans
};

// The one table of limits (docs: README "Where h2r extends the spec"). Zoom's own limits where it
// documents them (userName / e-mail 128, names 64), elsewhere the generous side of what Zoom's web UI
// accepts; anything longer is a rules mistake (a template repeating a field), not a real value.
constexpr std::array<PathInfo, 27> k_paths{{
    {"userName", ScimValueType::text, 128},
    {"name.givenName", ScimValueType::text, 64},
    {"name.familyName", ScimValueType::text, 64},
    {"name.middleName", ScimValueType::text, 64},
    {"name.formatted", ScimValueType::text, 128},
    {"displayName", ScimValueType::text, 128},
    {"nickName", ScimValueType::text, 64},
    {"title", ScimValueType::text, 128},
    {"locale", ScimValueType::text, 32},
    {"timezone", ScimValueType::text, 64},
    {"preferredLanguage", ScimValueType::text, 32},
    {"emails.work", ScimValueType::text, 128},
    {"phoneNumbers.work", ScimValueType::text, 32},
    {"phoneNumbers.mobile", ScimValueType::text, 32},
    {"phoneNumbers.home", ScimValueType::text, 32},
    {"enterprise.department", ScimValueType::text, 256},
    {"enterprise.organization", ScimValueType::text, 256},
    {"enterprise.costCenter", ScimValueType::text, 256},
    {"enterprise.employeeNumber", ScimValueType::text, 64},
    {"enterprise.division", ScimValueType::text, 256},
    {"enterprise.manager", ScimValueType::text, 256},
    {"zoom.loginType.sso", ScimValueType::boolean, 0},
    {"zoom.loginType.workEmail", ScimValueType::boolean, 0},
    {"zoom.personalLinkName", ScimValueType::text, 64},
    {"zoom.pronouns", ScimValueType::text, 128},
    // Accepted spellings of the display name parts some admins expect.
    {"name.honorificPrefix", ScimValueType::text, 32},
    {"name.honorificSuffix", ScimValueType::text, 32},
}};

std::string key_of(std::string_view path, std::string_view prefix) {
  return std::string(path.substr(prefix.size()));
}

} // namespace

bool is_known_scim_path(std::string_view path, ScimValueType* type) {
  for (const auto& info : k_paths) {
    if (info.path == path) {
      if (type) *type = info.type;
      return true;
    }
  }
  return false;
}

std::string short_scim_path(std::string_view path) {
  auto rest_after = [&](std::string_view urn) -> std::optional<std::string_view> {
    if (path.size() <= urn.size() + 1 || path.substr(0, urn.size()) != urn || path[urn.size()] != '.') return std::nullopt;
    return path.substr(urn.size() + 1);
  };
  if (auto rest = rest_after(k_scim_enterprise_urn)) return "enterprise." + std::string(*rest);
  if (auto rest = rest_after(k_zoom_user_urn)) return "zoom." + std::string(*rest);
  if (auto rest = rest_after(k_zoom_license_urn)) {
    // The zoom:1.0 extension holds rules attributes (zoom.pronouns) beside the role's license flags.
    const std::string attribute = "zoom." + std::string(*rest);
    return is_known_scim_path(attribute) ? attribute : "zoom.licenses." + std::string(*rest);
  }
  return std::string(path);
}

std::string attribute_metric_label(std::string_view path) {
  std::string name = short_scim_path(path);
  if (name == "emails") return "emails.work";   // the one email h2r sends
  if (name == "enterprise.manager.value") return "enterprise.manager";
  // What a role sets (userType, roles), `active` of a create, and the phone numbers as one array.
  for (std::string_view whole : {"active", "userType", "roles", "phoneNumbers"})
    if (name == whole) return name;
  if (is_known_scim_path(name)) return name;
  constexpr std::string_view licenses = "zoom.licenses.";
  if (name.rfind(licenses, 0) == 0 && is_known_license(std::string_view(name).substr(licenses.size()))) return name;
  return "other";
}

std::size_t max_scim_value_chars(std::string_view path) {
  for (const auto& info : k_paths)
    if (info.path == path) return info.max_chars;
  return k_max_scim_value_chars;
}

std::size_t utf8_chars(std::string_view text) {
  std::size_t n = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

std::optional<std::string> scim_value_too_long(std::string_view path, std::string_view value) {
  const std::size_t max = max_scim_value_chars(path);
  if (value.size() <= max) return std::nullopt;   // bytes >= characters: the cheap test first
  const std::size_t chars = utf8_chars(value);
  if (chars <= max) return std::nullopt;
  return "attribute " + std::string(path) + " would be " + std::to_string(chars) + " characters, above its limit of " +
         std::to_string(max) + ": nothing sent (check the template in rules.yaml `attributes:`)";
}

std::string known_scim_paths() {
  std::string out;
  for (const auto& info : k_paths) {
    if (!out.empty()) out += ", ";
    out += info.path;
  }
  return out;
}

void set_scim_attribute(nlohmann::json& body, std::string_view path, const nlohmann::json& value) {
  if (path.starts_with("name.")) {
    body["name"][key_of(path, "name.")] = value;
  } else if (path == "emails.work") {
    body["emails"] = nlohmann::json::array({{{"type", "work"}, {"value", value}, {"primary", true}}});
  } else if (path.starts_with("phoneNumbers.")) {
    const std::string type = key_of(path, "phoneNumbers.");
    auto& phones = body["phoneNumbers"];
    if (!phones.is_array()) phones = nlohmann::json::array();
    for (auto& phone : phones) {
      if (phone.value("type", "") == type) {
        phone["value"] = value;
        return;
      }
    }
    phones.push_back({{"type", type}, {"value", value}});
  } else if (path.starts_with("enterprise.")) {
    const std::string key = key_of(path, "enterprise.");
    auto& ext = body[std::string(k_scim_enterprise_urn)];
    if (key == "manager")
      ext["manager"] = {{"value", value}};
    else
      ext[key] = value;
  } else if (path.starts_with("zoom.loginType.")) {
    body[std::string(k_zoom_user_urn)]["loginType"][key_of(path, "zoom.loginType.")] = value;
  } else if (path.starts_with("zoom.")) {
    body[std::string(k_zoom_license_urn)][key_of(path, "zoom.")] = value;
  } else {
    body[std::string(path)] = value;
  }
}

void set_scim_schemas(nlohmann::json& body) {
  auto schemas = nlohmann::json::array({k_scim_core_urn});
  for (std::string_view urn : {k_scim_enterprise_urn, k_zoom_user_urn, k_zoom_license_urn})
    if (body.contains(std::string(urn))) schemas.push_back(urn);
  body["schemas"] = std::move(schemas);
}


} // namespace h2r

#include "rules/scim_paths.hpp"

#include <array>
#include <utility>

namespace h2r {
namespace {

constexpr std::array<std::pair<std::string_view, ScimValueType>, 27> k_paths{{
    {"userName", ScimValueType::text},
    {"name.givenName", ScimValueType::text},
    {"name.familyName", ScimValueType::text},
    {"name.middleName", ScimValueType::text},
    {"name.formatted", ScimValueType::text},
    {"displayName", ScimValueType::text},
    {"nickName", ScimValueType::text},
    {"title", ScimValueType::text},
    {"locale", ScimValueType::text},
    {"timezone", ScimValueType::text},
    {"preferredLanguage", ScimValueType::text},
    {"emails.work", ScimValueType::text},
    {"phoneNumbers.work", ScimValueType::text},
    {"phoneNumbers.mobile", ScimValueType::text},
    {"phoneNumbers.home", ScimValueType::text},
    {"enterprise.department", ScimValueType::text},
    {"enterprise.organization", ScimValueType::text},
    {"enterprise.costCenter", ScimValueType::text},
    {"enterprise.employeeNumber", ScimValueType::text},
    {"enterprise.division", ScimValueType::text},
    {"enterprise.manager", ScimValueType::text},
    {"zoom.loginType.sso", ScimValueType::boolean},
    {"zoom.loginType.workEmail", ScimValueType::boolean},
    {"zoom.personalLinkName", ScimValueType::text},
    {"zoom.pronouns", ScimValueType::text},
    // Accepted spellings of the display name parts some admins expect.
    {"name.honorificPrefix", ScimValueType::text},
    {"name.honorificSuffix", ScimValueType::text},
}};

std::string key_of(std::string_view path, std::string_view prefix) {
  return std::string(path.substr(prefix.size()));
}

} // namespace

bool is_known_scim_path(std::string_view path, ScimValueType* type) {
  for (const auto& [p, t] : k_paths) {
    if (p == path) {
      if (type) *type = t;
      return true;
    }
  }
  return false;
}

std::string known_scim_paths() {
  std::string out;
  for (const auto& [p, t] : k_paths) {
    if (!out.empty()) out += ", ";
    out += p;
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
    body[std::string(k_scim_zoom_user_urn)]["loginType"][key_of(path, "zoom.loginType.")] = value;
  } else if (path.starts_with("zoom.")) {
    body[std::string(k_scim_zoom_urn)][key_of(path, "zoom.")] = value;
  } else {
    body[std::string(path)] = value;
  }
}

void set_scim_schemas(nlohmann::json& body) {
  auto schemas = nlohmann::json::array({k_scim_core_urn});
  for (std::string_view urn : {k_scim_enterprise_urn, k_scim_zoom_user_urn, k_scim_zoom_urn})
    if (body.contains(std::string(urn))) schemas.push_back(urn);
  body["schemas"] = std::move(schemas);
}

} // namespace h2r

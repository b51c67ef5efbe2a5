// SCIM user bodies as values (see scim_body.hpp).
#include "engine/scim_body.hpp"

#include "core/text.hpp"
#include "zoom/scim_client.hpp"

#include <algorithm>

namespace h2r {
namespace {

void flatten_into(const nlohmann::json& value, const std::string& prefix, std::map<std::string, nlohmann::json>& out) {
  if (value.is_object() && !value.empty()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (prefix.empty() && it.key() == "schemas") continue;
      flatten_into(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    }
  } else {
    out[prefix] = value;
  }
}

// The value that clears an attribute holding `value` at Zoom.
nlohmann::json clearing_value(const nlohmann::json& value) {
  if (value.is_boolean()) return false;
  if (value.is_array()) return nlohmann::json::array();
  if (value.is_number()) return nullptr;
  return "";
}

// Sets the flatten_scim path `path` of `body` to `value`.
void set_path(nlohmann::json& body, const std::string& path, nlohmann::json value) {
  // Extension URNs contain dots: match the longest top-level key that prefixes the path.
  nlohmann::json* node = &body;
  std::string rest = path;
  for (const char* urn : {k_scim_enterprise_urn, k_zoom_user_urn, k_zoom_license_urn}) {
    std::string prefix = std::string(urn) + ".";
    if (rest.rfind(prefix, 0) == 0) {
      node = &(*node)[urn];
      rest = rest.substr(prefix.size());
      break;
    }
  }
  std::size_t dot;
  while ((dot = rest.find('.')) != std::string::npos) {
    node = &(*node)[rest.substr(0, dot)];
    rest = rest.substr(dot + 1);
  }
  (*node)[rest] = std::move(value);
}

} // namespace

std::map<std::string, nlohmann::json> flatten_scim(const nlohmann::json& body) {
  std::map<std::string, nlohmann::json> out;
  flatten_into(body, "", out);
  return out;
}

std::map<std::string, nlohmann::json> cleared_attributes(const DesiredUser& before, const DesiredUser& now) {
  std::map<std::string, nlohmann::json> out;
  const auto new_flat = flatten_scim(now.body);
  for (const auto& [path, value] : flatten_scim(before.body))
    if (!new_flat.count(path)) out[path] = clearing_value(value);
  return out;
}

std::map<std::string, nlohmann::json> cleared_from_pushed(const nlohmann::json& pushed, const DesiredUser& now) {
  std::map<std::string, nlohmann::json> out;
  if (!pushed.is_object()) return out;
  const auto new_flat = flatten_scim(now.body);
  for (const auto& [path, value] : flatten_scim(pushed)) {
    if (path == "active" || new_flat.count(path)) continue;
    const nlohmann::json clear = clearing_value(value);
    // Already cleared (an empty object leaf counts too): nothing left to turn off.
    if (value == clear || value.is_null() || (value.is_object() && value.empty())) continue;
    out[path] = clear;
  }
  return out;
}

std::string desired_digest(const DesiredUser& desired, bool active) {
  return desired_digest(desired, active, desired.body.dump());
}

std::string desired_digest(const DesiredUser& desired, bool active, std::string_view body_text) {
  // The dump of {"body": …, "groups": …, "active": …} (keys in std::map order), without copying the
  // body into a new document first.
  std::string canon;
  canon.reserve(body_text.size() + 64 + 32 * desired.groups.size());
  canon += active ? "{\"active\":true,\"body\":" : "{\"active\":false,\"body\":";
  canon += body_text;
  canon += ",\"groups\":";
  if (desired.groups.empty()) canon += "[]";   // no document to build for the usual case
  else canon += nlohmann::json(desired.groups).dump();
  canon += '}';
  return sha256_hex(canon);
}

nlohmann::json update_body(const DesiredUser& desired, const std::map<std::string, nlohmann::json>& cleared) {
  nlohmann::json body = desired.body;
  for (const auto& [path, value] : cleared) set_path(body, path, value);
  if (!body.contains("schemas") || !body["schemas"].is_array()) body["schemas"] = nlohmann::json::array({k_scim_core_urn});
  for (const char* urn : {k_scim_enterprise_urn, k_zoom_user_urn, k_zoom_license_urn}) {
    auto& schemas = body["schemas"];
    if (body.contains(urn) && std::find(schemas.begin(), schemas.end(), nlohmann::json(urn)) == schemas.end())
      schemas.push_back(urn);
  }
  return body;
}

std::string with_active_true(const nlohmann::json& body, std::string_view body_text) {
  static constexpr std::string_view k_member = "\"active\":true";
  const bool plain = body.is_object() && !body.empty() && !body.contains("active") && body_text.size() >= 2 &&
                     body_text.front() == '{' && body_text.back() == '}';
  std::size_t at = std::string_view::npos;   // where the member goes: after '{', after a comma, or before '}'
  if (plain) {
    std::size_t before = 0;   // top-level keys that sort before "active" (the text has them in std::map order)
    for (auto it = body.begin(); it != body.end() && it.key() < "active"; ++it) ++before;
    if (before == 0) {
      at = 1;
    } else if (before == body.size()) {
      at = body_text.size() - 1;
    } else {
      std::size_t commas = 0;
      int depth = 0;
      bool in_string = false;
      for (std::size_t i = 1; i + 1 < body_text.size(); ++i) {
        const char c = body_text[i];
        if (in_string) {
          if (c == '\\') ++i;
          else if (c == '"') in_string = false;
        } else if (c == '"') {
          in_string = true;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if (c == '}' || c == ']') {
          --depth;
        } else if (c == ',' && depth == 0 && ++commas == before) {
          at = i + 1;
          break;
        }
      }
    }
  }
  if (at == std::string_view::npos) {   // not the plain case: build the document
    nlohmann::json create = body;
    create["active"] = true;
    return create.dump();
  }
  std::string out;
  out.reserve(body_text.size() + k_member.size() + 1);
  out.append(body_text.substr(0, at));
  if (at == body_text.size() - 1) {
    out += ',';
    out += k_member;
  } else {
    out += k_member;
    out += ',';
  }
  out.append(body_text.substr(at));
  return out;
}

std::vector<AttributeChange> create_changes(const nlohmann::json& body) {
  if (!body.is_object() || body.empty() || body.contains("active")) {
    nlohmann::json create = body;
    create["active"] = true;
    return diff_user(nlohmann::json(), create);
  }
  auto flat = flatten_scim(body);
  flat.emplace("active", true);
  std::vector<AttributeChange> changes;
  changes.reserve(flat.size());
  for (auto& [path, value] : flat)
    if (!value.is_null()) changes.push_back({path, nlohmann::json(), std::move(value)});
  return changes;
}

std::vector<AttributeChange> diff_flat(const std::map<std::string, nlohmann::json>& before,
                                       const nlohmann::json& desired) {
  std::vector<AttributeChange> changes;
  for (const auto& [path, value] : flatten_scim(desired)) {
    auto it = before.find(path);
    nlohmann::json old = it == before.end() ? nlohmann::json() : it->second;
    if (old != value) changes.push_back({path, old, value});
  }
  return changes;
}

std::vector<AttributeChange> diff_user(const nlohmann::json& current, const nlohmann::json& desired) {
  return diff_flat(current.is_object() ? flatten_scim(current) : std::map<std::string, nlohmann::json>{}, desired);
}

std::map<std::string, nlohmann::json> known_before(const nlohmann::json& pushed, const nlohmann::json& zoom) {
  auto known = pushed.is_object() ? flatten_scim(pushed) : std::map<std::string, nlohmann::json>{};
  if (zoom.is_object())
    for (auto& [path, value] : flatten_scim(zoom)) known[path] = std::move(value);
  return known;
}

} // namespace h2r

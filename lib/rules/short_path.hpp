// Short attribute names for people, declared apart from scim_paths.hpp so code that also sees
// zoom/scim_client.hpp (its own URN constants) can use it. Defined in scim_paths.cpp.
#pragma once

#include <string>
#include <string_view>

namespace h2r {

// A flattened body path ("urn:…:enterprise:2.0:User.department") as people and rules.yaml name it:
// enterprise.department, zoom.loginType.sso, zoom.pronouns, and a license flag of the zoom:1.0
// extension as zoom.licenses.zoomOneBizPlus. Core paths are returned as they are.
std::string short_scim_path(std::string_view path);

// True for a license name Zoom documents for the zoom:1.0 extension (zoomOneBizPlus, zoomPhone, …).
// Defined in rules_loader.cpp, beside the table.
bool is_known_license(std::string_view name);

// The bounded name of a flattened body path for metric labels: its short name when that is a known
// rules attribute (the scim_paths.cpp table; the email and manager as the rules name them), what a
// role sets (userType, roles), `active`, `phoneNumbers` (the whole array), or zoom.licenses.NAME of a
// known license; anything else is "other".
std::string attribute_metric_label(std::string_view path);

} // namespace h2r

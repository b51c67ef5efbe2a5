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

} // namespace h2r

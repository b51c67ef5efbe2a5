// The rules' short name of a SCIM path, for people's output. Apart from scim_paths.hpp, whose URN
// constants clash with zoom/scim_client.hpp's, so that code including the SCIM client can use it.
#pragma once

#include <string>
#include <string_view>

namespace h2r {

// A flattened SCIM body path (flatten_scim form, extension URN + "." + attribute) as the short name the
// rules use: "urn:…:enterprise:2.0:User.department" → "enterprise.department", the ZoomUser and
// zoom:1.0 extensions → "zoom.…"; core paths ("title", "name.givenName") as they are. For people's
// output; JSON keeps the SCIM paths.
std::string short_scim_path(std::string_view path);

} // namespace h2r

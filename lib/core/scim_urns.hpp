// The SCIM schema URNs of a Zoom user body, defined once. Both the rules (where an attribute lands)
// and the Zoom client (what a PATCH or a read carries) use these; two headers each defining their own
// constant of the same name but another type is an ODR violation the linker resolves silently, and an
// unoptimised build then reads a `const char*` as a `std::string_view`. Arrays convert to both.
#pragma once

namespace h2r {

inline constexpr char k_scim_core_urn[] = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr char k_scim_enterprise_urn[] = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
// Zoom's own extension: loginType and the like (rules.yaml `zoom.*` apart from licenses).
inline constexpr char k_zoom_user_urn[] = "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser";
// Zoom's license extension (rules.yaml `zoom.licenses.*`, pronouns, …).
inline constexpr char k_zoom_license_urn[] = "urn:ietf:params:scim:schemas:extension:zoom:1.0:User";
inline constexpr char k_scim_patch_urn[] = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

}  // namespace h2r

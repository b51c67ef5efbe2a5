// `h2rd connection test NAME --groups`: the Zoom groups the rules can produce for one connection that
// its account lacks. Literal group names (no placeholder) are looked up as written; templated ones
// for each name they render to among the employees h2r knows (Store::list_employees, their last known
// records, through Rules::decide for that connection). One GET /Groups per distinct name.
#pragma once

#include "rules/rules.hpp"
#include "store/store.hpp"
#include "zoom/scim_client.hpp"

#include <string>
#include <vector>

namespace h2r {

// The most distinct templated names looked up in one check (each is a Zoom call); past it the rest is
// counted in GroupCheck::templated_unchecked.
inline constexpr std::size_t k_max_checked_template_groups = 1000;

struct GroupCheck {
  struct Group {
    std::string name;
    bool templated = false;   // rendered from a template entry (else a literal entry)
    bool missing = false;
  };
  std::vector<Group> groups;            // literal entries first (file order), then templated (sorted)
  std::size_t templated_unchecked = 0;  // distinct templated names past k_max_checked_template_groups
  std::size_t missing() const;
};

// Looks each group up through `client` (connection `client.name()`); a failed lookup is the error.
Result<GroupCheck> check_groups(Store& store, ScimClient& client, const Rules& rules);

} // namespace h2r

// SCIM bodies as values (engine/scim_body.hpp): what a create reports is what diffing its POST body
// against nothing gives, with or without the shortcut that skips building that body.
#include "engine/scim_body.hpp"

#include <doctest/doctest.h>

using namespace h2r;
using nlohmann::json;

namespace {

void check_same(const std::vector<AttributeChange>& got, const std::vector<AttributeChange>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].path == want[i].path);
    CHECK(got[i].before == want[i].before);
    CHECK(got[i].after == want[i].after);
  }
}

} // namespace

TEST_CASE("scim_body: create_changes is diff_user of the POST body against nothing") {
  const std::string enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
  const std::vector<json> bodies = {
      {{"schemas", {"urn:ietf:params:scim:schemas:core:2.0:User"}}, {"userName", "ann@example.com"},
       {"name", {{"givenName", "Ann"}}}, {enterprise, {{"department", "R&D"}}}, {"title", nullptr}},
      {{"userName", "a@b.c"}, {"active", false}},   // a body with "active": the general path
      json::object(),
  };
  for (const auto& body : bodies) {
    CAPTURE(body.dump());
    json post = body;
    post["active"] = true;
    check_same(create_changes(body), diff_user(json(), post));
  }
}

// zoom-sim's userName and employeeNumber indexes follow every change to a user: create, PUT, /_sim
// merge, DELETE and reset. A stale index entry shows up as a false 409/400 or a wrong filtered GET.
#include "sim_test_util.hpp"

#include <doctest/doctest.h>

using h2r::test::SimApi;
using h2r::test::SimProcess;
using h2r::test::url_encode;
using h2r::test::user_body;
using nlohmann::json;

namespace {

json with_number(json user, const std::string& number) {
  user[h2r::test::k_enterprise] = {{"employeeNumber", number}};
  return user;
}

// userNames that GET /scim2/Users?filter=userName eq "NAME" returns, in order.
std::vector<std::string> found(SimApi& api, const std::string& name) {
  const auto reply = api.get("/scim2/Users?filter=" + url_encode("userName eq \"" + name + "\""));
  REQUIRE(reply);
  REQUIRE(reply->status == 200);
  const json list = json::parse(reply->body);
  std::vector<std::string> names;
  for (const auto& user : list["Resources"]) names.push_back(user["userName"]);
  return names;
}

std::string user_path(const std::string& id) { return "/scim2/Users/" + url_encode(id); }

} // namespace

TEST_CASE("zoom-sim: a PUT that renames a user moves both of its index entries") {
  SimProcess sim;
  SimApi api(sim);
  const auto created = api.post("/scim2/Users", with_number(user_body("old@example.com"), "E1"));
  REQUIRE(created->status == 201);
  const std::string id = SimApi::json_of(created)["id"];

  const auto renamed = api.put(user_path(id), with_number(user_body("New@Example.com"), "E2"));
  REQUIRE(renamed->status == 200);
  CHECK(found(api, "old@example.com").empty());
  CHECK(found(api, "new@example.com") == std::vector<std::string>{"New@Example.com"});

  // The old values are free again; the new ones are taken.
  CHECK(api.post("/scim2/Users", with_number(user_body("old@example.com"), "E1"))->status == 201);
  CHECK(api.post("/scim2/Users", user_body("NEW@example.com"))->status == 409);
  CHECK(api.post("/scim2/Users", with_number(user_body("other@example.com"), "E2"))->status == 400);
  // A user may PUT its own values again.
  CHECK(api.put(user_path(id), with_number(user_body("new@example.com"), "E2"))->status == 200);
}

TEST_CASE("zoom-sim: DELETE and reset free userNames and employee numbers") {
  SimProcess sim;
  SimApi api(sim);
  const auto created = api.post("/scim2/Users", with_number(user_body("gone@example.com"), "E7"));
  REQUIRE(created->status == 201);
  REQUIRE(api.del(user_path(SimApi::json_of(created)["id"]))->status == 204);
  CHECK(found(api, "gone@example.com").empty());
  CHECK(api.post("/scim2/Users", with_number(user_body("gone@example.com"), "E7"))->status == 201);
  CHECK(found(api, "gone@example.com").size() == 1);

  sim.reset();
  CHECK(found(api, "gone@example.com").empty());
  CHECK(api.post("/scim2/Users", with_number(user_body("gone@example.com"), "E7"))->status == 201);
}

TEST_CASE("zoom-sim: a /_sim merge is indexed, duplicates it makes list in creation order") {
  SimProcess sim;
  SimApi api(sim);
  const json first = sim.seed_user(with_number(user_body("first@example.com"), "E1"));
  const json second = sim.seed_user(with_number(user_body("second@example.com"), "E2"));

  // Drift behind the daemon's back: the second user takes the first one's userName, unchecked.
  sim.patch_user(second["id"], {{"userName", "FIRST@example.com"}});
  CHECK(found(api, "second@example.com").empty());
  CHECK(found(api, "first@example.com") == std::vector<std::string>{"first@example.com", "FIRST@example.com"});
  CHECK(api.post("/scim2/Users", user_body("second@example.com"))->status == 201);
  CHECK(api.post("/scim2/Users", user_body("first@example.com"))->status == 409);

  // Removing the enterprise extension frees E2; deleting one duplicate leaves the other findable.
  sim.patch_user(second["id"], {{h2r::test::k_enterprise, nullptr}});
  CHECK(api.post("/scim2/Users", with_number(user_body("third@example.com"), "E2"))->status == 201);
  sim.delete_user(first["id"]);
  CHECK(found(api, "first@example.com") == std::vector<std::string>{"FIRST@example.com"});
  CHECK(api.post("/scim2/Users", with_number(user_body("fourth@example.com"), "E1"))->status == 201);
}

TEST_CASE("zoom-sim: a create clashing on both values reports the clash a scan in id order meets first") {
  SimProcess sim;
  SimApi api(sim);
  json a = with_number(user_body("a@example.com"), "EA");
  a["id"] = "u-a";
  json b = with_number(user_body("b@example.com"), "EB");
  b["id"] = "u-b";
  sim.seed_user(a);
  sim.seed_user(b);
  // userName of u-b, number of u-a: u-a comes first, so the number clash is reported.
  CHECK(api.post("/scim2/Users", with_number(user_body("b@example.com"), "EA"))->status == 400);
  // userName of u-a, number of u-b: the userName clash.
  CHECK(api.post("/scim2/Users", with_number(user_body("a@example.com"), "EB"))->status == 409);
}

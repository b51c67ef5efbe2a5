// zoom-sim over real HTTP: it must behave like Zoom where h2r depends on it.
#include "sim_test_util.hpp"

#include "core/time.hpp"
#include "support/eventually.hpp"

#include <doctest/doctest.h>

#include <regex>
#include <set>
#include <thread>

using h2r::test::active_patch;
using h2r::test::SimApi;
using h2r::test::SimProcess;
using h2r::test::url_encode;
using h2r::test::user_body;
using nlohmann::json;

namespace {

httplib::Result token_request(const SimProcess& sim, const std::string& client_id, const std::string& secret,
                              const std::string& query, const std::string& form = {}) {
  httplib::Client client("127.0.0.1", sim.port());
  client.set_basic_auth(client_id, secret);
  return client.Post("/oauth/token" + query, form, "application/x-www-form-urlencoded");
}

std::string user_path(const std::string& id) { return "/scim2/Users/" + url_encode(id); }

// Calls GET `path` until a 429 (at most 20 calls, far beyond a 1/s bucket).
httplib::Result until_throttled(SimApi& api, const std::string& path) {
  auto res = api.get(path);
  for (int i = 0; i < 20 && res && res->status != 429; ++i) {
    res = api.get(path);
  }
  return res;
}

} // namespace

TEST_CASE("zoom-sim: OAuth issues tokens and refuses bad requests like Zoom") {
  SimProcess sim;
  const std::string good_query = "?grant_type=account_credentials&account_id=" + sim.account_id();

  SUBCASE("credentials in query and Basic auth") {
    const auto res = token_request(sim, sim.client_id(), sim.secret().reveal(), good_query);
    REQUIRE(res);
    CHECK(res->status == 200);
    const json body = json::parse(res->body);
    CHECK(body["token_type"] == "bearer");
    CHECK(body["expires_in"] == 3600);
    CHECK(body["api_url"] == sim.base_url());
    CHECK_FALSE(body["access_token"].get<std::string>().empty());
    CHECK(sim.stats()["tokens_issued"] == 1);
  }
  SUBCASE("parameters in a form body") {
    const auto res = token_request(sim, sim.client_id(), sim.secret().reveal(), "",
                                   "grant_type=account_credentials&account_id=" + sim.account_id());
    REQUIRE(res);
    CHECK(res->status == 200);
  }

  struct Case {
    const char* name;
    std::string client_id;
    std::string secret;
    std::string query;
    const char* error;
    const char* reason;
  };
  const Case cases[] = {
      {"wrong secret", sim.client_id(), "nope", good_query, "invalid_client", "Invalid client_id or client_secret"},
      {"wrong client id", "other", sim.secret().reveal(), good_query, "invalid_client",
       "Invalid client_id or client_secret"},
      {"wrong grant", sim.client_id(), sim.secret().reveal(), "?grant_type=client_credentials&account_id=acc-test",
       "unsupported_grant_type", "unsupported grant type"},
      {"unknown account", sim.client_id(), sim.secret().reveal(), "?grant_type=account_credentials&account_id=zzz",
       "invalid_request", "Invalid account_id"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const auto res = token_request(sim, c.client_id, c.secret, c.query);
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(json::parse(res->body) == json{{"error", c.error}, {"reason", c.reason}});
  }
}

TEST_CASE("zoom-sim: ids with reserved characters work when percent-encoded") {
  SimProcess sim({"--seed", "7"});
  SimApi api(sim);

  const auto created = api.post("/scim2/Users", user_body("jill@example.com"));
  REQUIRE(created);
  REQUIRE(created->status == 201);
  CHECK(created->get_header_value("Content-Type") == "application/scim+json");
  const json user = json::parse(created->body);
  const std::string id = user["id"];
  CHECK(id.find('&') != std::string::npos);
  CHECK(user["active"] == true);
  CHECK(user["meta"]["resourceType"] == "User");
  CHECK(user["meta"]["version"] == "W/\"1\"");

  const auto got = api.get(user_path(id));
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(json::parse(got->body)["userName"] == "jill@example.com");

  // PUT is partial: only the given fields change, objects merge.
  const json change = {{"schemas", {h2r::test::k_core_schema}}, {"name", {{"familyName", "Thrill"}}}, {"title", "CTO"}};
  const auto put = api.put(user_path(id), change);
  REQUIRE(put);
  CHECK(put->status == 200);
  const json updated = json::parse(put->body);
  CHECK(updated["name"] == json{{"givenName", "Jill"}, {"familyName", "Thrill"}});
  CHECK(updated["title"] == "CTO");
  CHECK(updated["userName"] == "jill@example.com");
  CHECK(updated["meta"]["version"] == "W/\"2\"");

  const auto patched = api.patch(user_path(id), active_patch(false));
  REQUIRE(patched);
  CHECK(patched->status == 204);
  CHECK(sim.users()[0]["active"] == false);

  const auto path_form = api.patch(user_path(id), {{"schemas", {h2r::test::k_patch_op}},
                                                   {"Operations", {{{"op", "replace"}, {"path", "active"}, {"value", true}}}}});
  REQUIRE(path_form);
  CHECK(path_form->status == 204);
  CHECK(sim.users()[0]["active"] == true);

  const auto deleted = api.del(user_path(id));
  REQUIRE(deleted);
  CHECK(deleted->status == 204);
  const auto gone = api.get(user_path(id));
  REQUIRE(gone);
  CHECK(gone->status == 404);
  CHECK(json::parse(gone->body)["status"] == 404);
  CHECK(sim.users().empty());

  const json stats = sim.stats();
  CHECK(stats["requests"]["POST /Users"] == 1);
  CHECK(stats["requests"]["GET /Users/{id}"] == 2);
  CHECK(stats["creates_applied"] == 1);
}

TEST_CASE("zoom-sim: create refuses bad and duplicate users") {
  SimProcess sim;
  SimApi api(sim);
  json first = user_body("a@example.com");
  first[h2r::test::k_enterprise] = {{"employeeNumber", "E1"}};
  REQUIRE(api.post("/scim2/Users", first)->status == 201);

  const auto same_name = api.post("/scim2/Users", user_body("A@Example.com"));
  CHECK(same_name->status == 409);
  CHECK(SimApi::json_of(same_name)["scimType"] == "uniqueness");
  CHECK(SimApi::json_of(same_name)["detail"] == "User already exists");

  json same_number = user_body("b@example.com");
  same_number[h2r::test::k_enterprise] = {{"employeeNumber", "E1"}};
  const auto dup = api.post("/scim2/Users", same_number);
  CHECK(dup->status == 400);
  CHECK(SimApi::json_of(dup)["detail"] == "employeeNumber already exists");

  CHECK(api.post("/scim2/Users", user_body("not-an-email"))->status == 400);
  CHECK(sim.users().size() == 1);
}

TEST_CASE("zoom-sim: filter by userName, case-insensitive, other filters refused") {
  SimProcess sim;
  SimApi api(sim);
  sim.seed_user(user_body("first@example.com"));
  sim.seed_user(user_body("second@example.com"));

  const auto found = api.get("/scim2/Users?filter=" + url_encode("userName eq \"SECOND@example.com\""));
  REQUIRE(found);
  const json list = json::parse(found->body);
  CHECK(list["schemas"] == json{"urn:ietf:params:scim:api:messages:2.0:ListResponse"});
  CHECK(list["totalResults"] == 1);
  CHECK(list["Resources"][0]["userName"] == "second@example.com");

  const auto none = api.get("/scim2/Users?filter=" + url_encode("userName eq \"nobody@example.com\""));
  CHECK(json::parse(none->body)["totalResults"] == 0);
  CHECK(json::parse(none->body)["Resources"].empty());

  for (const char* filter : {"emails eq \"first@example.com\"", "userName co \"first\"", "userName eq first@example.com"}) {
    CAPTURE(filter);
    const auto bad = api.get("/scim2/Users?filter=" + url_encode(filter));
    CHECK(bad->status == 400);
    CHECK(SimApi::json_of(bad)["scimType"] == "invalidFilter");
  }
}

TEST_CASE("zoom-sim: paging across 250 users") {
  SimProcess sim;
  SimApi api(sim);
  for (int i = 0; i < 250; ++i) {
    sim.seed_user(user_body("user" + std::to_string(i) + "@example.com"));
  }
  std::set<std::string> seen;
  size_t start = 1;
  int pages = 0;
  while (true) {
    const auto res = api.get("/scim2/Users?startIndex=" + std::to_string(start) + "&count=500");
    REQUIRE(res);
    const json page = json::parse(res->body);
    REQUIRE(page["totalResults"] == 250);
    CHECK(page["startIndex"] == start);
    CHECK(page["itemsPerPage"].get<size_t>() == page["Resources"].size());
    CHECK(page["Resources"].size() <= 100);
    for (const json& user : page["Resources"]) {
      seen.insert(user["id"].get<std::string>());
    }
    ++pages;
    start += page["Resources"].size();
    if (start > 250 || page["Resources"].empty()) {
      break;
    }
  }
  CHECK(pages == 3);
  CHECK(seen.size() == 250);
}

TEST_CASE("zoom-sim: PATCH needs Operations with a capital O") {
  SimProcess sim;
  SimApi api(sim);
  const std::string id = sim.seed_user(user_body("x@example.com"))["id"];
  const json lowercase = {{"schemas", {h2r::test::k_patch_op}},
                          {"operations", {{{"op", "replace"}, {"value", {{"active", false}}}}}}};
  const auto res = api.patch(user_path(id), lowercase);
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(json::parse(res->body) == json{{"schemas", {"urn:ietf:params:scim:api:messages:2.0:Error"}},
                                       {"detail", "The request json did not contains valid active field."},
                                       {"status", 400}});
  CHECK(sim.users()[0]["active"] == true);
}

TEST_CASE("zoom-sim: list results omit license fields, manager, organization and costCenter") {
  SimProcess sim;
  SimApi api(sim);
  json body = user_body("lic@example.com");
  body[h2r::test::k_license] = {{"zoomOneBizPlus", true}};
  body[h2r::test::k_enterprise] = {
      {"department", "Eng"}, {"organization", "Acme"}, {"costCenter", "CC"}, {"manager", {{"value", "b@x.com"}}}};
  const std::string id = SimApi::json_of(api.post("/scim2/Users", body))["id"];

  const json listed = SimApi::json_of(api.get("/scim2/Users"))["Resources"][0];
  CHECK_FALSE(listed.contains(h2r::test::k_license));
  CHECK(listed[h2r::test::k_enterprise] == json{{"department", "Eng"}});

  const json single = SimApi::json_of(api.get(user_path(id)));
  CHECK(single[h2r::test::k_license]["zoomOneBizPlus"] == true);
  CHECK(single[h2r::test::k_enterprise]["costCenter"] == "CC");
  CHECK(sim.users()[0][h2r::test::k_license]["zoomOneBizPlus"] == true);
}

TEST_CASE("zoom-sim: over the rate limit, 429 with Zoom's headers and an ISO Retry-After") {
  SimProcess sim({"--rate-limit", "1"});
  SimApi api(sim);
  auto limited = until_throttled(api, "/scim2/Users");
  REQUIRE(limited);
  REQUIRE(limited->status == 429);
  CHECK(limited->get_header_value("X-RateLimit-Type") == "QPS");
  CHECK(limited->get_header_value("X-RateLimit-Category") == "Medium");
  CHECK(limited->get_header_value("X-RateLimit-Limit") == "1");
  CHECK(limited->get_header_value("X-RateLimit-Remaining") == "0");
  const std::string retry_after = limited->get_header_value("Retry-After");
  CHECK(std::regex_match(retry_after, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)")));
  CHECK(h2r::parse_http_or_iso_date(retry_after).has_value());
  CHECK(sim.stats()["rate_limited"].get<int>() >= 1);

  sim.configure({{"retry_after_format", "seconds"}});
  limited = until_throttled(api, "/scim2/Users/x");
  REQUIRE(limited);
  REQUIRE(limited->status == 429);
  CHECK(limited->get_header_value("X-RateLimit-Category") == "Light");
  CHECK(std::regex_match(limited->get_header_value("Retry-After"), std::regex(R"(\d+)")));
}

TEST_CASE("zoom-sim: daily limit answers 429 Daily-limit") {
  h2r::test::wait_clear_of_midnight_utc();
  SimProcess sim({"--daily-limit", "2"});
  SimApi api(sim);
  CHECK(api.get("/scim2/Users")->status == 200);
  CHECK(api.get("/scim2/Users")->status == 200);
  const auto res = api.get("/scim2/Users");
  CHECK(res->status == 429);
  CHECK(res->get_header_value("X-RateLimit-Type") == "Daily-limit");
  CHECK(res->get_header_value("Retry-After").substr(10) == "T00:00:00Z");
}

TEST_CASE("zoom-sim: a lost create is applied but answered 502") {
  SimProcess sim({"--lost-create-rate", "1"});
  SimApi api(sim);
  const auto res = api.post("/scim2/Users", user_body("lost@example.com"));
  REQUIRE(res);
  CHECK(res->status == 502);
  REQUIRE(sim.users().size() == 1);
  CHECK(sim.users()[0]["userName"] == "lost@example.com");
  CHECK(sim.stats()["creates_applied"] == 1);
  // The retry then meets the user that exists.
  CHECK(api.post("/scim2/Users", user_body("lost@example.com"))->status == 409);
}

TEST_CASE("zoom-sim: injected failures are 5xx with no effect") {
  SimProcess sim({"--fail-rate", "1", "--seed", "3"});
  SimApi api(sim);
  const auto res = api.post("/scim2/Users", user_body("fail@example.com"));
  REQUIRE(res);
  CHECK((res->status == 500 || res->status == 502 || res->status == 503));
  CHECK(sim.users().empty());
  sim.configure({{"fail_rate", 0}});
  CHECK(api.post("/scim2/Users", user_body("fail@example.com"))->status == 201);
}

TEST_CASE("zoom-sim: token invalidation") {
  SUBCASE("with --single-token a new token invalidates the old one") {
    SimProcess sim({"--single-token"});
    SimApi first(sim);
    CHECK(first.get("/scim2/Users")->status == 200);
    SimApi second(sim);
    const auto refused = first.get("/scim2/Users");
    CHECK(refused->status == 401);
    CHECK(SimApi::json_of(refused) == json{{"code", 124}, {"message", "Invalid access token."}});
    CHECK(second.get("/scim2/Users")->status == 200);
  }
  SUBCASE("without it, several tokens live at once") {
    SimProcess sim;
    SimApi first(sim);
    SimApi second(sim);
    CHECK(first.get("/scim2/Users")->status == 200);
    CHECK(second.get("/scim2/Users")->status == 200);
    sim.invalidate_tokens();
    CHECK(first.get("/scim2/Users")->status == 401);
  }
  SUBCASE("an expired token gets 401 code 124") {
    SimProcess sim({"--token-lifetime", "1"});
    SimApi api(sim);
    // The token runs out after its one second: poll until it has (the bound is generous, never asserted).
    REQUIRE(h2r::test::eventually([&] { return api.get("/scim2/Users")->status == 401; }, std::chrono::seconds(30)));
    const auto res = api.get("/scim2/Users");
    CHECK(res->status == 401);
    CHECK(SimApi::json_of(res)["code"] == 124);
  }
  SUBCASE("a missing scope gets 401 code 4711") {
    SimProcess sim({"--missing-scope"});
    SimApi api(sim);
    const auto res = api.get("/scim2/Users");
    CHECK(res->status == 401);
    CHECK(SimApi::json_of(res)["code"] == 4711);
  }
}

TEST_CASE("zoom-sim: group members are added and removed") {
  SimProcess sim({"--group", "Engineering"});
  SimApi api(sim);
  const std::string user_id = sim.seed_user(user_body("m@example.com"))["id"];
  const auto found = api.get("/scim2/Groups?filter=" + url_encode("displayName eq \"engineering\""));
  REQUIRE(found);
  REQUIRE(SimApi::json_of(found)["totalResults"] == 1);
  const std::string group_id = SimApi::json_of(found)["Resources"][0]["id"];
  const std::string path = "/scim2/Groups/" + url_encode(group_id);

  const json add = {{"schemas", {h2r::test::k_patch_op}},
                    {"Operations", {{{"op", "add"}, {"path", "members"}, {"value", {{{"value", user_id}}}}}}}};
  CHECK(api.patch(path, add)->status == 204);
  CHECK(SimApi::json_of(api.get(path))["members"][0]["value"] == user_id);

  const json remove = {{"schemas", {h2r::test::k_patch_op}},
                       {"Operations", {{{"op", "remove"}, {"path", "members[value eq \"" + user_id + "\"]"}}}}};
  CHECK(api.patch(path, remove)->status == 204);
  CHECK(SimApi::json_of(api.get(path))["members"].empty());
}

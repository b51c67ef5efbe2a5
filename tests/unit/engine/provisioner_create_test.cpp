// The create path dumps the desired body once and shares the text: the POST body, the link's digest
// and the reported changes must stay what building the documents gave (stored links keep their
// digest; `events show` reads the changes).
#include "engine/provisioner.hpp"
#include "fakes/fake_transport.hpp"

#include <doctest/doctest.h>

using namespace h2r;
using namespace h2r::test;
using nlohmann::json;

namespace {

const std::string k_core = "urn:ietf:params:scim:schemas:core:2.0:User";
const std::string k_enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

json with_active(json body) {
  body["active"] = true;
  return body;
}

} // namespace

TEST_CASE("provisioner create: with_active_true is the dump of the body with \"active\": true") {
  const std::vector<json> bodies = {
      {{"schemas", {k_core, k_enterprise}}, {"userName", "ann@example.com"}, {"name", {{"givenName", "Ann"}}},
       {k_enterprise, {{"department", "R&D"}}}},
      {{"userName", "a@b.c"}},                                              // every key after "active"
      {{"Zed", 1}, {"_x", "y"}, {"aa", {1, 2}}, {"ab", nullptr}},             // every key before it
      {{"Zed", "a,b\"},{[c"}, {"act", {{"x", "\\\","}, {"y", {",", "]"}}}}, {"actives", 1}, {"b", "c"}},
      {{"A", json::object()}, {"activ", json::array()}, {"activf", "é ✓"}, {"z", {{"a", {{"b", ","}}}}}},
      {{"active", false}, {"userName", "x@y.z"}},                            // has "active" already
      json::object(),
      json(),
  };
  for (const auto& body : bodies) {
    CAPTURE(body.dump());
    CHECK(with_active_true(body, body.dump()) == with_active(body).dump());
  }
}

TEST_CASE("provisioner create: POST body, reported changes, link digest and pushed body as the documents give") {
  FakeTransport transport;
  FakeClock clock;
  TokenCache tokens{transport, clock};
  RateLimiter limiter{0};
  ScimClient client{ZoomConnection{"zoom-main", {"acc", "cid", Secret("s3cret"), "https://zoom.example/oauth/token"},
                                   "https://api.example/scim2"},
                    transport, tokens, limiter, clock};
  transport.on("/oauth/token", [](const HttpRequest&) -> Result<HttpResponse> { return token_response("tok"); });
  transport.push("/scim2/Users?filter=", json_response(200, {{"totalResults", 0}, {"Resources", json::array()}}));
  transport.push("/scim2/Users", json_response(201, {{"id", "u-9"}, {"userName", "ann@example.com"}, {"active", true}}));

  Intent intent;
  intent.connection = "zoom-main";
  intent.kind = IntentKind::provision;
  intent.desired = DesiredUser{"staff", "ann@example.com",
                               {{"schemas", {k_core, k_enterprise}},
                                {"userName", "ann@example.com"},
                                {"A-first", "sorts before active"},
                                {"nothing", nullptr},
                                {"name", {{"givenName", "Ann \"A\",\n"}, {"familyName", "Lee"}}},
                                {k_enterprise, {{"manager", {{"value", "boss@example.com"}}}}}},
                               {},
                               {},
                               ""};
  intent.user_name = "ann@example.com";
  auto report = Provisioner(client, false, 7).carry_out(intent, "E1");
  REQUIRE(report);
  CHECK(report->action == "created");

  const json create = with_active(intent.desired->body);
  std::string posted;
  for (const auto& r : transport.requests())
    if (r.method == "POST" && r.url.find("/scim2/Users") != std::string::npos) posted = r.body;
  CHECK(posted == create.dump());

  REQUIRE(report->calls.size() == 1);
  const auto expected = diff_user(json(), create);
  REQUIRE(report->calls[0].changes.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(report->calls[0].changes[i].path == expected[i].path);
    CHECK(report->calls[0].changes[i].before == expected[i].before);
    CHECK(report->calls[0].changes[i].after == expected[i].after);
  }

  REQUIRE(report->link);
  CHECK(report->link->zoom_user_id == "u-9");
  CHECK(report->link->pushed_digest == desired_digest(*intent.desired, true));
  CHECK(report->link->pushed_digest == desired_digest(*intent.desired, true, intent.desired->body.dump()));
  CHECK(report->link->pushed_body == update_body(*intent.desired, {}));
  CHECK(report->link->pushed_at_ms == 7);
}

// Provisioner groups against a FakeTransport: which groups h2r records as its own, which it removes,
// and that a group gone at Zoom is forgotten rather than failing the event.
#include "engine/provisioner.hpp"
#include "fakes/fake_transport.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"
#include "zoom/call_fence.hpp"

#include <doctest/doctest.h>

using namespace h2r;
using namespace h2r::test;
using nlohmann::json;

namespace {

struct Rig {
  FakeTransport transport;
  FakeClock clock;
  TokenCache tokens{transport, clock};
  RateLimiter limiter{0};
  ScimClient client{ZoomConnection{"zoom-main",
                                   {"acc", "cid", Secret("s3cret"), "https://zoom.example/oauth/token"},
                                   "https://api.example/scim2"},
                    transport, tokens, limiter, clock};
  Rig() {
    transport.on("/oauth/token", [](const HttpRequest&) -> Result<HttpResponse> { return token_response("tok"); });
    transport.on("/scim2/Users/u-1", [](const HttpRequest&) -> Result<HttpResponse> {
      return json_response(200, {{"id", "u-1"}, {"userName", "j@example.com"}, {"active", true}});
    });
  }
  // The group lookup answers `name` with id `id`, listing `members`.
  void group(const std::string& name, const std::string& id, const std::vector<std::string>& members) {
    json listed = json::array();
    for (const auto& m : members) listed.push_back({{"value", m}});
    transport.push("displayName", json_response(200, {{"totalResults", 1},
                                                       {"Resources", {{{"id", id}, {"displayName", name},
                                                                       {"members", listed}}}}}));
  }
};

Intent intent_for(LinkRow link, std::vector<std::string> groups) {
  Intent intent;
  intent.connection = "zoom-main";
  intent.kind = IntentKind::provision;
  intent.desired = DesiredUser{"engineering", "j@example.com", {{"userName", "j@example.com"}, {"title", "Lead"}},
                               std::move(groups), {}, ""};
  intent.link = std::move(link);
  intent.user_name = "j@example.com";
  return intent;
}

LinkRow stored_link() { return {"zoom-main", "E1", "u-1", "j@example.com", "old-digest", true, 1}; }

} // namespace

TEST_CASE("provisioner groups: a group the user is already in is someone else's, unless the link predates records") {
  SUBCASE("a link with a pushed body: not added, not recorded") {
    Rig rig;
    rig.group("Eng", "g-1", {"u-1"});
    LinkRow link = stored_link();
    link.pushed_body = {{"userName", "j@example.com"}, {"title", "Engineer"}};
    auto report = Provisioner(rig.client, false, 5).carry_out(intent_for(link, {"Eng"}), "E1");
    REQUIRE(report);
    CHECK(rig.transport.count("/Groups/g-1", "PATCH") == 0);
    REQUIRE(report->link);
    CHECK(report->link->pushed_groups.empty());
    CHECK(report->link->pushed_body["title"] == "Lead");
    CHECK(report->link->pushed_at_ms == 5);
    REQUIRE(report->calls.size() == 1);
    REQUIRE(report->calls[0].changes.size() == 1);   // only what changed, old → new
    CHECK(report->calls[0].changes[0].before == "Engineer");
  }
  SUBCASE("a link h2r pushed to before it kept bodies: the group is taken as h2r's") {
    Rig rig;
    rig.group("Eng", "g-1", {"u-1"});
    auto report = Provisioner(rig.client, false, 5).carry_out(intent_for(stored_link(), {"Eng"}), "E1");
    REQUIRE(report);
    CHECK(rig.transport.count("/Groups/g-1", "PATCH") == 0);
    REQUIRE(report->link);
    CHECK(report->link->pushed_groups == std::vector<PushedGroup>{{"Eng", "g-1"}});
  }
  SUBCASE("a group not joined yet is added and recorded") {
    Rig rig;
    rig.group("Eng", "g-1", {"someone-else"});
    rig.transport.push("/Groups/g-1", HttpResponse{204, {}, ""});
    LinkRow link = stored_link();
    link.pushed_body = json::object();
    auto report = Provisioner(rig.client, false, 5).carry_out(intent_for(link, {"Eng"}), "E1");
    REQUIRE(report);
    CHECK(rig.transport.count("/Groups/g-1", "PATCH") == 1);
    CHECK(report->link->pushed_groups == std::vector<PushedGroup>{{"Eng", "g-1"}});
  }
}

TEST_CASE("provisioner groups: a recorded group the rules dropped is left, and one gone at Zoom is forgotten") {
  Rig rig;
  rig.transport.push("/Groups/g-old", HttpResponse{204, {}, ""});
  rig.transport.push("/Groups/g-gone", json_response(404, {{"detail", "Group does not exist"}, {"status", 404}}));
  LinkRow link = stored_link();
  link.pushed_body = {{"userName", "j@example.com"}};
  link.pushed_groups = {{"Old", "g-old"}, {"Gone", "g-gone"}};
  auto report = Provisioner(rig.client, false, 5).carry_out(intent_for(link, {}), "E1");
  REQUIRE(report);
  CHECK(rig.transport.count("/Groups/g-old", "PATCH") == 1);
  CHECK(rig.transport.count("/Groups/g-gone", "PATCH") == 1);
  for (const auto& r : rig.transport.requests())
    if (r.url.find("/Groups/g-old") != std::string::npos)
      CHECK(json::parse(r.body)["Operations"][0]["op"] == "remove");
  REQUIRE(report->link);
  CHECK(report->link->pushed_groups.empty());

  // In dry run the removal is a planned call on the Groups resource, and nothing is sent.
  Rig dry;
  auto planned = Provisioner(dry.client, true, 0).carry_out(intent_for(link, {}), "E1");
  REQUIRE(planned);
  CHECK(dry.transport.count("/Groups/", "PATCH") == 0);
  bool saw = false;
  for (const auto& c : planned->calls)
    if (c.resource == "Groups" && c.target == "g-old" && c.summary == "remove from group Old") saw = true;
  CHECK(saw);
}

TEST_CASE("provisioner: a daemon that lost the event reserves no login and sends nothing") {
  TempDir dir;
  auto opened = open_sqlite_store(dir.file("h2r.db").string());
  REQUIRE(opened);
  Store& store = **opened;
  REQUIRE(store.add_connection({"zoom-main", "acc", "cid", "blob", "https://zoom.example/oauth/token",
                                "https://api.example/scim2", 10, 1, 1}));
  Rig rig;
  rig.transport.on("filter=", [](const HttpRequest&) -> Result<HttpResponse> {
    return json_response(200, {{"totalResults", 0}, {"Resources", json::array()}});
  });
  // An operator rejected the event (or another daemon took it over) before its first changing call.
  CallFenceScope fence([]() -> Result<void> {
    Error lost = Error::transient("event 1 is no longer this daemon's to act on");
    lost.reason = ErrorReason::fenced;
    return unexpected(std::move(lost));
  });
  Provisioner provisioner(rig.client, false, 5);
  bind_to_store(provisioner, store, "zoom-main", "E1", [] { return 5LL; });
  Intent intent = intent_for(stored_link(), {});
  intent.link.reset();
  auto report = provisioner.carry_out(intent, "E1");
  REQUIRE_FALSE(report);
  CHECK(report.error().reason == ErrorReason::fenced);
  CHECK(rig.transport.count("/scim2/Users", "POST") == 0);
  // The login is still free for anyone.
  auto holder = store.reserve_user_name({"zoom-main", "j@example.com", "j@example.com", "E9", 6});
  REQUIRE(holder);
  CHECK(holder->empty());
}

TEST_CASE("scim groups: a name from HR data finds Zoom's group whatever its ASCII case, the exact name first") {
  Rig rig;
  rig.group("Dept Sales", "g-9", {});
  auto found = rig.client.find_group("Dept sales");
  REQUIRE(found);
  REQUIRE(found->has_value());
  CHECK((*found)->id == "g-9");
  CHECK((*found)->display_name == "Dept Sales");   // Zoom's name, not ours

  json both = {{"totalResults", 2},
               {"Resources", {{{"id", "g-2"}, {"displayName", "DEPT SALES"}}, {{"id", "g-1"}, {"displayName", "Dept Sales"}}}}};
  rig.transport.push("displayName", json_response(200, both));
  auto exact = rig.client.find_group("Dept Sales");
  REQUIRE((exact && exact->has_value()));
  CHECK((*exact)->id == "g-1");

  rig.transport.push("displayName", json_response(200, {{"totalResults", 1},
                                                        {"Resources", {{{"id", "g-3"}, {"displayName", "Dept Ops"}}}}}));
  auto other = rig.client.find_group("Dept Sales");
  REQUIRE(other);
  CHECK_FALSE(other->has_value());
}

TEST_CASE("scim groups: a create Zoom refuses as existing, by 409 or by a 400 that says so, is a conflict") {
  for (const int status : {409, 400}) {
    CAPTURE(status);
    Rig rig;
    rig.transport.on("/scim2/Groups", [status](const HttpRequest&) -> Result<HttpResponse> {
      return json_response(status, {{"detail", "Group name already exists"}});
    });
    auto created = rig.client.create_group("Dept Sales");
    REQUIRE_FALSE(created);
    CHECK(created.error().kind == ErrorKind::conflict);
  }
}

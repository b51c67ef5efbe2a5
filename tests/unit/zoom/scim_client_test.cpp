// ScimClient against a FakeTransport and a FakeClock: the token dance, scopes, 429s in every form,
// the daily limit, encoding and Zoom's body quirks.
#include "core/time.hpp"
#include "fakes/fake_transport.hpp"
#include "zoom/scim_client.hpp"
#include "zoom/zoom_errors.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <ctime>

using namespace h2r;
using namespace h2r::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_users = "/scim2/Users";

std::string http_date(SystemTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

// One connection's client over a fake network; waits move the fake clock.
struct Rig {
  FakeTransport transport;
  FakeClock clock;
  TokenCache tokens{transport, clock};
  RateLimiter limiter{0};
  std::atomic<int> issued{0};
  ScimClientOptions options;

  Rig() {
    transport.on("/oauth/token", [this](const HttpRequest&) -> Result<HttpResponse> {
      return token_response("tok-" + std::to_string(++issued), 3600);
    });
    options.sleep_until = [this](SystemTime t) {
      if (t > clock.now()) clock.set(t);
      return true;
    };
  }
  ScimClient client(ScimClientOptions o) {
    ZoomConnection connection{"zoom-main",
                              {"acc", "cid", Secret("s3cret"), "https://zoom.example/oauth/token"},
                              "https://api.example/scim2"};
    return ScimClient(connection, transport, tokens, limiter, clock, std::move(o));
  }
  ScimClient client() { return client(options); }
  std::string bearer(std::size_t index) const {
    auto requests = transport.requests();
    std::vector<HttpRequest> scim;
    for (auto& r : requests)
      if (r.url.find("/scim2") != std::string::npos) scim.push_back(r);
    for (auto& [name, value] : scim.at(index).headers)
      if (name == "Authorization") return value;
    return "";
  }
};

HttpResponse user_json(const std::string& id, const std::string& user_name) {
  return json_response(200, {{"id", id}, {"userName", user_name}, {"active", true}});
}

const HttpResponse k_expired = json_response(401, {{"code", 124}, {"message", "Invalid access token."}});

} // namespace

TEST_CASE("scim client: 401 code 124 drops the token, fetches a new one once and retries once") {
  Rig rig;
  auto client = rig.client();
  rig.transport.push(k_users, k_expired);
  rig.transport.push(k_users, user_json("u1", "a@b.com"));
  auto user = client.get_user("u1");
  REQUIRE(user);
  CHECK(user->id == "u1");
  CHECK(rig.transport.count("/oauth/token") == 2);
  CHECK(rig.transport.count(k_users) == 2);
  CHECK(rig.bearer(0) == "Bearer tok-1");
  CHECK(rig.bearer(1) == "Bearer tok-2");
}

TEST_CASE("scim client: a second 124 in a row is not retried again (transient, for later)") {
  Rig rig;
  auto client = rig.client();
  rig.transport.push(k_users, k_expired);
  rig.transport.push(k_users, k_expired);
  rig.transport.push(k_users, user_json("u1", "a@b.com"));   // must not be reached
  auto user = client.get_user("u1");
  REQUIRE_FALSE(user);
  CHECK(user.error().kind == ErrorKind::transient);
  CHECK(user.error().code == "124");
  CHECK(rig.transport.count(k_users) == 2);
  CHECK(rig.transport.count("/oauth/token") == 2);
}

TEST_CASE("scim client: a missing scope (4711) is permanent, names the scope, and is not retried") {
  for (int status : {400, 401}) {
    CAPTURE(status);
    Rig rig;
    auto client = rig.client();
    rig.transport.push(k_users, json_response(status, {{"code", 4711},
                                                       {"message", "Invalid access token, does not contain scopes:[user:write:admin]"}}));
    auto created = client.create_user({{"userName", "a@b.com"}});
    REQUIRE_FALSE(created);
    CHECK(created.error().kind == ErrorKind::permanent);
    CHECK(created.error().code == "4711");
    CHECK(created.error().message.find("user:write:admin") != std::string::npos);
    CHECK(rig.transport.count(k_users) == 1);
    CHECK(rig.transport.count("/oauth/token") == 1);
  }
}

TEST_CASE("scim client: 429 waits for Retry-After in each form, and pauses the connection for everyone") {
  struct Case {
    const char* name;
    std::function<std::string(SystemTime)> header;   // Retry-After for a wait of 7 s; "" = absent
    std::chrono::milliseconds wait;
  };
  const Case cases[] = {
      {"seconds", [](SystemTime) { return std::string("7"); }, 7s},
      {"HTTP-date", [](SystemTime now) { return http_date(now + 7s); }, 7s},
      {"ISO date (Zoom)", [](SystemTime now) { return format_utc(now + 7s); }, 7s},
      {"absent", [](SystemTime) { return std::string(); }, 1s},   // ScimClientOptions::default_retry_after
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    Rig rig;
    const SystemTime start = rig.clock.now();
    std::vector<std::pair<std::string, std::string>> headers = {{"X-RateLimit-Type", "QPS"},
                                                                {"X-RateLimit-Category", "Light"}};
    if (auto h = c.header(start); !h.empty()) headers.emplace_back("Retry-After", h);
    rig.transport.push(k_users, json_response(429, nullptr, headers));
    rig.transport.push(k_users, user_json("u1", "a@b.com"));
    auto client = rig.client();
    auto user = client.get_user("u1");
    REQUIRE(user);
    CHECK(rig.clock.now() - start == c.wait);   // waited exactly until the stated time
    CHECK(rig.transport.count(k_users) == 2);

    // Shared: with no inline retries, the 429 comes back — and another client on the same
    // connection's limiter does not call before the stated time either.
    ScimClientOptions no_retry = rig.options;
    no_retry.max_rate_limit_retries = 0;
    auto impatient = rig.client(no_retry);
    const SystemTime second = rig.clock.now();
    rig.transport.push(k_users, json_response(429, nullptr, headers.size() > 2 ? std::vector<std::pair<std::string, std::string>>{
                                                                                    {"Retry-After", c.header(second)}}
                                                                              : std::vector<std::pair<std::string, std::string>>{}));
    auto refused = impatient.get_user("u1");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().reason == ErrorReason::rate_limited);
    REQUIRE(refused.error().retry_at);
    CHECK(*refused.error().retry_at == second + c.wait);
    auto pause = rig.limiter.pause(rig.clock.now());
    REQUIRE(pause);
    CHECK(pause->first == second + c.wait);
    SystemTime sent_at{};
    rig.transport.on(k_users, [&](const HttpRequest&) -> Result<HttpResponse> {
      sent_at = rig.clock.now();
      return user_json("u1", "a@b.com");
    });
    auto other = rig.client();
    REQUIRE(other.get_user("u1"));
    CHECK(sent_at >= second + c.wait);
  }
}

TEST_CASE("scim client: a Daily-limit 429 comes back at once with retry_at, the connection stays paused") {
  Rig rig;
  const SystemTime start = rig.clock.now();
  const SystemTime tomorrow = start + 10h;
  rig.transport.push(k_users, json_response(429, nullptr, {{"X-RateLimit-Type", "Daily-limit"},
                                                           {"X-RateLimit-Category", "Light"},
                                                           {"Retry-After", format_utc(tomorrow)}}));
  auto client = rig.client();
  auto created = client.create_user({{"userName", "a@b.com"}});
  REQUIRE_FALSE(created);
  CHECK(created.error().daily_limit);
  CHECK(created.error().reason == ErrorReason::daily_limit);
  CHECK(created.error().kind == ErrorKind::transient);
  REQUIRE(created.error().retry_at);
  CHECK(*created.error().retry_at == tomorrow);
  CHECK(rig.clock.now() == start);   // no inline wait
  // The next call makes no request: the connection is paused, and says so.
  auto again = client.get_user("u1");
  REQUIRE_FALSE(again);
  CHECK(again.error().reason == ErrorReason::paused);
  CHECK(again.error().daily_limit);
  CHECK(*again.error().retry_at == tomorrow);
  CHECK(rig.transport.count(k_users) == 1);
  CHECK(rig.clock.now() == start);
}

TEST_CASE("scim client: with max_inline_pause 0 (run --once) a 429's pause comes back at once, pacing is still waited") {
  for (std::string retry_after : {"30", "", "-5"}) {   // "" and "-5": default_retry_after (1 s)
    CAPTURE(retry_after);
    Rig rig;
    rig.options.max_inline_pause = 0ms;
    const SystemTime start = rig.clock.now();
    std::vector<std::pair<std::string, std::string>> headers = {{"X-RateLimit-Type", "QPS"}};
    if (!retry_after.empty()) headers.emplace_back("Retry-After", retry_after);
    rig.transport.push(k_users, json_response(429, nullptr, headers));
    auto client = rig.client();
    auto refused = client.get_user("u1");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().reason == ErrorReason::paused);   // a deferral: no attempt is spent on it
    REQUIRE(refused.error().retry_at);
    CHECK(*refused.error().retry_at == start + (retry_after == "30" ? 30s : 1s));
    CHECK(rig.clock.now() == start);   // nothing waited inside the call
    CHECK(rig.transport.count(k_users) == 1);
  }
  // Retry-After 0 leaves no pause: retried at once, as before.
  Rig rig;
  rig.options.max_inline_pause = 0ms;
  rig.transport.push(k_users, json_response(429, nullptr, {{"Retry-After", "0"}}));
  rig.transport.push(k_users, user_json("u1", "a@b.com"));
  auto client = rig.client();
  CHECK(client.get_user("u1"));
  CHECK(rig.transport.count(k_users) == 2);
}

TEST_CASE("scim client: ids and filter values are percent-encoded") {
  Rig rig;
  auto client = rig.client();
  rig.transport.push(k_users, user_json("a&b/c d", "x@y.com"));
  REQUIRE(client.get_user("a&b/c d"));
  rig.transport.push(k_users, json_response(200, {{"totalResults", 1},
                                                  {"Resources", {{{"id", "u9"}, {"userName", "X+Y@b.com"}}}}}));
  auto found = client.find_by_user_name("x+y@b.com");
  REQUIRE(found);
  REQUIRE(*found);
  CHECK((*found)->id == "u9");
  auto requests = rig.transport.requests();
  std::vector<std::string> urls;
  for (auto& r : requests)
    if (r.url.find("/scim2") != std::string::npos) urls.push_back(r.url);
  REQUIRE(urls.size() == 2);
  CHECK(urls[0] == "https://api.example/scim2/Users/a%26b%2Fc%20d");
  CHECK(urls[1] == "https://api.example/scim2/Users?filter=userName%20eq%20%22x%2By%40b.com%22&startIndex=1&count=10");
}

TEST_CASE("scim client: PATCH spells Operations with a capital O") {
  Rig rig;
  auto client = rig.client();
  rig.transport.push(k_users, json_response(204, nullptr));
  REQUIRE(client.set_active("u1", false));
  HttpRequest patch = rig.transport.requests().back();
  CHECK(patch.method == "PATCH");
  CHECK(patch.content_type == "application/scim+json");
  auto body = nlohmann::json::parse(patch.body);
  CHECK(body.contains("Operations"));
  CHECK_FALSE(body.contains("operations"));
  CHECK(body["schemas"][0] == "urn:ietf:params:scim:api:messages:2.0:PatchOp");
  CHECK(body["Operations"][0]["op"] == "replace");
  CHECK(body["Operations"][0]["value"]["active"] == false);
}

TEST_CASE("scim client: SCIM errors with status as a number or a string both give Zoom's detail") {
  for (bool as_string : {false, true}) {
    CAPTURE(as_string);
    Rig rig;
    auto client = rig.client();
    rig.transport.push(k_users, scim_error(400, "Account has not enabled Single Sign-On.", as_string));
    auto updated = client.update_user("u1", {{"title", "x"}});
    REQUIRE_FALSE(updated);
    CHECK(updated.error().kind == ErrorKind::permanent);
    CHECK(updated.error().http_status == 400);
    CHECK(updated.error().message.find("Account has not enabled Single Sign-On.") != std::string::npos);
  }
}

TEST_CASE("scim client: no answer is transient, a create that says the user exists is a conflict") {
  Rig rig;
  auto client = rig.client();
  rig.transport.push_drop(k_users);
  auto dropped = client.get_user("u1");
  REQUIRE_FALSE(dropped);
  CHECK(dropped.error().kind == ErrorKind::transient);
  rig.transport.push(k_users, scim_error(409, "User already exists"));
  auto created = client.create_user({{"userName", "a@b.com"}});
  REQUIRE_FALSE(created);
  CHECK(created.error().kind == ErrorKind::conflict);
}

TEST_CASE("scim client: a 429 with Retry-After 10^18 seconds pauses for a day, not forever nor into the past") {
  for (const char* header : {"1000000000000000000", "Fri, 31 Dec 2100 23:59:59 GMT"}) {
    CAPTURE(header);
    Rig rig;
    const SystemTime start = rig.clock.now();
    rig.transport.push(k_users, json_response(429, nullptr, {{"X-RateLimit-Type", "QPS"}, {"Retry-After", header}}));
    auto client = rig.client();
    auto user = client.get_user("u1");
    REQUIRE_FALSE(user);
    CHECK(user.error().kind == ErrorKind::transient);
    REQUIRE(user.error().retry_at);
    CHECK(*user.error().retry_at == start + k_max_retry_after);   // capped, and later than now
    CHECK(rig.clock.now() == start);                              // longer than max_inline_wait: no sleeping
    auto pause = rig.limiter.pause(rig.clock.now());
    REQUIRE(pause);
    CHECK(pause->first == start + k_max_retry_after);
  }
}

TEST_CASE("scim client: create_user takes the answer's top-level id, userName and active only") {
  Rig rig;
  auto client = rig.client();
  rig.transport.push(k_users, json_response(201, {{"schemas", {"urn:ietf:params:scim:schemas:core:2.0:User"}},
                                                  {"emails", {{{"id", "not-this"}, {"value", "a@b.com"}}}},
                                                  {"urn:x", {{"id", "nor-this"}, {"active", true}}},
                                                  {"id", "u-9"}, {"userName", "a@b.com"}, {"active", false}}));
  auto created = client.create_user({{"userName", "a@b.com"}});
  REQUIRE(created);
  CHECK(created->id == "u-9");
  CHECK(created->user_name == "a@b.com");
  CHECK_FALSE(created->active);

  for (const std::string& body : {std::string("{\"userName\":\"a@b.com\",\"nested\":{\"id\":\"x\"}}"),
                                  std::string("{\"id\":7}"), std::string("{\"id\":\"u-1\""), std::string("[\"id\",\"u\"]")}) {
    CAPTURE(body);
    HttpResponse bad;
    bad.status = 201;
    bad.body = body;
    rig.transport.push(k_users, bad);
    auto no_id = client.create_user({{"userName", "a@b.com"}});
    REQUIRE_FALSE(no_id);
    CHECK(no_id.error().kind == ErrorKind::transient);
    CHECK(no_id.error().message.find("has no user id") != std::string::npos);
  }
}

TEST_CASE("scim client: find_by_user_name reads an empty list without a document, and anything else as before") {
  Rig rig;
  auto client = rig.client();
  const auto answer = [&](const std::string& body) {
    HttpResponse response;
    response.status = 200;
    response.body = body;
    rig.transport.push("/scim2/Users?filter=", response);
    return client.find_by_user_name("a@b.com");
  };
  for (const std::string& body :
       {std::string(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]})"),
        std::string(R"({"totalResults":0})"), std::string(R"({"Resources":[],"x":[[1],{"Resources":[{"id":"u"}]}]})"),
        std::string(R"({"Resources":[{"id":"u-2","userName":"other@b.com"}]})")}) {
    CAPTURE(body);
    auto found = answer(body);
    REQUIRE(found);
    CHECK_FALSE(*found);
  }
  // A listed user, also after an empty "Resources" of the same answer (the last one counts, as in a document).
  for (const std::string& body : {std::string(R"({"Resources":[{"id":"u-1","userName":"A@b.com","active":false}]})"),
                                  std::string(R"({"Resources":[],"Resources":[{"id":"u-1","userName":"a@b.com"}]})")}) {
    CAPTURE(body);
    auto found = answer(body);
    REQUIRE(found);
    REQUIRE(*found);
    CHECK((*found)->id == "u-1");
    CHECK((*found)->body["id"] == "u-1");
  }
  for (const auto& [body, says] : std::vector<std::pair<std::string, std::string>>{
           {R"({"Resources":{}})", "no Resources list"},
           {R"({"Resources":7})", "no Resources list"},
           {R"([])", "not JSON"},
           {R"({"Resources":[])", "not JSON"},
           {"", "not JSON"}}) {
    CAPTURE(body);
    auto found = answer(body);
    REQUIRE_FALSE(found);
    CHECK(found.error().kind == ErrorKind::transient);
    CHECK(found.error().message.find(says) != std::string::npos);
  }
}

// The console's questions to the engine over HTTP (cpp-httplib's client, a zoom-sim child): a held
// event's plan (the DryRun of `h2rd plan`: its calls and attribute changes, no write reaching Zoom) and
// the connection test of `h2rd connection test` (ok, or what is wrong, never the secret).
#include "core/clock.hpp"
#include "rules/rules.hpp"
#include "secrets/secret_box.hpp"
#include "console/console_server.hpp"
#include "ops/status_server.hpp"
#include "support/hostile_server.hpp"
#include "support/sim_process.hpp"
#include "unit/store/store_test_util.hpp"
#include "zoom/http_transport.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

using namespace h2r;
using namespace h2r::store_test;

namespace {

const std::string k_reviewer = std::string(64, 'a');
const std::string k_viewer = std::string(64, 'b');
const std::string k_wrong_secret = "not-the-secret-4242";

const std::string k_rules = R"(version: 1
targets:
  - connection: zoom
    when: { field: department, equals: A }
roles:
  - name: staff
    zoom: { user_type: Basic }
on_no_role: deprovision
attributes:
  userName: "{email}"
  name.givenName: "{first_name}"
  title: "{job_title}"
)";

NewEvent hire(const std::string& event_id, const std::string& employee, const std::string& title) {
  NewEvent e = make_event(event_id, employee, 10, 10, EventState::pending, EventType::hire);
  e.event.fields = {{"employee_id", employee}, {"first_name", "Pat"}, {"email", "pat." + employee + "@example.com"},
                    {"department", "A"}, {"employment_type", "full_time"}, {"job_title", title}};
  return e;
}

// Held hire h1 (E1), failed hire f1 (E2), connections "zoom" (zoom-sim) and "zoom-bad"
// (zoom-sim with a wrong secret), and a console with the engine wired as the daemon wires it.
struct EngineFixture {
  TempDir dir;
  std::unique_ptr<Store> store = SqliteStoreFactory::open(dir);
  h2r::test::SimProcess sim;
  SecretBox box{SecretKey::from_bytes(std::string(32, 'k')).value()};
  HttplibTransport transport;
  FakeClock clock;
  RulesPtr rules = load_rules_text(k_rules, "rules.yaml").value();
  std::unique_ptr<ConnectionRegistry> registry;
  std::unique_ptr<Console> console;
  StatusServer server{StatusHandlers{[] { return std::string(); }, [] { return HealthReport{true, "ok"}; }}};
  int port = 0;

  EngineFixture() {
    clock.set(std::chrono::system_clock::now());
    for (const auto& [name, secret] : {std::pair<std::string, std::string>{"zoom", sim.secret().reveal()}, {"zoom-bad", k_wrong_secret}}) {
      ConnectionRow row{name, sim.account_id(), sim.client_id(), box.seal(Secret(secret), name).value(), sim.oauth_url(),
                        sim.api_url(), 100, 1, 1};
      REQUIRE(store->add_connection(row));
    }
    NewEvent failed = hire("f1", "E2", "Cook");
    REQUIRE(store->ingest("in/a.json", {hire("h1", "E1", "Chef"), failed}, 5));
    REQUIRE(store->hold_event(id("h1"), claim(*store, "h1"), "supervised: hire", 20));
    EventOutcome outcome;
    outcome.id = id("f1");
    outcome.state = EventState::failed;
    outcome.reason = "Zoom said no";
    outcome.claim_token = claim(*store, "f1");
    REQUIRE(store->record_outcome(outcome, 30));
    registry = std::make_unique<ConnectionRegistry>(*store, box, transport, clock);
    Config config;
    config.inbox = dir.file("inbox");
    std::vector<ConsoleToken> tokens = {{"alice", ConsoleRole::reviewer, k_reviewer}, {"vic", ConsoleRole::viewer, k_viewer}};
    console = std::make_unique<Console>(*store, config, tokens, clock);
    console->set_engine(ConsoleEngine{registry.get(), &transport, [this] { return rules; }});
    server.set_install([this](httplib::Server& s) { console->install(s); });
    auto bound = server.start("127.0.0.1:0");
    REQUIRE(bound);
    port = *bound;
  }

  long long id(const std::string& event_id) {
    auto row = store->find_event(event_id);
    REQUIRE((row && row->has_value()));
    return (*row)->id;
  }
  httplib::Client client() {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(std::chrono::seconds(60));
    return c;
  }
  static httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
  httplib::Result get(const std::string& path, const std::string& token) { return client().Get(path, bearer(token)); }
  httplib::Result post(const std::string& path, const httplib::Headers& headers) {
    return client().Post(path, headers, "{}", "application/json");
  }
  // SCIM writes zoom-sim counted ("POST /Users", "PUT /Users/{id}", ...).
  long long writes() const {
    long long n = 0;
    const nlohmann::json stats = sim.stats();   // items() of a temporary would outlive it
    for (const auto& [route, count] : stats["requests"].items())
      if (route.rfind("GET", 0) != 0 && route.find("oauth") == std::string::npos) n += count.get<long long>();
    return n;
  }
};

} // namespace

TEST_CASE("console plan: a held hire shows the create call with its attributes, and nothing is written to Zoom" * doctest::test_suite("threads")) {
  EngineFixture f;
  auto r = f.get("/api/v1/events/" + std::to_string(f.id("h1")) + "/plan", k_viewer);   // a viewer may read it
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  auto plan = nlohmann::json::parse(r->body);
  CHECK(plan["event_id"] == "h1");
  CHECK(plan["hold"] == "supervised: hire");
  CHECK(plan["failed"] == false);
  REQUIRE(plan["actions"].size() == 1);
  const auto& action = plan["actions"][0];
  CHECK(action["connection"] == "zoom");
  REQUIRE(action["calls"].size() == 1);
  const auto& call = action["calls"][0];
  CHECK(call["method"] == "POST");
  CHECK(call["path"] == "/Users");
  CHECK(!call["summary"].get<std::string>().empty());
  bool title = false;
  for (const auto& ch : call["changes"])
    if (ch["path"] == "title") {
      title = true;
      CHECK(ch["before"].is_null());
      CHECK(ch["after"] == "Chef");
      CHECK(ch["short_path"] == "title");
    }
  CHECK(title);
  CHECK(f.writes() == 0);
}

TEST_CASE("console plan: a user already in Zoom shows the attribute change old to new" * doctest::test_suite("threads")) {
  EngineFixture f;
  f.sim.seed_user({{"userName", "pat.E1@example.com"}, {"title", "Cook"}, {"name", {{"givenName", "Pat"}}}});
  auto r = f.get("/api/v1/events/" + std::to_string(f.id("h1")) + "/plan", k_reviewer);
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  auto plan = nlohmann::json::parse(r->body);
  bool title = false;
  for (const auto& action : plan["actions"])
    for (const auto& call : action["calls"])
      for (const auto& ch : call["changes"])
        if (ch["path"] == "title") {
          title = true;
          CHECK(ch["before"] == "Cook");
          CHECK(ch["after"] == "Chef");
        }
  CHECK(title);
  CHECK(f.writes() == 0);
}

TEST_CASE("console plan: an unknown id is 404, a final event 409, no token 401" * doctest::test_suite("threads")) {
  EngineFixture f;
  auto unknown = f.get("/api/v1/events/999999/plan", k_viewer);
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  auto failed = f.get("/api/v1/events/" + std::to_string(f.id("f1")) + "/plan", k_viewer);
  REQUIRE(failed);
  CHECK(failed->status == 409);
  CHECK(failed->body.find("failed") != std::string::npos);
  auto anonymous = f.client().Get("/api/v1/events/" + std::to_string(f.id("h1")) + "/plan");
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
}

TEST_CASE("console plan: Zoom refusing the credentials is reported in the answer, not as a 500" * doctest::test_suite("threads")) {
  EngineFixture f;
  std::string rules = k_rules;
  rules.replace(rules.find("connection: zoom"), 16, "connection: zoom-bad");
  f.rules = load_rules_text(rules, "rules.yaml").value();
  auto r = f.get("/api/v1/events/" + std::to_string(f.id("h1")) + "/plan", k_viewer);
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  auto plan = nlohmann::json::parse(r->body);
  CHECK(plan["failed"] == true);
  REQUIRE(plan["actions"].size() == 1);
  CHECK(plan["actions"][0]["connection"] == "zoom-bad");
  CHECK(!plan["actions"][0]["error"].get<std::string>().empty());
  CHECK(r->body.find(k_wrong_secret) == std::string::npos);
}

TEST_CASE("console connection test: ok against zoom-sim, and recorded as the connection's health" * doctest::test_suite("threads")) {
  EngineFixture f;
  auto r = f.post("/api/v1/connections/zoom/test", EngineFixture::bearer(k_reviewer));
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  auto body = nlohmann::json::parse(r->body);
  CHECK(body["connection"] == "zoom");
  CHECK(body["ok"] == true);
  CHECK(body.contains("user_count"));
  auto health = f.store->get_connection_health("zoom");
  REQUIRE((health && health->has_value()));
  CHECK((*health)->healthy);
}

TEST_CASE("console connection test: a wrong secret says what is wrong, and never the secret" * doctest::test_suite("threads")) {
  EngineFixture f;
  auto r = f.post("/api/v1/connections/zoom-bad/test", EngineFixture::bearer(k_reviewer));
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  auto body = nlohmann::json::parse(r->body);
  CHECK(body["ok"] == false);
  CHECK(body["error"]["code"] == "invalid_client");
  CHECK(!body["error"]["message"].get<std::string>().empty());
  CHECK(r->body.find(k_wrong_secret) == std::string::npos);
  CHECK(r->body.find(f.sim.secret().reveal()) == std::string::npos);
  auto health = f.store->get_connection_health("zoom-bad");
  REQUIRE((health && health->has_value()));
  CHECK(!(*health)->healthy);
}

TEST_CASE("console connection test: a list answer with a string totalResults is a clean error, last_error only for reviewers" *
          doctest::test_suite("threads")) {
  EngineFixture f;
  h2r::test::HostileServer hostile;
  hostile.on_scim(h2r::test::HostileServer::json(200, R"({"totalResults":"12","startIndex":1,"Resources":[]})"));
  ConnectionRow row{"zoom-odd", "acc-h", "cid-h", f.box.seal(Secret("hostile-secret-1"), "zoom-odd").value(),
                    hostile.oauth_url(), hostile.api_url(), 100, 1, 1};
  REQUIRE(f.store->add_connection(row));
  auto r = f.post("/api/v1/connections/zoom-odd/test", EngineFixture::bearer(k_reviewer));
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 200);   // not 500 with an EXCEPTION_WHAT header
  CHECK_FALSE(r->has_header("EXCEPTION_WHAT"));
  auto body = nlohmann::json::parse(r->body);
  CHECK(body["ok"] == false);
  CHECK(body["error"]["message"].get<std::string>().find("totalResults is \"12\"") != std::string::npos);

  auto last_error = [&](const std::string& path, const std::string& token) {
    auto answer = f.get(path, token);
    REQUIRE(answer);
    REQUIRE(answer->status == 200);
    const nlohmann::json listed = nlohmann::json::parse(answer->body);   // not a temporary: the loop reads into it
    for (const auto& c : listed["connections"])
      if (c.value("name", "") == "zoom-odd") return c["last_error"].dump();
    return std::string("(absent)");
  };
  CHECK(last_error("/api/v1/connections", k_reviewer).find("totalResults") != std::string::npos);
  CHECK(last_error("/api/v1/connections", k_viewer) == "\"(an error: shown to the reviewer role)\"");
  CHECK(last_error("/api/v1/status", k_reviewer).find("totalResults") != std::string::npos);
  CHECK(last_error("/api/v1/status", k_viewer) == "\"(an error: shown to the reviewer role)\"");
  auto status = f.get("/api/v1/status", k_viewer);
  REQUIRE(status);
  CHECK(status->body.find("totalResults") == std::string::npos);
}

TEST_CASE("console connection test: a viewer gets 403, a session without the CSRF header 403, an unknown name 404" * doctest::test_suite("threads")) {
  EngineFixture f;
  auto viewer = f.post("/api/v1/connections/zoom/test", EngineFixture::bearer(k_viewer));
  REQUIRE(viewer);
  CHECK(viewer->status == 403);
  auto login = f.client().Post("/api/v1/session", nlohmann::json{{"token", k_reviewer}}.dump(), "application/json");
  REQUIRE(login);
  REQUIRE(login->status == 200);
  const std::string set_cookie = login->get_header_value("Set-Cookie");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string csrf = nlohmann::json::parse(login->body)["csrf"].get<std::string>();
  auto no_csrf = f.post("/api/v1/connections/zoom/test", {{"Cookie", cookie}});
  REQUIRE(no_csrf);
  CHECK(no_csrf->status == 403);
  CHECK(!f.store->get_connection_health("zoom").value().has_value());   // nothing was tested
  auto with_csrf = f.post("/api/v1/connections/zoom/test", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  REQUIRE(with_csrf);
  CHECK(with_csrf->status == 200);
  auto unknown = f.post("/api/v1/connections/nope/test", EngineFixture::bearer(k_reviewer));
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
}

// The console's API over HTTP (cpp-httplib's client against the status server on an ephemeral
// 127.0.0.1 port): the security checks, and approve/reject/retry changing the store as the CLI does.
#include "core/clock.hpp"
#include "console/console_open.hpp"
#include "console/console_server.hpp"
#include "ops/status_server.hpp"
#include "unit/store/store_test_util.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>

using namespace h2r;
using namespace h2r::store_test;

namespace {

const std::string k_reviewer = std::string(64, 'a');
const std::string k_viewer = std::string(64, 'b');

// A store with events a (held), b (held), c (failed), d (pending) and a console serving it.
struct ConsoleFixture {
  TempDir dir;
  std::unique_ptr<Store> store = SqliteStoreFactory::open(dir);
  FakeClock clock;
  std::unique_ptr<Console> console;
  StatusServer server{StatusHandlers{[] { return std::string(); }, [] { return HealthReport{true, "ok"}; }}};
  int port = 0;

  ConsoleFixture() {
    REQUIRE(store->ingest("in/a.json", {make_event("a", "E1", 10, 10), make_event("b", "E2", 10, 10),
                                        make_event("c", "E3", 10, 10), make_event("d", "E4", 10, 10)}, 5));
    REQUIRE(store->hold_event(id("a"), claim(*store, "a"), "guard", 20));
    REQUIRE(store->hold_event(id("b"), claim(*store, "b"), "guard", 20));
    EventOutcome failed;
    failed.id = id("c");
    failed.state = EventState::failed;
    failed.reason = "Zoom said no";
    failed.claim_token = claim(*store, "c");
    REQUIRE(store->record_outcome(failed, 30));
    Config config;
    config.inbox = dir.file("inbox");
    std::vector<ConsoleToken> tokens = {{"alice", ConsoleRole::reviewer, k_reviewer}, {"vic", ConsoleRole::viewer, k_viewer}};
    console = std::make_unique<Console>(*store, config, tokens, clock);
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
  EventState state(const std::string& event_id) { return (*store->find_event(event_id))->state; }
  httplib::Client client() {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(std::chrono::seconds(60));
    return c;
  }
  static httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
  httplib::Result post(const std::string& path, const nlohmann::json& body, const httplib::Headers& headers) {
    return client().Post(path.c_str(), headers, body.dump(), "application/json");
  }
  // Logs in with `token`: the session cookie and the CSRF token.
  std::pair<std::string, std::string> login(const std::string& token) {
    auto r = post("/api/v1/session", {{"token", token}}, {});
    REQUIRE(r);
    REQUIRE(r->status == 200);
    const std::string set_cookie = r->get_header_value("Set-Cookie");
    CHECK(set_cookie.find("HttpOnly") != std::string::npos);
    CHECK(set_cookie.find("SameSite=Strict") != std::string::npos);
    return {set_cookie.substr(0, set_cookie.find(';')), nlohmann::json::parse(r->body)["csrf"].get<std::string>()};
  }
  std::vector<std::string> history(const std::string& event_id) {
    auto rows = store->event_history(id(event_id));
    REQUIRE(rows);
    std::vector<std::string> out;
    for (const auto& h : *rows) out.push_back(std::string(to_string(h.to)) + " " + h.actor + " " + h.reason);
    return out;
  }
};

} // namespace

TEST_CASE("console: a Host that is not local gets 403 (DNS rebinding), also on the pages" * doctest::test_suite("threads")) {
  ConsoleFixture f;
  auto c = f.client();
  for (const char* path : {"/api/v1/status", "/ui/"}) {
    auto r = c.Get(path, {{"Host", "evil.example:9464"}, {"Authorization", "Bearer " + k_reviewer}});
    REQUIRE(r);
    CHECK(r->status == 403);
  }
  auto ok = c.Get("/api/v1/status", {{"Host", "localhost:9464"}, {"Authorization", "Bearer " + k_reviewer}});
  REQUIRE(ok);
  CHECK(ok->status == 200);
  // /metrics and /healthz need no token, but a Host naming another host gets 403 there too; an IP
  // address (a scraper, a load balancer) is fine.
  for (const char* path : {"/healthz", "/metrics"}) {
    auto evil = c.Get(path, {{"Host", "evil.example"}});
    REQUIRE(evil);
    CHECK(evil->status == 403);
    auto by_address = c.Get(path, {{"Host", "192.0.2.7:9464"}});
    REQUIRE(by_address);
    CHECK(by_address->status == 200);
  }
}

TEST_CASE("console: no token gets 401, a wrong one too, and every answer carries the security headers" * doctest::test_suite("threads")) {
  ConsoleFixture f;
  auto c = f.client();
  for (const auto& headers : {httplib::Headers{}, ConsoleFixture::bearer(std::string(64, 'c'))}) {
    auto r = c.Get("/api/v1/events", headers);
    REQUIRE(r);
    CHECK(r->status == 401);
    CHECK(r->get_header_value("Content-Security-Policy").find("frame-ancestors 'none'") != std::string::npos);
    CHECK(r->get_header_value("Cache-Control") == "no-store");
    CHECK(r->get_header_value("X-Content-Type-Options") == "nosniff");
  }
  auto bad_login = f.post("/api/v1/session", {{"token", std::string(64, 'c')}}, {});
  REQUIRE(bad_login);
  CHECK(bad_login->status == 401);
  auto r = f.post("/api/v1/events/approve", {{"ids", {f.id("a")}}}, {});
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(f.state("a") == EventState::held);
}

TEST_CASE("console: a session without the CSRF header gets 403 and changes nothing, with it the approval is made" * doctest::test_suite("threads")) {
  ConsoleFixture f;
  auto [cookie, csrf] = f.login(k_reviewer);
  auto r = f.post("/api/v1/events/approve", {{"ids", {f.id("a")}}}, {{"Cookie", cookie}});
  REQUIRE(r);
  CHECK(r->status == 403);
  auto wrong = f.post("/api/v1/events/approve", {{"ids", {f.id("a")}}}, {{"Cookie", cookie}, {"X-CSRF-Token", k_reviewer}});
  REQUIRE(wrong);
  CHECK(wrong->status == 403);
  auto other_origin = f.post("/api/v1/events/approve", {{"ids", {f.id("a")}}},
                             {{"Cookie", cookie}, {"X-CSRF-Token", csrf}, {"Origin", "http://evil.example"}});
  REQUIRE(other_origin);
  CHECK(other_origin->status == 403);
  CHECK(f.state("a") == EventState::held);
  auto ok = f.post("/api/v1/events/approve", {{"ids", {f.id("a")}}}, {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(f.state("a") == EventState::pending);
  // The session reads too.
  auto c = f.client();
  auto status = c.Get("/api/v1/status", {{"Cookie", cookie}});
  REQUIRE(status);
  CHECK(status->status == 200);
  CHECK(nlohmann::json::parse(status->body)["queue"]["held"] == 1);
}

TEST_CASE("console: a viewer reads but cannot approve, reject or retry (403, nothing changed)" * doctest::test_suite("threads")) {
  ConsoleFixture f;
  auto c = f.client();
  auto list = c.Get("/api/v1/events?state=held", ConsoleFixture::bearer(k_viewer));
  REQUIRE(list);
  CHECK(list->status == 200);
  CHECK(nlohmann::json::parse(list->body)["events"].size() == 2);
  auto [cookie, csrf] = f.login(k_viewer);
  for (const char* verb : {"approve", "reject", "retry"}) {
    const long long id = std::string(verb) == "retry" ? f.id("c") : f.id("a");
    auto r = f.post(std::string("/api/v1/events/") + verb, {{"ids", {id}}}, {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
    REQUIRE(r);
    CHECK(r->status == 403);
    auto b = f.post(std::string("/api/v1/events/") + verb, {{"ids", {id}}}, ConsoleFixture::bearer(k_viewer));
    REQUIRE(b);
    CHECK(b->status == 403);
  }
  CHECK(f.state("a") == EventState::held);
  CHECK(f.state("c") == EventState::failed);
}

TEST_CASE("console: approve, reject and retry change the store as the CLI does, recorded as console:<token>" * doctest::test_suite("threads")) {
  ConsoleFixture f;
  // What the CLI does (cmd_events.cpp): set_actor, then approve_event / reject_event / retry_event.
  ConsoleFixture twin;
  twin.store->set_actor("console:alice");
  REQUIRE(twin.store->approve_event(twin.id("a"), to_unix_ms(twin.clock.now())));
  REQUIRE(twin.store->reject_event(twin.id("b"), "not this one", to_unix_ms(twin.clock.now())));
  REQUIRE(twin.store->retry_event(twin.id("c"), to_unix_ms(twin.clock.now())));
  const auto h = ConsoleFixture::bearer(k_reviewer);
  auto approve = f.post("/api/v1/events/approve", {{"ids", {f.id("a")}}}, h);
  auto reject = f.post("/api/v1/events/reject", {{"ids", {f.id("b")}}, {"reason", "not this one"}}, h);
  auto retry = f.post("/api/v1/events/retry", {{"ids", {f.id("c")}}}, h);
  REQUIRE((approve && reject && retry));
  CHECK(approve->status == 200);
  CHECK(reject->status == 200);
  CHECK(retry->status == 200);
  CHECK(nlohmann::json::parse(approve->body)["changed"] == 1);
  CHECK(f.state("a") == EventState::pending);
  CHECK(f.state("b") == EventState::rejected);
  CHECK(f.state("c") == EventState::pending);
  CHECK((*f.store->find_event("a"))->approved);
  CHECK((*f.store->find_event("c"))->attempts == 0);
  for (const char* e : {"a", "b", "c"}) CHECK(f.history(e) == twin.history(e));
  CHECK(f.history("a").back() == "pending console:alice approved");
  CHECK(f.history("b").back() == "rejected console:alice not this one");
  CHECK(f.history("c").back().rfind("pending console:alice", 0) == 0);
  // The event's detail shows that history.
  auto c = f.client();
  auto detail = c.Get(("/api/v1/events/" + std::to_string(f.id("b"))).c_str(), h);
  REQUIRE(detail);
  REQUIRE(detail->status == 200);
  CHECK(nlohmann::json::parse(detail->body)["history"].back()["actor"] == "console:alice");
  // A second approve of the same event is refused like the CLI refuses it: 409, nothing changed.
  auto again = f.post("/api/v1/events/approve", {{"ids", {f.id("a")}}}, h);
  REQUIRE(again);
  CHECK(again->status == 409);
}

TEST_CASE("console: approve all with a wrong expect_count gets 409 and approves nothing, the right count approves all" * doctest::test_suite("threads")) {
  ConsoleFixture f;
  const auto h = ConsoleFixture::bearer(k_reviewer);
  auto wrong = f.post("/api/v1/events/approve", {{"all", true}, {"expect_count", 1}}, h);
  REQUIRE(wrong);
  CHECK(wrong->status == 409);
  CHECK(nlohmann::json::parse(wrong->body)["count"] == 2);
  CHECK(f.state("a") == EventState::held);
  CHECK(f.state("b") == EventState::held);
  auto missing = f.post("/api/v1/events/approve", {{"all", true}}, h);
  REQUIRE(missing);
  CHECK(missing->status == 400);
  auto ok = f.post("/api/v1/events/approve", {{"all", true}, {"expect_count", 2}}, h);
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(nlohmann::json::parse(ok->body)["changed"] == 2);
  CHECK(f.state("a") == EventState::pending);
  CHECK(f.state("b") == EventState::pending);
  // A selection with one event that cannot be approved changes none of them.
  auto mixed = f.post("/api/v1/events/retry", {{"ids", {f.id("c"), f.id("d")}}}, h);
  REQUIRE(mixed);
  CHECK(mixed->status == 409);
  CHECK(f.state("c") == EventState::failed);
}

TEST_CASE("console: every request value is validated with an error naming it" * doctest::test_suite("threads")) {
  ConsoleFixture f;
  auto c = f.client();
  const auto h = ConsoleFixture::bearer(k_reviewer);
  auto check400 = [&](const httplib::Result& r, const std::string& names) {
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK_MESSAGE(r->body.find(names) != std::string::npos, r->body);
  };
  check400(c.Get("/api/v1/events?state=lost", h), "state");
  check400(c.Get("/api/v1/events?limit=0", h), "limit");
  check400(c.Get("/api/v1/events?since=yesterday", h), "since");
  check400(c.Get("/api/v1/events?colour=red", h), "colour");
  check400(f.post("/api/v1/events/approve", {{"ids", {0}}}, h), "ids");
  check400(f.post("/api/v1/events/approve", {{"ids", {1}}, {"extra", 1}}, h), "extra");
  check400(f.post("/api/v1/events/reject", {{"ids", {1}}, {"reason", "two\nlines"}}, h), "reason");
  check400(f.post("/api/v1/events/reject", {{"ids", {1}}}, h), "needs a reason");
  auto not_json = c.Post("/api/v1/events/approve", h, "ids=1", "application/x-www-form-urlencoded");
  REQUIRE(not_json);
  CHECK(not_json->status == 415);
  auto big = c.Post("/api/v1/events/approve", h, std::string(100 * 1024, ' '), "application/json");
  REQUIRE(big);
  CHECK(big->status == 413);
  auto page = c.Get("/api/v1/events?limit=1&offset=1", h);
  REQUIRE(page);
  auto body = nlohmann::json::parse(page->body);
  CHECK(body["events"].size() == 1);
  CHECK(body["more"] == true);
}

TEST_CASE("console: new tokens work at once and a removed token's sessions end (the token file re-read on SIGHUP)" * doctest::test_suite("threads")) {
  ConsoleFixture f;
  auto [alice_cookie, alice_csrf] = f.login(k_reviewer);
  auto [vic_cookie, vic_csrf] = f.login(k_viewer);
  const std::string k_new = std::string(64, 'c');
  auto c = f.client();
  auto before = c.Get("/api/v1/status", ConsoleFixture::bearer(k_new));
  REQUIRE(before);
  CHECK(before->status == 401);

  // vic removed, alice kept, carol added; vic's session ends, alice's goes on.
  CHECK(f.console->set_tokens({{"alice", ConsoleRole::reviewer, k_reviewer}, {"carol", ConsoleRole::viewer, k_new}}) == 1);
  auto carol = c.Get("/api/v1/status", ConsoleFixture::bearer(k_new));
  REQUIRE(carol);
  CHECK(carol->status == 200);
  auto vic = c.Get("/api/v1/status", {{"Cookie", vic_cookie}});
  REQUIRE(vic);
  CHECK(vic->status == 401);
  auto vic_bearer = c.Get("/api/v1/status", ConsoleFixture::bearer(k_viewer));
  REQUIRE(vic_bearer);
  CHECK(vic_bearer->status == 401);
  auto alice = c.Get("/api/v1/status", {{"Cookie", alice_cookie}});
  REQUIRE(alice);
  CHECK(alice->status == 200);

  // A role change ends the sessions made under the old role too.
  CHECK(f.console->set_tokens({{"alice", ConsoleRole::viewer, k_reviewer}}) == 1);
  auto demoted = c.Get("/api/v1/status", {{"Cookie", alice_cookie}});
  REQUIRE(demoted);
  CHECK(demoted->status == 401);
}

TEST_CASE("console: a cookie alone, as another service on 127.0.0.1 would send it, cannot approve or reject" * doctest::test_suite("threads")) {
  ConsoleFixture f;
  auto [cookie, csrf] = f.login(k_reviewer);
  CHECK(cookie.rfind("h2r_session_" + std::to_string(f.port) + "=", 0) == 0);   // the name carries the port
  auto c = f.client();
  // The other service holds the cookie (cookies are not isolated by port): it asks for the session and
  // uses whatever CSRF token that shows.
  auto session = c.Get("/api/v1/session", {{"Cookie", cookie}});
  REQUIRE(session);
  CHECK(session->status == 200);
  const auto body = nlohmann::json::parse(session->body);
  const std::string leaked = body.contains("csrf") && body["csrf"].is_string() ? body["csrf"].get<std::string>() : "";
  CHECK(leaked.empty());
  for (const std::string verb : {"approve", "reject"}) {
    httplib::Headers headers{{"Cookie", cookie}};
    if (!leaked.empty()) headers.emplace("X-CSRF-Token", leaked);
    nlohmann::json request = {{"ids", {f.id("a")}}};
    if (verb == "reject") request["reason"] = "not wanted";
    auto r = f.post("/api/v1/events/" + verb, request, headers);
    REQUIRE(r);
    CHECK(r->status == 403);
  }
  CHECK(f.state("a") == EventState::held);
}

TEST_CASE("console: a token whose value is rotated ends its sessions" * doctest::test_suite("threads")) {
  ConsoleFixture f;
  auto [cookie, csrf] = f.login(k_reviewer);
  // Same name, same role, a new value (the old one leaked): the session made with the old one ends.
  CHECK(f.console->set_tokens({{"alice", ConsoleRole::reviewer, std::string(64, 'd')}, {"vic", ConsoleRole::viewer, k_viewer}}) == 1);
  auto r = f.client().Get("/api/v1/status", {{"Cookie", cookie}});
  REQUIRE(r);
  CHECK(r->status == 401);
}

TEST_CASE("console: wrong Bearer tokens from one address are rate-limited" * doctest::test_suite("threads")) {
  ConsoleFixture f;
  auto c = f.client();
  int limited = 0;
  for (int i = 0; i < 30; ++i) {
    auto r = c.Get("/api/v1/status", ConsoleFixture::bearer(std::string(64, 'e')));
    REQUIRE(r);
    CHECK((r->status == 401 || r->status == 429));
    limited += r->status == 429;
  }
  CHECK(limited > 0);
  // The right token is still let in (only failures count).
  auto ok = c.Get("/api/v1/status", ConsoleFixture::bearer(k_reviewer));
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("console: deleting or chmodding the token file revokes its tokens and sessions" * doctest::test_suite("threads")) {
  TempDir dir;
  Config config;
  config.database = dir.file("h2r.db");
  config.inbox = dir.file("inbox");
  config.console.tokens = dir.file("tokens");
  {
    std::ofstream out(config.console.tokens);
    out << "reviewer alice " << k_reviewer << "\n";
  }
  std::filesystem::permissions(config.console.tokens, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto store = SqliteStoreFactory::open(dir);   // makes the schema
  FakeClock clock;
  auto handle = open_console(config, clock);
  REQUIRE(handle);
  StatusServer server{StatusHandlers{[] { return std::string(); }, [] { return HealthReport{true, "ok"}; }}};
  server.set_install([&](httplib::Server& s) { handle->console->install(s); });
  auto port = server.start("127.0.0.1:0");
  REQUIRE(port);
  httplib::Client c("127.0.0.1", *port);
  c.set_read_timeout(std::chrono::seconds(60));
  auto status = [&](const httplib::Headers& headers) {
    auto r = c.Get("/api/v1/status", headers);
    REQUIRE(r);
    return r->status;
  };
  auto login = c.Post("/api/v1/session", nlohmann::json{{"token", k_reviewer}}.dump(), "application/json");
  REQUIRE(login);
  REQUIRE(login->status == 200);
  const std::string set_cookie = login->get_header_value("Set-Cookie");
  const httplib::Headers cookie{{"Cookie", set_cookie.substr(0, set_cookie.find(';'))}};
  CHECK(status(ConsoleFixture::bearer(k_reviewer)) == 200);
  CHECK(status(cookie) == 200);

  std::filesystem::permissions(config.console.tokens, std::filesystem::perms::others_read, std::filesystem::perm_options::add);
  CHECK(status(ConsoleFixture::bearer(k_reviewer)) == 401);
  CHECK(status(cookie) == 401);   // the session ended, and stays ended
  std::filesystem::permissions(config.console.tokens, std::filesystem::perms::others_read, std::filesystem::perm_options::remove);
  CHECK(status(ConsoleFixture::bearer(k_reviewer)) == 200);
  CHECK(status(cookie) == 401);

  std::filesystem::remove(config.console.tokens);
  CHECK(status(ConsoleFixture::bearer(k_reviewer)) == 401);
  server.stop();
}

TEST_CASE("console: a selection by source_file and reason_contains runs the CLI's code, checked by expect_count" * doctest::test_suite("threads")) {
  ConsoleFixture f;
  const auto h = ConsoleFixture::bearer(k_reviewer);
  // Reject needs the file: every open event at once is never one action.
  auto everything = f.post("/api/v1/events/reject", {{"all", true}, {"expect_count", 3}}, h);
  REQUIRE(everything);
  CHECK(everything->status == 400);
  auto other_file = f.post("/api/v1/events/reject", {{"all", true}, {"source_file", "b.json"}, {"expect_count", 3}, {"reason", "wrong export"}}, h);
  REQUIRE(other_file);
  CHECK(other_file->status == 409);
  CHECK(nlohmann::json::parse(other_file->body)["count"] == 0);
  // retry: the failure whose reason holds the text, case aside.
  auto none = f.post("/api/v1/events/retry", {{"all", true}, {"reason_contains", "timeout"}, {"expect_count", 1}}, h);
  REQUIRE(none);
  CHECK(none->status == 409);
  CHECK(f.state("c") == EventState::failed);
  auto said_no = f.post("/api/v1/events/retry", {{"all", true}, {"reason_contains", "ZOOM SAID"}, {"expect_count", 1}}, h);
  REQUIRE(said_no);
  CHECK(said_no->status == 200);
  CHECK(f.state("c") == EventState::pending);
  // The bad file's open events (held a, b and the pending c, d) go in one request, with the reason.
  auto bad = f.post("/api/v1/events/reject",
                    {{"all", true}, {"source_file", "a.json"}, {"expect_count", 4}, {"reason", "wrong export"}}, h);
  REQUIRE(bad);
  CHECK(bad->status == 200);
  CHECK(nlohmann::json::parse(bad->body)["changed"] == 4);
  for (const char* e : {"a", "b", "c", "d"}) {
    CHECK(f.state(e) == EventState::rejected);
    CHECK(f.history(e).back() == "rejected console:alice wrong export");
  }
  // Bounded, and only with all: true.
  for (const nlohmann::json& body :
       {nlohmann::json{{"ids", {f.id("a")}}, {"source_file", "a.json"}},
        nlohmann::json{{"all", true}, {"expect_count", 0}, {"reason_contains", std::string(257, 'x')}},
        nlohmann::json{{"all", true}, {"expect_count", 0}, {"source_file", "a\nb"}}}) {
    CAPTURE(body.dump());
    auto r = f.post("/api/v1/events/retry", body, h);
    REQUIRE(r);
    CHECK(r->status == 400);
  }
}

TEST_CASE("console: event lists and an event's detail name the employee, from the event or the record h2r keeps" * doctest::test_suite("threads")) {
  ConsoleFixture f;
  EmployeeRow ann;
  ann.employee_id = "E1";
  ann.record = {{"employee_id", "E1"}, {"first_name", "Ann"}, {"last_name", "Okafor"}};
  REQUIRE(f.store->put_employee(ann));
  const auto h = ConsoleFixture::bearer(k_viewer);
  auto c = f.client();
  auto list = c.Get("/api/v1/events", h);
  REQUIRE(list);
  REQUIRE(list->status == 200);
  const auto listed = nlohmann::json::parse(list->body);   // a named object: the loop reads inside it
  for (const auto& e : listed["events"]) {
    CAPTURE(e.dump());
    CHECK(e["name"] == (e["employee_id"] == "E1" ? "Ann Okafor" : ""));
  }
  auto detail = c.Get(("/api/v1/events/" + std::to_string(f.id("a"))).c_str(), h);
  REQUIRE(detail);
  CHECK(nlohmann::json::parse(detail->body)["name"] == "Ann Okafor");
  auto employee = c.Get("/api/v1/employees/E1", h);
  REQUIRE(employee);
  CHECK(nlohmann::json::parse(employee->body)["events"][0]["name"] == "Ann Okafor");
}

TEST_CASE("console: the chart of the day counts each hour's endings, and the employee search checks its query" * doctest::test_suite("threads")) {
  ConsoleFixture f;
  const auto h = ConsoleFixture::bearer(k_viewer);
  auto c = f.client();
  // Now (the fake clock): b is rejected, and it is the only ending of the last 24 hours.
  REQUIRE(f.post("/api/v1/events/reject", {{"ids", {f.id("b")}}, {"reason", "not wanted"}}, ConsoleFixture::bearer(k_reviewer))->status == 200);
  auto activity = c.Get("/api/v1/activity", h);
  REQUIRE(activity);
  REQUIRE(activity->status == 200);
  const auto day = nlohmann::json::parse(activity->body);
  REQUIRE(day["hours"].size() == 24);
  CHECK(day["hours"].back()["rejected"] == 1);
  long long endings = 0;
  for (const auto& hour : day["hours"])
    for (const char* s : {"done", "skipped", "superseded", "failed", "rejected"}) endings += hour[s].get<long long>();
  CHECK(endings == 1);                             // c failed in 1970: outside the day
  CHECK(day["calls_known"] == false);              // no daemon metrics in this console
  CHECK(day["hours"].back()["calls"].is_null());
  CHECK(c.Get("/api/v1/activity?hours=48", h)->status == 400);

  REQUIRE(f.store->put_employee(EmployeeRow{"E7", {{"first_name", "Chidi"}, {"last_name", "Okafor"}}, HrStatus::active, 0}));
  auto found = c.Get("/api/v1/employees?q=okafor", h);
  REQUIRE(found);
  CHECK(found->status == 200);
  CHECK(nlohmann::json::parse(found->body)["employees"][0]["employee_id"] == "E7");
  CHECK(c.Get("/api/v1/employees?q=%01", h)->status == 400);
  CHECK(c.Get("/api/v1/employees?q=%FF", h)->status == 400);
  CHECK(c.Get(("/api/v1/employees?q=" + std::string(300, 'x')).c_str(), h)->status == 400);
  CHECK(c.Get("/api/v1/employees?limit=0", h)->status == 400);
  // An id with a % in it is taken as written: the path is decoded once (A%2542 is the id A%42, not AB).
  REQUIRE(f.store->put_employee(EmployeeRow{"A%42", {{"first_name", "Per"}, {"last_name", "Cent"}}, HrStatus::active, 0}));
  auto percent = c.Get("/api/v1/employees/A%2542", h);
  REQUIRE(percent);
  CHECK(percent->status == 200);
  CHECK(nlohmann::json::parse(percent->body)["employee"]["employee_id"] == "A%42");
  CHECK(c.Get("/api/v1/employees/AB", h)->status == 404);
  // Drift reads whole Zoom accounts: a reviewer's (503 here: no engine), never a viewer's.
  CHECK(c.Get("/api/v1/drift", h)->status == 403);
  CHECK(c.Get("/api/v1/drift", ConsoleFixture::bearer(k_reviewer))->status == 503);
  // Provisioning on demand needs the daemon's engine: 503 here, and a viewer may not queue it.
  CHECK(c.Get("/api/v1/employees/E7/provision", h)->status == 503);
  CHECK(f.post("/api/v1/employees/E7/provision", nlohmann::json::object(), h)->status == 403);
}

// The engine's resilience on a fake network and a fake clock, with a real SQLite store: backoff with
// full jitter, attempts and `events retry`, the daily limit, token refusals, the circuit breaker, and
// one connection's trouble not holding up another.
#include "engine/engine.hpp"
#include "fakes/fake_transport.hpp"
#include "secrets/secret_box.hpp"
#include "store/sqlite_store.hpp"
#include "support/temp_dir.hpp"
#include "core/saturating.hpp"
#include "core/time.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <functional>

using namespace h2r;
using namespace h2r::test;
using namespace std::chrono_literals;

namespace {

// Rules sending every full-time employee to each of `targets` as a Basic user.
std::string staff_rules(const std::vector<std::string>& targets) {
  std::string text = "version: 1\ntargets:\n";
  for (const auto& t : targets) text += "  - connection: " + t + "\n";
  return text + R"(roles:
  - name: staff
    when: { field: employment_type, equals: full_time }
    zoom: { user_type: Basic }
on_no_role: deprovision
attributes:
  userName: "{email}"
  name.givenName: "{first_name}"
  zoom.loginType.sso: true
)";
}

const std::string k_rules_one = staff_rules({"zoom-a"});
const std::string k_rules_two = staff_rules({"zoom-a", "zoom-b"});

// A tiny Zoom per host: token endpoint, user search and create, each answer overridable.
struct FakeZoom {
  explicit FakeZoom(std::string h) : host(std::move(h)) {}
  std::string host;
  std::atomic<int> tokens{0};
  std::atomic<int> posts{0};
  std::atomic<int> users{0};
  std::function<std::optional<HttpResponse>()> token_fault;   // answer instead of a token
  std::function<std::optional<HttpResponse>()> scim_fault;    // answer instead of SCIM's

  void install(FakeTransport& t) {
    t.on(host + "/oauth/token", [this](const HttpRequest&) -> Result<HttpResponse> {
      if (token_fault)
        if (auto r = token_fault()) return *r;
      return token_response("tok-" + host + std::to_string(++tokens), 3600);
    });
    t.on(host + "/scim2/Users", [this](const HttpRequest& r) -> Result<HttpResponse> {
      if (scim_fault)
        if (auto f = scim_fault()) return *f;
      if (r.method == "GET") return json_response(200, {{"totalResults", 0}, {"Resources", nlohmann::json::array()}});
      ++posts;
      auto body = nlohmann::json::parse(r.body);
      return json_response(201, {{"id", host + "-u" + std::to_string(++users)}, {"userName", body["userName"]}, {"active", true}});
    });
  }
};

SecretKey test_key() { return SecretKey::from_bytes(std::string(32, 'k')).value(); }

struct Rig {
  TempDir dir;
  std::unique_ptr<Store> store;
  SecretBox box{test_key()};
  FakeTransport transport;
  FakeClock clock;
  FakeZoom a{"https://a.example"}, b{"https://b.example"};
  std::unique_ptr<ConnectionRegistry> registry;
  std::unique_ptr<Engine> engine;
  RulesPtr rules;

  explicit Rig(const std::string& rules_text, EngineOptions options = {}, int workers = 1) {
    store = open_sqlite_store((dir.path() / "h2r.db").string()).value();
    for (auto* zoom : {&a, &b}) {
      zoom->install(transport);
      const std::string name = zoom == &a ? "zoom-a" : "zoom-b";
      ConnectionRow row{name, "acc", "cid", box.seal(Secret("s3cret"), name).value(), zoom->host + "/oauth/token",
                        zoom->host + "/scim2", 1000, 1, 1};
      REQUIRE(store->add_connection(row));
    }
    rules = load_rules_text(rules_text, "rules.yaml").value();
    ScimClientOptions client_options;
    client_options.sleep_until = [this](SystemTime t) {
      if (t > clock.now()) clock.set(t);
      return true;
    };
    registry = std::make_unique<ConnectionRegistry>(*store, box, transport, clock, client_options);
    options.workers = workers;
    engine = std::make_unique<Engine>(*store, *registry, [this] { return rules; }, options, clock);
  }

  void hire(int n, int first = 1) {
    std::vector<HrEvent> events;
    for (int i = first; i < first + n; ++i) {
      HrEvent e;
      e.event_id = "evt-" + std::to_string(i);
      e.employee_id = "E" + std::to_string(i);
      e.fields = {{"employee_id", e.employee_id}, {"first_name", "P" + std::to_string(i)},
                  {"email", "p" + std::to_string(i) + "@example.com"}, {"employment_type", "full_time"}};
      e.record = i;
      events.push_back(e);
    }
    REQUIRE(engine->ingest("hires.json", events));
  }
  std::vector<EventRow> events() { return store->list_events(EventFilter{}).value(); }
  int count_in(EventState s) {
    int n = 0;
    for (auto& e : events()) n += e.state == s;
    return n;
  }
  ConnectionHealth health(const std::string& name) { return store->get_connection_health(name).value().value(); }
};

} // namespace

TEST_CASE("engine: backoff is full jitter within [floor, min(max, base*2^(n-1))]") {
  EngineOptions options;
  options.retry_base = 1s;
  options.retry_max = 60s;
  Rig rig(k_rules_one, options);
  for (int attempt = 1; attempt <= 10; ++attempt) {
    CAPTURE(attempt);
    const auto cap = std::min<std::chrono::milliseconds>(60s, 1000ms * (1LL << (attempt - 1)));
    auto low = cap, high = 0ms;
    for (int i = 0; i < 300; ++i) {
      auto b = rig.engine->backoff(attempt);
      CHECK(b >= Engine::k_min_backoff);
      CHECK(b <= cap);
      low = std::min(low, b);
      high = std::max(high, b);
    }
    // Full jitter spreads over the whole range (the chance of missing either half 300 times is nil).
    CHECK(low < cap / 2);
    CHECK(high > cap / 2);
  }
}

TEST_CASE("engine: transient failures retry at a stored time, fail after max_attempts, and `events retry` revives") {
  EngineOptions options;
  options.max_attempts = 3;
  options.retry_base = 10s;
  options.retry_max = 40s;
  Rig rig(k_rules_one, options);
  bool down = true;
  rig.a.scim_fault = [&]() -> std::optional<HttpResponse> {
    if (down) return scim_error(503, "Service temporarily unavailable (maintenance)");
    return std::nullopt;
  };
  rig.hire(1);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    const SystemTime before = rig.clock.now();
    rig.engine->run_cycle();
    auto e = rig.events().at(0);
    CHECK(e.state == EventState::pending);
    CHECK(e.attempts == attempt);
    CHECK(e.reason.find("maintenance") != std::string::npos);
    // The next attempt lives in the database, within the backoff cap of this attempt.
    const long long cap_ms = std::min(40'000LL, 10'000LL << (attempt - 1));
    CHECK(e.due_at_ms >= to_unix_ms(before) + Engine::k_min_backoff.count());
    CHECK(e.due_at_ms <= to_unix_ms(before) + cap_ms);
    rig.engine->run_cycle();   // not due yet: nothing happens
    CHECK(rig.events().at(0).attempts == attempt);
    rig.clock.set(from_unix_ms(e.due_at_ms));
  }
  rig.engine->run_cycle();
  auto failed = rig.events().at(0);
  CHECK(failed.state == EventState::failed);
  CHECK(failed.attempts == 3);
  CHECK(failed.reason.find("failed after 3 attempts") != std::string::npos);
  CHECK(failed.reason.find("503") != std::string::npos);
  CHECK(failed.reason.find("maintenance") != std::string::npos);

  down = false;
  CHECK(rig.store->retry_event(failed.id, to_unix_ms(rig.clock.now())).value() == 1);
  rig.engine->run_cycle();
  auto done = rig.events().at(0);
  CHECK(done.state == EventState::done);
  CHECK(rig.a.posts == 1);
}

TEST_CASE("engine: a permanent failure fails at once with Zoom's detail") {
  Rig rig(k_rules_one);
  rig.a.scim_fault = [&]() -> std::optional<HttpResponse> {
    return scim_error(400, "Account has not enabled Single Sign-On.");
  };
  rig.hire(1);
  rig.engine->run_cycle();
  auto e = rig.events().at(0);
  CHECK(e.state == EventState::failed);
  CHECK(e.attempts == 1);
  CHECK(e.reason.find("Account has not enabled Single Sign-On.") != std::string::npos);
}

TEST_CASE("engine: a daily limit pauses the connection until Zoom's time, persisted, attempts are not consumed") {
  Rig rig(k_rules_one);
  const SystemTime until = rig.clock.now() + 5h;
  bool limited = true;
  rig.a.scim_fault = [&]() -> std::optional<HttpResponse> {
    if (!limited) return std::nullopt;
    return json_response(429, nullptr, {{"X-RateLimit-Type", "Daily-limit"}, {"Retry-After", format_utc(until)}});
  };
  rig.hire(3);
  rig.engine->run_cycle();
  CHECK(rig.transport.count("a.example/scim2") == 1);   // the others did not call
  for (auto& e : rig.events()) {
    CHECK(e.state == EventState::pending);
    CHECK(e.attempts == 0);
    CHECK(e.due_at_ms == to_unix_ms(until));
  }
  auto health = rig.health("zoom-a");
  CHECK_FALSE(health.healthy);
  CHECK(health.paused_until_ms == to_unix_ms(until));
  CHECK(health.pause_reason.find("daily limit") == 0);

  // A restarted daemon (new registry and engine on the same database) keeps the pause.
  limited = false;
  ConnectionRegistry restarted(*rig.store, rig.box, rig.transport, rig.clock);
  auto client = restarted.client("zoom-a");
  REQUIRE(client);
  auto paused = (*client)->get_user("x");
  REQUIRE_FALSE(paused);
  CHECK(paused.error().code == "paused");
  CHECK(rig.transport.count("a.example/scim2") == 1);

  rig.clock.set(until + 1s);
  rig.engine->run_cycle();
  CHECK(rig.count_in(EventState::done) == 3);
  CHECK(rig.health("zoom-a").healthy);
}

TEST_CASE("engine: invalid_client makes the connection unhealthy without hammering, an update heals it") {
  EngineOptions options;
  options.workers = 4;
  Rig rig(k_rules_one, options, 4);
  bool refused = true;
  rig.a.token_fault = [&]() -> std::optional<HttpResponse> {
    if (!refused) return std::nullopt;
    return json_response(400, {{"reason", "Invalid client_id or client_secret"}, {"error", "invalid_client"}});
  };
  rig.hire(20);
  rig.engine->run_cycle();
  const int token_calls = rig.transport.count("a.example/oauth/token");
  CHECK(token_calls >= 1);
  CHECK(token_calls <= options.workers);   // at most the calls already in flight
  CHECK(rig.count_in(EventState::pending) == 20);
  for (auto& e : rig.events()) CHECK(e.attempts == 0);
  auto health = rig.health("zoom-a");
  CHECK_FALSE(health.healthy);
  CHECK(health.pause_reason.find("invalid_client") != std::string::npos);

  for (int i = 0; i < 5; ++i) {   // time passes; still no calls
    rig.clock.advance(2min);
    rig.engine->run_cycle();
  }
  CHECK(rig.transport.count("a.example/oauth/token") == token_calls);
  CHECK(rig.count_in(EventState::pending) == 20);

  // `h2rd connection update` (another process) fixes the secret.
  refused = false;
  auto row = rig.store->get_connection("zoom-a").value().value();
  row.updated_at_ms = to_unix_ms(rig.clock.now());
  REQUIRE(rig.store->update_connection(row));
  rig.clock.advance(2min);
  rig.engine->run_cycle();
  CHECK(rig.count_in(EventState::done) == 20);
  CHECK(rig.health("zoom-a").healthy);
}

TEST_CASE("engine: a missing scope (4711) also parks the connection, `connection test` success heals it") {
  Rig rig(k_rules_one);
  bool missing = true;
  rig.a.scim_fault = [&]() -> std::optional<HttpResponse> {
    if (!missing) return std::nullopt;
    return json_response(401, {{"code", 4711}, {"message", "Invalid access token, does not contain scopes:[user:write:admin]"}});
  };
  rig.hire(5);
  rig.engine->run_cycle();
  CHECK(rig.transport.count("a.example/scim2") == 1);
  CHECK(rig.count_in(EventState::pending) == 5);
  CHECK(rig.health("zoom-a").pause_reason.find("user:write:admin") != std::string::npos);
  missing = false;
  auto h = rig.health("zoom-a");
  h.healthy = true;
  h.last_success_at_ms = to_unix_ms(rig.clock.now()) + 1;   // what `connection test` writes
  REQUIRE(rig.store->put_connection_health(h));
  rig.clock.advance(2min);
  rig.engine->run_cycle();
  CHECK(rig.count_in(EventState::done) == 5);
}

TEST_CASE("engine: the circuit opens after repeated failures, probes after the cool-down, and closes") {
  EngineOptions options;
  options.retry_base = 1s;
  options.retry_max = 2s;
  options.max_attempts = 100;
  Rig rig(k_rules_one, options);
  bool down = true;
  rig.a.scim_fault = [&]() -> std::optional<HttpResponse> {
    if (down) return json_response(502, nullptr);
    return std::nullopt;
  };
  rig.hire(8);
  rig.engine->run_cycle();
  const int threshold = ConnectionRegistry::k_breaker_threshold;
  CHECK(rig.transport.count("a.example/scim2") == threshold);
  auto health = rig.health("zoom-a");
  CHECK_FALSE(health.healthy);
  CHECK(health.paused_until_ms == to_unix_ms(rig.clock.now() + ConnectionRegistry::k_breaker_cooldown));
  int waiting_untouched = 0;
  for (auto& e : rig.events()) waiting_untouched += e.attempts == 0;
  CHECK(waiting_untouched == 8 - threshold);

  // Within the cool-down: no calls at all, however often cycles run.
  for (int i = 0; i < 5; ++i) {
    rig.clock.advance(5s);
    rig.engine->run_cycle();
  }
  CHECK(rig.transport.count("a.example/scim2") == threshold);

  // After it: exactly one probe; it fails, so the circuit opens again.
  rig.clock.set(from_unix_ms(health.paused_until_ms) + 1s);
  rig.engine->run_cycle();
  CHECK(rig.transport.count("a.example/scim2") == threshold + 1);

  down = false;
  for (int i = 0; i < 10 && rig.count_in(EventState::done) < 8; ++i) {
    rig.clock.advance(ConnectionRegistry::k_breaker_cooldown + 1s);
    rig.engine->run_cycle();
  }
  CHECK(rig.count_in(EventState::done) == 8);
  CHECK(rig.health("zoom-a").healthy);
}

TEST_CASE("engine: one connection's trouble does not hold up another") {
  Rig rig(k_rules_two);
  bool refused = true;
  rig.a.token_fault = [&]() -> std::optional<HttpResponse> {
    if (!refused) return std::nullopt;
    return json_response(400, {{"reason", "Invalid client_id or client_secret"}, {"error", "invalid_client"}});
  };
  rig.hire(3);
  rig.engine->run_cycle();
  CHECK(rig.b.posts == 3);   // zoom-b got its users now
  CHECK(rig.count_in(EventState::pending) == 3);
  for (auto& e : rig.events()) CHECK(e.attempts == 0);
  CHECK(rig.store->get_link("zoom-b", "E1").value().has_value());

  refused = false;
  auto row = rig.store->get_connection("zoom-a").value().value();
  row.updated_at_ms = to_unix_ms(rig.clock.now());
  REQUIRE(rig.store->update_connection(row));
  rig.clock.advance(2min);
  rig.engine->run_cycle();
  CHECK(rig.count_in(EventState::done) == 3);
  CHECK(rig.a.posts == 3);
  CHECK(rig.b.posts == 3);   // not created twice at zoom-b
}

TEST_CASE("engine: a retry step of 2^53 ms (the most a duration can say) schedules far ahead, never in the past") {
  EngineOptions options;
  options.max_attempts = 3;
  options.retry_base = std::chrono::milliseconds(1LL << 53);
  options.retry_max = std::chrono::milliseconds(1LL << 53);
  Rig rig(k_rules_one, options);
  rig.a.scim_fault = []() -> std::optional<HttpResponse> { return scim_error(503, "down"); };
  rig.hire(1);
  const SystemTime before = rig.clock.now();
  rig.engine->run_cycle();
  auto e = rig.events().at(0);
  CHECK(e.state == EventState::pending);
  CHECK(e.attempts == 1);
  CHECK(e.due_at_ms >= to_unix_ms(before) + Engine::k_min_backoff.count());   // not wrapped into the past
  CHECK(e.due_at_ms <= to_unix_ms(before) + k_max_horizon.count());
  rig.engine->run_cycle();   // not due: no second attempt now
  CHECK(rig.events().at(0).attempts == 1);
}

TEST_CASE("engine: ingest rejects an effective date beyond max_future_days, naming record and line") {
  EngineOptions options;
  options.max_future_days = 30;
  Rig rig(k_rules_one, options);
  HrEvent e;
  e.event_id = "evt-1";
  e.employee_id = "E1";
  e.type = EventType::terminate;
  e.record = 4;
  e.line = 9;
  e.effective_date = format_utc(rig.clock.now() + 24h * 31).substr(0, 10);
  auto r = rig.engine->ingest("far.json", {e});
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::invalid);
  CHECK(r.error().message.find("record 4 (line 9): field 'effective_date': '" + e.effective_date + "' is ") == 0);
  CHECK(r.error().message.find("more than 30 days ahead") != std::string::npos);
  CHECK(rig.events().empty());
  e.effective_date = format_utc(rig.clock.now() + 24h * 29).substr(0, 10);
  CHECK(rig.engine->ingest("near.json", {e}));
}

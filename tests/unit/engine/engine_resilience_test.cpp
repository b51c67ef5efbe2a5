// The engine's resilience on a fake network and a fake clock, with a real SQLite store: backoff with
// full jitter, attempts and `events retry`, the daily limit, token refusals, the circuit breaker, and
// one connection's trouble not holding up another.
#include "engine/engine.hpp"
#include "fakes/fake_transport.hpp"
#include "secrets/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"
#include "core/saturating.hpp"
#include "core/time.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <functional>
#include <sstream>

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

  explicit Rig(const std::string& rules_text, EngineOptions options = {}, int workers = 1, BreakerConfig breaker = {}) {
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
    registry = std::make_unique<ConnectionRegistry>(*store, box, transport, clock, client_options, breaker);
    options.workers = workers;
    options.max_connection_workers = workers;   // exactly `workers` threads per connection: counts stay exact
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

TEST_CASE("engine: backoff is full jitter within [floor, min(max, base*2^(n-1))]" * doctest::test_suite("threads")) {
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

TEST_CASE("engine: transient failures retry at a stored time, fail after max_attempts, and `events retry` revives" * doctest::test_suite("threads")) {
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

TEST_CASE("engine: a permanent failure fails at once with Zoom's detail" * doctest::test_suite("threads")) {
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

TEST_CASE("engine: a daily limit pauses the connection until Zoom's time, persisted, attempts are not consumed" * doctest::test_suite("threads")) {
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
  CHECK(health.pause_kind == PauseKind::daily_limit);

  // A restarted daemon (new registry and engine on the same database) keeps the pause.
  limited = false;
  ConnectionRegistry restarted(*rig.store, rig.box, rig.transport, rig.clock);
  auto client = restarted.client("zoom-a");
  REQUIRE(client);
  auto paused = (*client)->get_user("x");
  REQUIRE_FALSE(paused);
  CHECK(paused.error().reason == ErrorReason::paused);
  CHECK(rig.transport.count("a.example/scim2") == 1);

  rig.clock.set(until + 1s);
  rig.engine->run_cycle();
  CHECK(rig.count_in(EventState::done) == 3);
  CHECK(rig.health("zoom-a").healthy);
}

// A restart restores the pause by its stored kind: the words beside it are for people and may be reworded.
TEST_CASE("engine: a restart restores a daily-limit pause by its kind, not by the words of its reason") {
  Rig rig(k_rules_one);
  const SystemTime until = rig.clock.now() + 5h;
  auto restarted_call = [&] {
    ConnectionRegistry restarted(*rig.store, rig.box, rig.transport, rig.clock);
    auto client = restarted.client("zoom-a");
    REQUIRE(client);
    return (*client)->get_user("x");
  };
  ConnectionHealth health{"zoom-a"};
  health.healthy = false;
  health.paused_until_ms = to_unix_ms(until);

  // Reworded: still Zoom's daily limit, so no call before `until`.
  health.pause_reason = "Zoom's daily request quota is used up until " + format_utc(until);
  health.pause_kind = PauseKind::daily_limit;
  REQUIRE(rig.store->put_connection_health(health));
  auto paused = restarted_call();
  REQUIRE_FALSE(paused);
  CHECK(paused.error().reason == ErrorReason::paused);
  CHECK(rig.transport.count("a.example/scim2") == 0);

  // A circuit breaker's pause whose words happen to start like a daily limit's is not restored: the
  // breaker starts closed after a restart.
  health.pause_reason = "daily limit-like words of an open circuit";
  health.pause_kind = PauseKind::circuit_open;
  REQUIRE(rig.store->put_connection_health(health));
  auto called = restarted_call();
  CHECK((called || called.error().reason != ErrorReason::paused));
  CHECK(rig.transport.count("a.example/scim2") == 1);
}

TEST_CASE("engine: invalid_client makes the connection unhealthy without hammering, an update heals it" * doctest::test_suite("threads")) {
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

TEST_CASE("engine: a missing scope (4711) also parks the connection, `connection test` success heals it" * doctest::test_suite("threads")) {
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

namespace {

// A breaker that opens after 4 calls of which half failed, 5 s growing to 20 s.
BreakerConfig quick_breaker() {
  BreakerConfig b;
  b.window = 4;
  b.min_calls = 4;
  b.failure_ratio = 0.5;
  b.cooldown = 5s;
  b.max_cooldown = 20s;
  return b;
}

} // namespace

TEST_CASE("engine: the circuit opens on a share of failures, probes once after a growing cool-down, and closes" * doctest::test_suite("threads")) {
  EngineOptions options;
  options.retry_base = 1s;
  options.retry_max = 2s;
  options.max_attempts = 100;
  Rig rig(k_rules_one, options, 1, quick_breaker());
  bool down = true;
  rig.a.scim_fault = [&]() -> std::optional<HttpResponse> {
    if (down) return json_response(502, nullptr);
    return std::nullopt;
  };
  rig.hire(8);
  rig.engine->run_cycle();
  CHECK(rig.transport.count("a.example/scim2") == 4);
  auto health = rig.health("zoom-a");
  CHECK_FALSE(health.healthy);
  CHECK(health.paused_until_ms == to_unix_ms(rig.clock.now() + 5s));
  CHECK(health.pause_reason.find("4 of the last 4 calls failed") != std::string::npos);
  int waiting_untouched = 0;
  for (auto& e : rig.events()) {
    CHECK(e.state == EventState::pending);
    waiting_untouched += e.attempts == 0;
  }
  CHECK(waiting_untouched == 4);   // deferred by the open circuit: no attempt consumed

  // Within the cool-down: no calls at all, however often cycles run.
  for (int i = 0; i < 4; ++i) {
    rig.clock.advance(1s);
    rig.engine->run_cycle();
  }
  CHECK(rig.transport.count("a.example/scim2") == 4);

  // After each cool-down exactly one probe; it fails, and the next cool-down is twice as long (capped).
  int calls = 4;
  for (auto cooldown : {10s, 20s, 20s}) {
    rig.clock.set(from_unix_ms(rig.health("zoom-a").paused_until_ms));
    rig.engine->run_cycle();
    CHECK(rig.transport.count("a.example/scim2") == ++calls);
    CHECK(rig.health("zoom-a").paused_until_ms == to_unix_ms(rig.clock.now() + cooldown));
  }

  down = false;
  for (int i = 0; i < 10 && rig.count_in(EventState::done) < 8; ++i) {
    rig.clock.advance(21s);
    rig.engine->run_cycle();
  }
  CHECK(rig.count_in(EventState::done) == 8);
  CHECK(rig.count_in(EventState::failed) == 0);
  CHECK(rig.health("zoom-a").healthy);
}

TEST_CASE("engine: under run --once an open circuit defers events as pending, it never fails them" * doctest::test_suite("threads")) {
  EngineOptions options;
  options.once = true;
  options.retry_base = 1s;
  options.retry_max = 2s;
  Rig rig(k_rules_one, options, 1, quick_breaker());
  rig.a.scim_fault = [&]() -> std::optional<HttpResponse> { return json_response(503, nullptr); };
  rig.hire(10);
  auto report = rig.engine->run_cycle();
  CHECK(report.failed == 0);
  CHECK(rig.count_in(EventState::failed) == 0);
  CHECK(rig.count_in(EventState::pending) == 10);
  const long long open_until = rig.health("zoom-a").paused_until_ms;
  for (auto& e : rig.events()) {
    CAPTURE(e.event_id);
    if (e.attempts == 0) {   // never called: waits for the end of the cool-down
      CHECK(e.due_at_ms == open_until);
      CHECK(e.reason.find("waiting: connection zoom-a is paused") == 0);
    } else {
      CHECK(e.attempts == 1);
    }
  }
  REQUIRE(report.next_retry);
  CHECK(to_unix_ms(*report.next_retry) <= open_until);
}

TEST_CASE("engine: one connection's trouble does not hold up another" * doctest::test_suite("threads")) {
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

TEST_CASE("engine: file names, ids and server text with control characters forge no log line" * doctest::test_suite("threads")) {
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_st>(captured));
  logger->set_pattern("%l %v");
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  struct Restore {
    std::shared_ptr<spdlog::logger> logger;
    ~Restore() { spdlog::set_default_logger(logger); }
  } restore{previous};

  EngineOptions options;
  options.max_attempts = 2;
  Rig rig(k_rules_one, options);
  const std::string forged = "FORGED error event.failed id=1 reason=\"x\"";
  HrEvent e;
  e.event_id = "evt\xE2\x80\xA8" + forged;
  e.employee_id = "E1\x1b[2K\r\n" + forged;
  e.fields = {{"employee_id", e.employee_id}, {"first_name", "P\n" + forged},
              {"email", "p1@example.com"}, {"employment_type", "full_time"}};
  e.record = 1;
  REQUIRE(rig.engine->ingest("x\n" + forged + "\ny.json", {e}));
  REQUIRE(rig.engine->ingest("x\r" + forged + ".json", {e})); // a duplicate: event.duplicate
  int calls = 0;
  rig.a.scim_fault = [&]() -> std::optional<HttpResponse> {
    ++calls;
    return scim_error(calls == 1 ? 503 : 400, "down\n" + forged + "\xE2\x80\xA8 Bearer abcdefgh123 access_token=zzzsecret9");
  };
  rig.engine->run_cycle();                     // transient: event.retry
  rig.clock.set(from_unix_ms(rig.events().at(0).due_at_ms));
  rig.engine->run_cycle();                     // permanent: event.failed
  REQUIRE(rig.events().at(0).state == EventState::failed);
  CHECK(rig.events().at(0).reason.find("zzzsecret9") == std::string::npos);

  const std::string log = captured.str();
  CAPTURE(log);
  CHECK(log.find("event.duplicate") != std::string::npos);
  CHECK(log.find("event.retry") != std::string::npos);
  CHECK(log.find("event.failed") != std::string::npos);
  CHECK(log.find("inbox.ingested file=\"x\\x0AFORGED") != std::string::npos);
  CHECK(log.find('\r') == std::string::npos);
  CHECK(log.find('\x1b') == std::string::npos);
  CHECK(log.find("\xE2\x80\xA8") == std::string::npos);
  CHECK(log.find("abcdefgh123") == std::string::npos);
  CHECK(log.find("zzzsecret9") == std::string::npos);
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) CHECK_MESSAGE(line.rfind("FORGED", 0) != 0, line);
}

TEST_CASE("engine: a retry step of 2^53 ms (the most a duration can say) schedules far ahead, never in the past" * doctest::test_suite("threads")) {
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

TEST_CASE("engine: ingest rejects an effective date beyond max_future_days, naming record and line" * doctest::test_suite("threads")) {
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

TEST_CASE("engine: apply_options takes effect at the next batch, never inside the one running" * doctest::test_suite("threads")) {
  EngineOptions options;
  options.max_attempts = 5;
  options.retry_base = 10s;
  options.retry_max = 40s;
  Rig rig(k_rules_one, options);
  EngineOptions reloaded = options;
  reloaded.max_attempts = 3;
  reloaded.retry_base = 100ms;
  reloaded.retry_max = 100ms;
  reloaded.workers = 7;
  bool applied = false;
  rig.a.scim_fault = [&]() -> std::optional<HttpResponse> {
    if (!applied) {   // a reload while the batch runs (from a worker thread here)
      rig.engine->apply_options(reloaded);
      applied = true;
    }
    return scim_error(503, "Service temporarily unavailable");
  };
  rig.hire(1);
  rig.engine->run_cycle();
  REQUIRE(applied);
  auto first = rig.events().at(0);
  CHECK(first.state == EventState::pending);
  CHECK(first.reason.find("attempt 1 of 5") != std::string::npos);   // the batch kept its settings
  // Reported at once; used from the next batch.
  CHECK(rig.engine->options().max_attempts == 3);
  CHECK(rig.engine->options().retry_base == 100ms);
  CHECK(rig.engine->options().workers == 7);
  CHECK(rig.engine->options().once == options.once);   // not a live setting: kept

  rig.clock.set(from_unix_ms(first.due_at_ms));
  const SystemTime before = rig.clock.now();
  rig.engine->run_cycle();
  auto second = rig.events().at(0);
  CHECK(second.state == EventState::pending);
  CHECK(second.reason.find("attempt 2 of 3") != std::string::npos);
  CHECK(second.due_at_ms <= to_unix_ms(before) + 100);   // the new cap, where the old one was 20s
  for (int i = 0; i < 50; ++i) CHECK(rig.engine->backoff(4) <= 100ms);
}

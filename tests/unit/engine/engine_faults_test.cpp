// The engine under store faults and operator races, on a fake network and a fake clock, with a real
// SQLite store behind a FaultyStore: a failed outcome write repeats no Zoom call, a failed read never
// overwrites an employee, and an operator's reject during an in-flight Zoom call wins.
#include "engine/engine.hpp"
#include "engine/reconciler.hpp"
#include "fakes/fake_transport.hpp"
#include "fakes/faulty_store.hpp"
#include "secrets/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"
#include "zoom/url.hpp"

#include <doctest/doctest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

using namespace h2r;
using namespace h2r::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_rules = R"(version: 1
targets:
  - connection: zoom-a
roles:
  - name: staff
    when: { field: employment_type, equals: full_time }
    zoom: { user_type: Basic }
on_no_role: deprovision
attributes:
  userName: "{email}"
  name.givenName: "{first_name}"
  title: "{title}"
)";

// A Zoom that remembers its users (so a repeated attempt links instead of creating twice) and can
// stall its user creations until the test lets them go, answering them with `stalled_status`.
struct StatefulZoom {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, std::string> users;   // userName → id
  int creates = 0;
  bool stall_creates = false;
  int stalled = 0;                            // creations waiting at the stall
  int stalled_status = 503;

  void install(FakeTransport& t) {
    t.on("a.example/oauth/token", [](const HttpRequest&) -> Result<HttpResponse> { return token_response("tok", 3600); });
    t.on("a.example/scim2/Users", [this](const HttpRequest& r) -> Result<HttpResponse> {
      std::unique_lock lock(mutex);
      if (r.method == "GET") {
        for (const auto& [name, id] : users)
          if (r.url.find(percent_encode("\"" + name + "\"")) != std::string::npos)
            return json_response(200, {{"totalResults", 1},
                                       {"Resources", {{{"id", id}, {"userName", name}, {"active", true}}}}});
        return json_response(200, {{"totalResults", 0}, {"Resources", nlohmann::json::array()}});
      }
      if (r.method != "POST") return json_response(200, nlohmann::json::object());
      if (stall_creates) {
        ++stalled;
        changed.notify_all();
        changed.wait(lock, [this] { return !stall_creates; });
        return scim_error(stalled_status, "Service temporarily unavailable");
      }
      auto body = nlohmann::json::parse(r.body);
      const std::string name = body["userName"];
      const std::string id = "u" + std::to_string(++creates);
      users[name] = id;
      return json_response(201, {{"id", id}, {"userName", name}, {"active", true}});
    });
  }
  void release_stalled() {
    std::lock_guard lock(mutex);
    stall_creates = false;
    changed.notify_all();
  }
  void wait_for_stalled(int n) {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return stalled >= n; });
  }
};

struct Rig {
  TempDir dir;
  std::unique_ptr<Store> real;
  std::unique_ptr<FaultyStore> store;
  SecretBox box{SecretKey::from_bytes(std::string(32, 'k')).value()};
  FakeTransport transport;
  FakeClock clock;
  StatefulZoom zoom;
  std::unique_ptr<ConnectionRegistry> registry;
  std::unique_ptr<Engine> engine;
  RulesPtr rules = load_rules_text(k_rules, "rules.yaml").value();

  explicit Rig(EngineOptions options = {}) {
    real = open_sqlite_store(db_path()).value();
    store = std::make_unique<FaultyStore>(*real);
    zoom.install(transport);
    ConnectionRow row{"zoom-a", "acc", "cid", box.seal(Secret("s3cret"), "zoom-a").value(),
                      "https://a.example/oauth/token", "https://a.example/scim2", 1000, 1, 1};
    REQUIRE(real->add_connection(row));
    registry = std::make_unique<ConnectionRegistry>(*real, box, transport, clock);
    options.workers = 1;
    options.max_connection_workers = 1;   // one event at a time: the counts below are exact
    engine = std::make_unique<Engine>(*store, *registry, [this] { return rules; }, options, clock);
  }
  std::string db_path() const { return (dir.path() / "h2r.db").string(); }

  void send(const std::string& event_id, EventType type, const std::string& employee, FieldPatch fields) {
    HrEvent e;
    e.event_id = event_id;
    e.type = type;
    e.employee_id = employee;
    e.fields = std::move(fields);
    e.fields["employee_id"] = employee;
    e.record = 1;
    REQUIRE(engine->ingest(event_id + ".json", {e}));
  }
  void hire(int n) {
    for (int i = 1; i <= n; ++i) {
      const std::string n_text = std::to_string(i);
      send("hire-" + n_text, EventType::hire, "E" + n_text,
           {{"first_name", "P" + n_text}, {"email", "p" + n_text + "@example.com"}, {"employment_type", "full_time"}});
    }
  }
  EventRow event(const std::string& event_id) { return real->find_event(event_id).value().value(); }
  int posts() const { return transport.count("a.example/scim2/Users", "POST"); }
  int scim_calls() const { return transport.count("a.example/scim2"); }
};

} // namespace

TEST_CASE("engine faults: a failed outcome write ends the cycle and repeats no Zoom call" * doctest::test_suite("threads")) {
  Rig rig;
  rig.hire(3);
  rig.store->fail("record_outcome");
  // Bound the cycle even if it loops (the old behaviour): stop after a few outcome writes.
  auto bounded_rig = [&] { return rig.store->calls("record_outcome") > 5; };
  EngineOptions options;
  options.workers = 1;
  options.max_connection_workers = 1;
  options.stop_requested = bounded_rig;
  rig.engine = std::make_unique<Engine>(*rig.store, *rig.registry, [&] { return rig.rules; }, options, rig.clock);

  CHECK(rig.engine->store_writes_failing_since_ms() == 0);
  auto report = rig.engine->run_cycle();
  CHECK(report.store_failed);
  CHECK(rig.store->calls("record_outcome") == 1);   // the cycle ended at the first failed write
  CHECK(rig.posts() == 1);                           // one user created, no call repeated
  CHECK(rig.scim_calls() == 2);                      // its look-up and its create
  CHECK(rig.engine->store_writes_failing_since_ms() == to_unix_ms(rig.clock.now()));
  for (const char* id : {"hire-1", "hire-2", "hire-3"}) {
    CAPTURE(id);
    auto e = rig.event(id);
    CHECK(e.state == EventState::pending);
    CHECK(e.attempts == 0);
    CHECK(e.claim_token.empty());                    // given back, due again
  }

  // The store heals: the next cycle finishes everything; the first hire's create was recorded when
  // Zoom confirmed it, so its retry knows the user as its own and updates it.
  rig.store->heal();
  rig.clock.advance(1s);
  report = rig.engine->run_cycle();
  CHECK_FALSE(report.store_failed);
  CHECK(report.done == 3);
  CHECK(rig.posts() == 3);                           // one create per hire, ever
  CHECK(rig.engine->store_writes_failing_since_ms() == 0);
  auto first = nlohmann::json::parse(rig.event("hire-1").result);
  CHECK(first["actions"][0]["action"] == "updated");
}

TEST_CASE("engine faults: a failed hold write runs nothing and ends the cycle" * doctest::test_suite("threads")) {
  Rig rig;
  rig.rules = load_rules_text(std::string(k_rules) + "lifecycle:\n  supervised: [hire]\n", "rules.yaml").value();
  rig.hire(2);
  rig.store->fail("hold_event", 1);
  auto report = rig.engine->run_cycle();
  CHECK(report.store_failed);
  CHECK(rig.scim_calls() == 0);
  CHECK(rig.engine->store_writes_failing_since_ms() != 0);
  CHECK(rig.event("hire-1").state == EventState::pending);
  report = rig.engine->run_cycle();
  CHECK(report.held == 2);
  CHECK(rig.engine->store_writes_failing_since_ms() == 0);
  CHECK(rig.scim_calls() == 0);
}

TEST_CASE("engine faults: a failed employee or link read defers the event and overwrites no employee" * doctest::test_suite("threads")) {
  Rig rig;
  rig.hire(1);
  REQUIRE(rig.engine->run_cycle().done == 1);
  auto before = rig.real->get_employee("E1").value().value();
  REQUIRE(before.record.at("email") == "p1@example.com");
  const int calls_before = rig.scim_calls();

  // An update carrying only the title: merged with the stored record, the email stays.
  rig.send("upd-1", EventType::update, "E1", {{"title", "Engineer"}});
  for (const char* method : {"get_employee", "get_link"}) {
    CAPTURE(method);
    rig.store->fail(method);
    auto report = rig.engine->run_cycle();
    CHECK(report.deferred == 1);
    CHECK(report.processed == 0);
    CHECK(report.store_failed);
    CHECK(rig.scim_calls() == calls_before);         // no Zoom call
    auto e = rig.event("upd-1");
    CHECK(e.state == EventState::pending);
    CHECK(e.attempts == 0);                          // not an attempt
    CHECK(e.claim_token.empty());
    auto employee = rig.real->get_employee("E1").value().value();
    CHECK(employee.record == before.record);         // not overwritten by a partial record
    CHECK(employee.updated_at_ms == before.updated_at_ms);
    rig.store->heal();
  }
  auto report = rig.engine->run_cycle();
  CHECK(report.done == 1);
  auto after = rig.real->get_employee("E1").value().value();
  CHECK(after.record.at("email") == "p1@example.com");
  CHECK(after.record.at("title") == "Engineer");
  CHECK(rig.posts() == 1);
}

TEST_CASE("engine: an operator's reject during an in-flight Zoom call wins" * doctest::test_suite("threads")) {
  Rig rig;
  rig.hire(1);
  rig.zoom.stall_creates = true;                     // the create hangs, then answers 503 (a retry)
  CycleReport report;
  std::thread cycle([&] { report = rig.engine->run_cycle(); });
  rig.zoom.wait_for_stalled(1);
  // The operator, through another connection to the database (as `h2rd events reject` would).
  auto operator_store = open_sqlite_store(rig.db_path()).value();
  const long long id = rig.event("hire-1").id;
  REQUIRE(operator_store->reject_event(id, "rejected by an admin", to_unix_ms(rig.clock.now())));
  rig.zoom.release_stalled();
  cycle.join();

  CHECK(report.lost_claims == 1);
  CHECK(report.retrying == 0);
  CHECK_FALSE(report.store_failed);
  auto e = rig.event("hire-1");
  CHECK(e.state == EventState::rejected);
  CHECK(e.reason == "rejected by an admin");
  CHECK(e.attempts == 0);
  // The create had left before the reject: the history says so (it never says "nothing was changed").
  auto history = rig.real->event_history(e.id);
  REQUIRE(history);
  REQUIRE_FALSE(history->empty());
  const EventHistoryRow& note = history->back();
  CHECK(note.from == EventState::rejected);
  CHECK(note.to == EventState::rejected);
  CHECK(note.reason.rfind(k_sent_before_decision, 0) == 0);
  CHECK(note.reason.find("POST /Users (") != std::string::npos);
  CHECK(note.reason.find(" at 20") != std::string::npos);   // when it left, UTC with milliseconds
  // Nothing runs it again, however much time passes.
  const int calls = rig.scim_calls();
  rig.clock.advance(24h);
  rig.engine->run_cycle();
  CHECK(rig.scim_calls() == calls);
  CHECK(rig.event("hire-1").state == EventState::rejected);
}

TEST_CASE("engine faults: reconcile --apply reports an item fixed only when its link was stored" * doctest::test_suite("threads")) {
  Rig rig;
  REQUIRE(rig.real->put_employee(EmployeeRow{"E1",
                                             {{"employee_id", "E1"}, {"first_name", "P1"}, {"email", "p1@example.com"},
                                              {"employment_type", "full_time"}},
                                             HrStatus::active, 1}));
  rig.store->fail("put_link");
  auto report = reconcile(*rig.store, *rig.registry, *rig.rules, std::nullopt, true, rig.clock);
  REQUIRE(report);
  REQUIRE(report->drift.size() == 1);
  CHECK(report->drift[0].kind == "missing");
  CHECK_FALSE(report->drift[0].fixed);
  CHECK(report->drift[0].fix_error.find("storing the link failed") != std::string::npos);
  CHECK(rig.posts() == 1);

  // Healed: the user exists now, the link is stored, and the item counts as fixed.
  rig.store->heal();
  report = reconcile(*rig.store, *rig.registry, *rig.rules, std::nullopt, true, rig.clock);
  REQUIRE(report);
  CHECK(rig.real->get_link("zoom-a", "E1").value().has_value());
  // A failing link read stops reconcile instead of reporting on a guess.
  rig.store->fail("get_link");
  CHECK_FALSE(reconcile(*rig.store, *rig.registry, *rig.rules, std::nullopt, false, rig.clock));
}

TEST_CASE("engine faults: reconcile --apply tries a fix again after a 503, at most retry.max_attempts times") {
  for (const int failures : {1, 100}) {
    CAPTURE(failures);
    Rig rig;
    REQUIRE(rig.real->put_employee(EmployeeRow{"E1",
                                               {{"employee_id", "E1"}, {"first_name", "P1"}, {"email", "p1@example.com"},
                                                {"employment_type", "full_time"}},
                                               HrStatus::active, 1}));
    int posts = 0;   // the first `failures` creates are answered 503 without effect
    rig.transport.on("a.example/scim2/Users", [&](const HttpRequest& r) -> Result<HttpResponse> {
      if (r.method == "GET") return json_response(200, {{"totalResults", 0}, {"Resources", nlohmann::json::array()}});
      if (++posts <= failures) return scim_error(503, "Service temporarily unavailable");
      return json_response(201, {{"id", "u1"}, {"userName", "p1@example.com"}, {"active", true}});
    });
    ReconcileRetry retry;
    retry.max_attempts = 3;
    retry.base = 10ms;
    retry.max = 40ms;
    std::vector<std::chrono::milliseconds> waits;
    retry.sleep = [&](std::chrono::milliseconds wait) { waits.push_back(wait); };
    auto report = reconcile(*rig.store, *rig.registry, *rig.rules, std::nullopt, true, rig.clock, retry);
    REQUIRE(report);
    REQUIRE(report->drift.size() == 1);
    CHECK(report->drift[0].kind == "missing");
    if (failures == 1) {
      CHECK(report->drift[0].fixed);
      CHECK(posts == 2);
      CHECK(waits.size() == 1);
    } else {
      CHECK_FALSE(report->drift[0].fixed);
      CHECK(posts == 3);
      CHECK(waits.size() == 2);
      CHECK(report->drift[0].fix_error.find("Zoom answered 503") != std::string::npos);
      CHECK(report->drift[0].fix_error.find("(tried 3 times)") != std::string::npos);
    }
    for (auto w : waits) CHECK(w <= retry.max);
  }
}

TEST_CASE("engine faults: an event held as a conflict is reported through on_conflict, once" * doctest::test_suite("threads")) {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> conflicts;   // (event_id, reason)
  EngineOptions options;
  options.on_conflict = [&](const EventRow& e, const std::string& reason) {
    std::lock_guard lock(mutex);
    conflicts.emplace_back(e.event_id, reason);
  };
  Rig rig(options);
  rig.hire(1);
  rig.engine->run_cycle();
  REQUIRE(rig.event("hire-1").state == EventState::done);
  // Another employee with P1's address: held as a conflict, never run.
  rig.send("hire-9", EventType::hire, "E9",
           {{"first_name", "P9"}, {"email", "p1@example.com"}, {"employment_type", "full_time"}});
  rig.clock.advance(1s);
  rig.engine->run_cycle();
  REQUIRE(rig.event("hire-9").state == EventState::held);
  rig.clock.advance(1s);
  rig.engine->run_cycle();   // still held: no second report
  std::lock_guard lock(mutex);
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].first == "hire-9");
  CHECK(conflicts[0].second.starts_with(k_conflict_prefix));
  CHECK(conflicts[0].second == rig.event("hire-9").reason);
  CHECK(rig.posts() == 1);
}

// Several daemons on one database: two Engines, each with its own SQLite store on one file, its own
// ConnectionRegistry and Membership, sharing a fake Zoom and a fake clock. They claim disjoint events,
// take a dead daemon's events over after its lease (and refuse its late outcome), share the rate
// limit, count the deactivation guard together, elect one leader, and fail a poison pill.
#include "core/time.hpp"
#include "engine/engine.hpp"
#include "engine/membership.hpp"
#include "fakes/fake_transport.hpp"
#include "fakes/faulty_store.hpp"
#include "secrets/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"
#include "zoom/url.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

using namespace h2r;
using namespace h2r::test;
using namespace std::chrono_literals;

namespace {

constexpr auto k_lease = 60s;

std::string rules_text(int guard_max) {
  return R"(version: 1
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
lifecycle:
  guard: { max_deactivations_per_cycle: )" +
         std::to_string(guard_max) + " }\n";
}

// A Zoom that remembers its users; its next `stall` creations wait until released, then fail with 503
// without creating anything (the call of a daemon that died: lost).
struct SharedZoom {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, std::string> users;   // userName → id
  int creates = 0;
  int changes = 0;   // PATCH, PUT and DELETE received
  int stall = 0;
  int stalled = 0;
  bool released = false;
  std::function<void()> on_create;   // called at each creation, before it is made

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
      if (r.method != "POST") {
        ++changes;
        return json_response(200, nlohmann::json::object());
      }
      if (stall > 0) {
        --stall;
        ++stalled;
        changed.notify_all();
        changed.wait(lock, [this] { return released; });
        return scim_error(503, "Service temporarily unavailable");
      }
      if (on_create) on_create();
      auto body = nlohmann::json::parse(r.body);
      const std::string name = body["userName"];
      const std::string id = "u" + std::to_string(++creates);
      users[name] = id;
      return json_response(201, {{"id", id}, {"userName", name}, {"active", true}});
    });
  }
  void wait_for_stalled(int n) {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return stalled >= n; });
  }
  void release() {
    std::lock_guard lock(mutex);
    released = true;
    changed.notify_all();
  }
};

// One daemon: its own store on the shared file, registry, membership and engine, with its counters.
struct Node {
  std::unique_ptr<Store> real;
  std::unique_ptr<FaultyStore> store;
  std::unique_ptr<ConnectionRegistry> registry;
  std::unique_ptr<Membership> membership;
  std::unique_ptr<Engine> engine;
  std::atomic<int> claimed{0}, rescued{0}, lost{0}, outcomes{0};
};

struct Cluster {
  TempDir dir;
  SecretBox box{SecretKey::from_bytes(std::string(32, 'k')).value()};
  FakeTransport transport;
  FakeClock clock;
  SharedZoom zoom;
  RulesPtr rules;
  std::vector<std::unique_ptr<Node>> nodes;

  explicit Cluster(int guard_max = 50) : rules(load_rules_text(rules_text(guard_max), "rules.yaml").value()) {
    zoom.install(transport);
    auto store = open_sqlite_store(db_path()).value();
    ConnectionRow row{"zoom-a", "acc", "cid", box.seal(Secret("s3cret"), "zoom-a").value(),
                      "https://a.example/oauth/token", "https://a.example/scim2", 1000, 1, 1};
    REQUIRE(store->add_connection(row));
  }
  std::string db_path() const { return (dir.path() / "h2r.db").string(); }

  Node& add(const std::string& owner, int batch = 10'000) {
    auto node = std::make_unique<Node>();
    Node* n = node.get();
    n->real = open_sqlite_store(db_path()).value();
    n->store = std::make_unique<FaultyStore>(*n->real);
    n->registry = std::make_unique<ConnectionRegistry>(*n->store, box, transport, clock);
    MembershipOptions m;
    m.self = DaemonRow{owner, "host-" + owner, 7, "test", to_unix_ms(clock.now())};
    m.lease = k_lease;
    m.strict = true;
    n->membership = std::make_unique<Membership>(*n->store, clock, m);
    EngineOptions options;
    options.owner = owner;
    options.workers = 1;
    options.max_connection_workers = 1;
    options.batch = batch;
    options.claim_lease = k_lease;
    options.may_start_calls = [n] { return n->membership->may_start_calls(); };
    options.on_claims = [n](int claimed, int rescued) {
      n->claimed += claimed;
      n->rescued += rescued;
    };
    options.on_lost_claim = [n] { ++n->lost; };
    options.on_outcome = [n](const EventRow&, const EventOutcome&) { ++n->outcomes; };
    n->engine = std::make_unique<Engine>(*n->store, *n->registry, [this] { return rules; }, options, clock);
    nodes.push_back(std::move(node));
    return *n;
  }

  void send(const std::string& event_id, EventType type, const std::string& employee) {
    HrEvent e;
    e.event_id = event_id;
    e.type = type;
    e.employee_id = employee;
    e.fields = {{"employee_id", employee}};
    if (type == EventType::hire) {
      e.fields["first_name"] = "P" + employee;
      e.fields["email"] = employee + "@example.com";
      e.fields["employment_type"] = "full_time";
    }
    e.record = 1;
    REQUIRE(nodes.front()->engine->ingest(event_id + ".json", {e}));
  }
  void hire(int from, int to) {
    for (int i = from; i <= to; ++i) send("hire-" + std::to_string(i), EventType::hire, "E" + std::to_string(i));
  }
  EventRow event(const std::string& event_id) { return nodes.front()->real->find_event(event_id).value().value(); }
};

} // namespace

TEST_CASE("multi daemon: two engines on one database claim disjoint events, each created once" * doctest::test_suite("threads")) {
  Cluster c;
  Node& a = c.add("A", 2);
  Node& b = c.add("B", 2);
  REQUIRE(a.membership->beat());
  REQUIRE(b.membership->beat());
  c.hire(1, 10);
  c.zoom.stall = 1;   // A's first create waits while B works; then it fails (503) and is retried
  CycleReport from_a;
  std::thread runner([&] { from_a = a.engine->run_cycle(); });
  c.zoom.wait_for_stalled(1);
  // A holds hire-1 and hire-2 (its batch of 2): B takes every other event, never those.
  CycleReport from_b = b.engine->run_cycle();
  CHECK(from_b.done == 8);
  CHECK(b.claimed == 8);
  c.zoom.release();
  runner.join();
  CHECK(a.claimed == 2);
  CHECK(from_a.retrying + from_a.done == 2);
  CHECK(from_a.lost_claims == 0);
  CHECK(b.rescued == 0);
  CHECK(a.rescued == 0);
  // A's retry of hire-1 falls due later: either daemon finishes it; every hire exists once.
  c.clock.advance(24h);
  REQUIRE(a.membership->beat());
  a.engine->run_cycle();
  for (int i = 1; i <= 10; ++i) CHECK(c.event("hire-" + std::to_string(i)).state == EventState::done);
  CHECK(c.zoom.creates == 10);
  CHECK(c.zoom.users.size() == 10);
}

TEST_CASE("multi daemon: a dead daemon's events are taken over after its lease, and its late outcome is refused" * doctest::test_suite("threads")) {
  Cluster c;
  Node& a = c.add("A");
  Node& b = c.add("B");
  REQUIRE(a.membership->beat());
  REQUIRE(b.membership->beat());
  c.hire(1, 1);
  c.zoom.stall = 1;
  CycleReport from_a;
  std::thread runner([&] { from_a = a.engine->run_cycle(); });
  c.zoom.wait_for_stalled(1);
  // A "dies": its heartbeats fail from now on. Within the lease B cannot take the event.
  a.store->fail("heartbeat", FaultyStore::k_always);
  c.clock.advance(k_lease / 2);
  REQUIRE(b.membership->beat());
  CHECK(b.engine->run_cycle().processed == 0);
  CHECK(c.zoom.creates == 0);
  // A's heartbeat is older than half the lease: it would start no new call.
  CHECK_FALSE(a.membership->may_start_calls());

  c.clock.advance(k_lease / 2 + 1s);
  REQUIRE(b.membership->beat());
  CycleReport from_b = b.engine->run_cycle();
  CHECK(from_b.done == 1);
  CHECK(b.rescued == 1);
  auto history = c.nodes.front()->real->event_history(c.event("hire-1").id).value();
  CHECK(c.event("hire-1").state == EventState::done);
  CHECK(c.event("hire-1").rescues == 0);   // reset by B's outcome

  // A's call comes back (503, nothing created); its outcome is refused: the lease was lost.
  c.zoom.release();
  runner.join();
  CHECK(from_a.lost_claims == 1);
  CHECK(a.lost == 1);
  CHECK(c.event("hire-1").state == EventState::done);
  CHECK(c.zoom.creates == 1);
  CHECK(c.transport.count("a.example/scim2/Users", "POST") == 2);   // A's lost one and B's
}

TEST_CASE("multi daemon: a daemon whose heartbeat is older than half the lease claims nothing and starts no call" * doctest::test_suite("threads")) {
  Cluster c;
  Node& a = c.add("A");
  REQUIRE(a.membership->beat());
  c.hire(1, 2);
  a.store->fail("heartbeat", FaultyStore::k_always);
  c.clock.advance(k_lease / 2 + 1s);
  CHECK_FALSE(a.membership->may_start_calls());
  auto report = a.engine->run_cycle();
  CHECK(report.processed == 0);
  CHECK(a.claimed == 0);
  CHECK(c.transport.count("a.example/scim2") == 0);
  CHECK(c.event("hire-1").claim_token.empty());

  // Within the lease a beat that succeeds proves the claims are still its own: calls resume.
  a.store->heal();
  CHECK(a.membership->may_start_calls());
  CHECK(a.engine->run_cycle().done == 2);

  // Past the whole lease nothing proves it: no call, even when the store answers again.
  a.store->fail("heartbeat", FaultyStore::k_always);
  c.clock.advance(k_lease + 1s);
  a.store->heal();
  CHECK_FALSE(a.membership->may_start_calls());
  REQUIRE(a.membership->beat());   // the heartbeat thread's next beat
  CHECK(a.membership->may_start_calls());
}

TEST_CASE("multi daemon: without a shared store each daemon paces a connection at its rate limit divided by the live daemons" * doctest::test_suite("threads")) {
  Cluster c;
  Node& a = c.add("A");
  Node& b = c.add("B");
  REQUIRE(a.registry->client("zoom-a"));
  REQUIRE(a.membership->beat());
  a.registry->set_share(a.membership->daemons());
  CHECK(a.membership->daemons() == 1);
  CHECK(a.registry->pace("zoom-a").rate == doctest::Approx(1000));
  REQUIRE(b.membership->beat());
  REQUIRE(a.membership->beat());
  a.registry->set_share(a.membership->daemons());
  CHECK(a.membership->daemons() == 2);
  CHECK(a.registry->pace("zoom-a").rate == doctest::Approx(500));
  CHECK(connection_concurrency(a.registry->pace("zoom-a").rate, 100ms, 1, 1000) <
        connection_concurrency(1000, 100ms, 1, 1000));
  // B stops beating: after two heartbeat intervals A paces alone again.
  c.clock.advance(2 * a.membership->interval() + 1s);
  REQUIRE(a.membership->beat());
  a.registry->set_share(a.membership->daemons());
  CHECK(a.membership->daemons() == 1);
  CHECK(a.registry->pace("zoom-a").rate == doctest::Approx(1000));
}

TEST_CASE("multi daemon: on a shared store two daemons draw one schedule, together at most the rate, alone all of it" * doctest::test_suite("threads")) {
  Cluster c;   // zoom-a: 1000 calls/s, so 1 ms apart and grants of 100 slots
  Node& a = c.add("A");
  Node& b = c.add("B");
  for (Node* n : {&a, &b}) {
    n->store->set_shared(true);
    REQUIRE(n->registry->client("zoom-a"));
    n->registry->set_share(2);
  }
  CHECK(a.registry->pace("zoom-a").rate == doctest::Approx(1000));   // not 1000 / 2
  auto la = a.registry->limiter("zoom-a");
  auto lb = b.registry->limiter("zoom-a");
  // Both busy: every slot either takes is 1 ms from the next, whoever took it, and none is wasted.
  const SystemTime t0 = c.clock.now();
  std::vector<SystemTime> slots;
  for (int i = 0; i < 300; ++i) {
    slots.push_back(la->reserve(t0));
    slots.push_back(lb->reserve(t0));
  }
  std::sort(slots.begin(), slots.end());
  for (std::size_t i = 1; i < slots.size(); ++i) REQUIRE(slots[i] - slots[i - 1] >= 1ms);
  CHECK(slots.back() - slots.front() == 599ms);
  CHECK(la->grants() == 3);
  CHECK(a.store->calls("take_pace_grant") == 3);
  // A alone (B has no work for the account): the whole rate.
  const SystemTime t1 = t0 + 10s;
  for (int i = 0; i < 100; ++i) REQUIRE(la->reserve(t1) == t1 + std::chrono::milliseconds(i));
  // The database fails: A paces at its share (2 daemons: 500/s) until it answers again.
  a.store->fail("take_pace_grant", 1);
  const SystemTime t2 = t0 + 20s;
  CHECK(la->reserve(t2) == t2);
  CHECK(la->reserve(t2) == t2 + 2ms);
  CHECK(la->fallbacks() == 1);
  CHECK(la->reserve(t2 + k_pace_fallback) == t2 + k_pace_fallback);
  CHECK(la->reserve(t2 + k_pace_fallback) == t2 + k_pace_fallback + 1ms);
  CHECK(a.registry->pace_counters().at("zoom-a") == std::pair<long long, long long>{5, 1});   // h2r_pace_*_total
}

TEST_CASE("multi daemon: a 429 pause seen by one daemon holds the other daemon's calls to that account" * doctest::test_suite("threads")) {
  Cluster c;
  Node& a = c.add("A");
  Node& b = c.add("B");
  for (Node* n : {&a, &b}) {
    n->store->set_shared(true);
    REQUIRE(n->registry->client("zoom-a"));
  }
  const SystemTime t0 = c.clock.now();
  REQUIRE(a.registry->limiter("zoom-a")->reserve(t0) == t0);
  a.registry->limiter("zoom-a")->pause_until(t0 + 2s, "rate limited");
  CHECK(b.registry->limiter("zoom-a")->reserve(t0) >= t0 + 2s);
}

TEST_CASE("multi daemon: the guard's budget counts both daemons' sets of changes in one sliding window" * doctest::test_suite("threads")) {
  Cluster c(2);   // rules_text writes the old key, lifecycle.guard.max_deactivations_per_cycle: read as max
  Node& a = c.add("A");
  Node& b = c.add("B");
  REQUIRE(a.membership->beat());
  REQUIRE(b.membership->beat());
  c.hire(1, 3);
  CHECK(a.engine->run_cycle().done == 3);
  c.send("term-1", EventType::terminate, "E1");   // each in a file of its own: a set of one
  c.send("term-2", EventType::terminate, "E2");
  auto from_a = a.engine->run_cycle();
  CHECK(from_a.held == 0);
  CHECK(from_a.processed == 2);
  c.clock.advance(10min);   // later cycles, same window (lifecycle.guard.per: 1h)
  REQUIRE(a.membership->beat());
  REQUIRE(b.membership->beat());
  c.send("term-3", EventType::terminate, "E3");
  auto from_b = b.engine->run_cycle();   // alone B would be within the maximum (1 of 2)
  CHECK(from_b.held == 1);
  CHECK(from_b.processed == 0);
  auto held = c.event("term-3");
  CHECK(held.state == EventState::held);
  CHECK(held.reason.find("beside 2 reserved in the last 1h across every daemon") != std::string::npos);

  // An hour after term-1 and term-2 the window has room again.
  c.clock.advance(51min);
  REQUIRE(a.membership->beat());
  REQUIRE(b.membership->beat());
  c.send("hire-9", EventType::hire, "E9");
  CHECK(b.engine->run_cycle().done == 1);
  c.send("term-9", EventType::terminate, "E9");
  CHECK(a.engine->run_cycle().done == 1);

  // A store that cannot count runs nothing past the guard: the event is given back, and runs once the
  // store counts again.
  c.send("hire-8", EventType::hire, "E8");
  CHECK(b.engine->run_cycle().done == 1);
  c.send("term-8", EventType::terminate, "E8");
  b.store->fail("reserve_guard", FaultyStore::k_always);
  auto uncounted = b.engine->run_cycle();
  CHECK(uncounted.processed == 0);
  CHECK(uncounted.deferred == 1);
  CHECK(c.event("term-8").state == EventState::pending);
  b.store->heal();
  CHECK(b.engine->run_cycle().done == 1);
}

TEST_CASE("multi daemon: a file whose changes would pass the guard is held whole, batch after batch, on both daemons" * doctest::test_suite("threads")) {
  Cluster c(2);
  Node& a = c.add("A");
  Node& b = c.add("B");
  REQUIRE(a.membership->beat());
  REQUIRE(b.membership->beat());
  c.hire(1, 3);
  CHECK(a.engine->run_cycle().done == 3);
  // Three terminates in one file, due a minute apart: each falls due in a cycle of its own.
  std::vector<HrEvent> file;
  for (int i = 1; i <= 3; ++i) {
    HrEvent e;
    e.event_id = "term-" + std::to_string(i);
    e.type = EventType::terminate;
    e.employee_id = "E" + std::to_string(i);
    e.effective_date = format_utc(c.clock.now() + std::chrono::minutes(i - 1));
    e.fields = {{"employee_id", e.employee_id}};
    e.record = i;
    file.push_back(e);
  }
  REQUIRE(a.engine->ingest("leavers.json", file));
  CHECK(a.engine->run_cycle().held == 1);   // A decides the file: 3 > 2, refused
  for (Node* n : {&b, &a}) {                // B learns it from the database; A from its own decision
    c.clock.advance(1min);
    REQUIRE(a.membership->beat());
    REQUIRE(b.membership->beat());
    CHECK(n->engine->run_cycle().held == 1);
  }
  CHECK(b.store->calls("reserve_guard") == 1);   // B asked the database, which kept A's refusal
  for (int i = 1; i <= 3; ++i) {
    auto e = c.event("term-" + std::to_string(i));
    CHECK(e.state == EventState::held);
    CHECK(e.reason.find("file leavers.json would take away") != std::string::npos);
  }
  std::lock_guard lock(c.zoom.mutex);
  CHECK(c.zoom.changes == 0);
}

TEST_CASE("multi daemon: only one daemon leads, and leadership moves when the leader stops heartbeating" * doctest::test_suite("threads")) {
  Cluster c;
  Node& a = c.add("A");
  Node& b = c.add("B");
  REQUIRE(a.membership->beat());
  REQUIRE(b.membership->beat());
  CHECK(a.membership->leader());
  CHECK_FALSE(b.membership->leader());
  c.clock.advance(k_lease / 2);
  REQUIRE(a.membership->beat());
  REQUIRE(b.membership->beat());
  CHECK(a.membership->leader());
  CHECK_FALSE(b.membership->leader());
  auto live = b.membership->live();
  REQUIRE(live.size() == 2);
  CHECK(live[0].leader);
  CHECK_FALSE(live[1].leader);

  // A stops heartbeating: it stops acting as leader after half the lease; B takes over after the lease.
  c.clock.advance(k_lease / 2 + 1s);
  CHECK_FALSE(a.membership->leader());
  REQUIRE(b.membership->beat());
  CHECK_FALSE(b.membership->leader());   // A's lease still runs
  c.clock.advance(k_lease / 2);
  REQUIRE(b.membership->beat());
  CHECK(b.membership->leader());
  REQUIRE(a.membership->beat());
  CHECK_FALSE(a.membership->leader());
  // A clean stop hands the lease over at once.
  b.membership->leave();
  REQUIRE(a.membership->beat());
  CHECK(a.membership->leader());
}

TEST_CASE("multi daemon: an event taken over from a dead daemon a fourth time fails as a poison pill" * doctest::test_suite("threads")) {
  Cluster c;
  c.add("A");
  Node& b = c.add("B");
  // poison (E9) arrives first, then ok (E1); daemons X0..X3 claim them and die one after the other.
  c.send("poison", EventType::hire, "E9");
  c.send("ok", EventType::hire, "E1");
  c.clock.advance(10s);
  const long long t = to_unix_ms(c.clock.now());
  Store& raw = *b.real;
  REQUIRE(raw.claim_due_events(ClaimRequest{"X0", t - 4000, 1, 1000}).value().size() == 1);
  for (int i = 1; i <= 3; ++i)
    REQUIRE(raw.claim_due_events(ClaimRequest{"X" + std::to_string(i), t - 4000 + 1000 * i, 2, 1000}).value().size() == 2);
  CHECK(c.event("poison").rescues == 3);
  CHECK(c.event("ok").rescues == 2);
  REQUIRE(b.membership->beat());
  auto report = b.engine->run_cycle();
  CHECK(b.rescued == 2);
  CHECK(report.failed == 1);
  CHECK(report.done == 1);
  auto poison = c.event("poison");
  CHECK(poison.state == EventState::failed);
  CHECK(poison.reason == "taken over from a dead daemon 4 times (it may crash h2rd): approve a retry after checking");
  CHECK(c.event("ok").state == EventState::done);   // its third take-over runs
  CHECK(c.zoom.users.count("E9@example.com") == 0);  // the poison pill made no call
}

TEST_CASE("multi daemon: membership says why it starts no call while its heartbeat is stale" * doctest::test_suite("threads")) {
  Cluster c;
  Node& a = c.add("A");
  CHECK(a.membership->stale_reason().has_value());   // no beat yet
  REQUIRE(a.membership->beat());
  CHECK_FALSE(a.membership->stale_reason().has_value());
  a.store->fail("heartbeat", FaultyStore::k_always);
  CHECK_FALSE(a.membership->beat());
  CHECK_FALSE(a.membership->leader());
  c.clock.advance(k_lease / 2 + 1s);
  auto reason = a.membership->stale_reason();
  REQUIRE(reason.has_value());
  CHECK(reason->find("31 s old") != std::string::npos);
}

TEST_CASE("multi daemon: an event whose first call would start after the heartbeat went stale is given back unstarted" * doctest::test_suite("threads")) {
  Cluster c;
  Node& a = c.add("A");
  REQUIRE(a.membership->beat());
  c.hire(1, 2);
  // While the first hire's create runs, the database stops recording A's heartbeats and time passes.
  c.zoom.on_create = [&] {
    a.store->fail("heartbeat", FaultyStore::k_always);
    c.clock.advance(k_lease / 2 + 1s);
  };
  auto report = a.engine->run_cycle();
  CHECK(report.done == 1);
  CHECK(report.deferred == 1);
  CHECK(c.zoom.creates == 1);
  CHECK(c.transport.count("a.example/scim2/Users", "GET") == 1);   // hire-2 made no call at all
  auto second = c.event("hire-2");
  CHECK(second.state == EventState::pending);
  CHECK(second.claim_token.empty());   // given back: another daemon may take it now
  CHECK(second.attempts == 0);
}

TEST_CASE("multi daemon: on a shared store a claim takes a few seconds of this daemon's paced work, not the whole backlog" * doctest::test_suite("threads")) {
  Cluster c;
  {
    auto store = open_sqlite_store(c.db_path()).value();
    auto row = store->get_connection("zoom-a").value().value();
    row.rate_limit = 10;
    REQUIRE(store->update_connection(row));
  }
  Node& a = c.add("A");
  Node& b = c.add("B");
  REQUIRE(a.membership->beat());
  REQUIRE(b.membership->beat());
  REQUIRE(a.membership->beat());
  a.registry->set_share(a.membership->daemons());
  REQUIRE(a.registry->share() == 2);

  // Unshared (SQLite's single daemon): the whole batch size.
  (void)a.engine->run_cycle();
  REQUIRE_FALSE(a.store->claim_limits().empty());
  CHECK(a.store->claim_limits().front() == 10'000);
  // Shared: 10/s shared by two daemons, 5 s of work → 25 events a claim.
  a.store->set_shared(true);
  (void)a.engine->run_cycle();
  CHECK(a.store->claim_limits().back() == 25);
  // Alone again: 50, and never below 16 however slow the accounts are.
  a.registry->set_share(1);
  (void)a.engine->run_cycle();
  CHECK(a.store->claim_limits().back() == 50);
  a.registry->set_share(10);
  (void)a.engine->run_cycle();
  CHECK(a.store->claim_limits().back() == 16);
}

// The engine with per-connection lanes (issue 16), on a fake network with a real SQLite store: a
// stalled account holds none of another's threads, and an employee's events still apply one at a
// time in effective-date order.
#include "engine/engine.hpp"
#include "fakes/fake_transport.hpp"
#include "secrets/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

using namespace h2r;
using namespace h2r::test;
using namespace std::chrono_literals;

namespace {

// Employees of department A go to zoom-a, of B to zoom-b.
const std::string k_rules = R"(version: 1
targets:
  - connection: zoom-a
    when: { field: department, equals: A }
  - connection: zoom-b
    when: { field: department, equals: B }
roles:
  - name: staff
    zoom: { user_type: Basic }
on_no_role: deprovision
attributes:
  userName: "{email}"
  name.givenName: "{first_name}"
  title: "{job_title}"
)";

std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

// Just enough SCIM for hires and updates: search by userName, get, create, PUT (merged). A write may be
// made to wait on a gate.
struct MiniZoom {
  explicit MiniZoom(std::string h) : host(std::move(h)) {}
  std::string host;
  std::mutex mutex;
  std::condition_variable opened;
  bool gate_open = true;
  std::map<std::string, nlohmann::json> users;   // by id
  int writes = 0;

  void close_gate() {
    std::lock_guard lock(mutex);
    gate_open = false;
  }
  void open_gate() {
    std::lock_guard lock(mutex);
    gate_open = true;
    opened.notify_all();
  }

  Result<HttpResponse> answer(const HttpRequest& r) {
    std::unique_lock lock(mutex);
    const std::string rest = r.url.substr((host + "/scim2/Users").size());
    if (r.method == "GET" && (rest.empty() || rest[0] == '?')) {
      const std::string filter = percent_decode(rest);
      const auto q1 = filter.find('"'), q2 = filter.rfind('"');
      const std::string name = q1 == std::string::npos || q2 <= q1 ? "" : filter.substr(q1 + 1, q2 - q1 - 1);
      auto found = nlohmann::json::array();
      for (const auto& [id, user] : users)
        if (user["userName"] == name) found.push_back(user);
      return json_response(200, {{"totalResults", found.size()}, {"Resources", found}});
    }
    const std::string id = rest.empty() ? "" : rest.substr(1);
    if (r.method == "GET") {
      if (!users.count(id)) return scim_error(404, "User does not exist: " + id);
      return json_response(200, users[id]);
    }
    // A write: the gate holds it (bounded, so a failing test cannot hang the suite).
    opened.wait_for(lock, 30s, [this] { return gate_open; });
    ++writes;
    auto body = nlohmann::json::parse(r.body);
    if (r.method == "POST") {
      const std::string new_id = host.substr(8, 1) + std::to_string(users.size() + 1);
      body["id"] = new_id;
      body["active"] = true;
      users[new_id] = body;
      return json_response(201, body);
    }
    if (!users.count(id)) return scim_error(404, "User does not exist: " + id);
    for (auto& [key, value] : body.items())
      if (key != "schemas") users[id][key] = value;
    return json_response(200, users[id]);
  }

  void install(FakeTransport& t) {
    t.on(host + "/oauth/token", [](const HttpRequest&) -> Result<HttpResponse> { return token_response("tok", 3600); });
    t.on(host + "/scim2/Users", [this](const HttpRequest& r) { return answer(r); });
  }
};

struct Rig {
  TempDir dir;
  std::unique_ptr<Store> store;
  SecretBox box{SecretKey::from_bytes(std::string(32, 'k')).value()};
  FakeTransport transport;
  FakeClock clock;
  MiniZoom a{"https://a.example"}, b{"https://b.example"};
  std::unique_ptr<ConnectionRegistry> registry;
  std::unique_ptr<Engine> engine;
  RulesPtr rules;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<std::string, std::string>> outcomes;   // (employee, event_id) as recorded

  explicit Rig(int workers) {
    store = open_sqlite_store((dir.path() / "h2r.db").string()).value();
    for (auto* zoom : {&a, &b}) {
      zoom->install(transport);
      const std::string name = zoom == &a ? "zoom-a" : "zoom-b";
      ConnectionRow row{name, "acc", "cid", box.seal(Secret("s3cret"), name).value(), zoom->host + "/oauth/token",
                        zoom->host + "/scim2", 1000, 1, 1};
      REQUIRE(store->add_connection(row));
    }
    rules = load_rules_text(k_rules, "rules.yaml").value();
    ScimClientOptions client_options;
    client_options.sleep_until = [](SystemTime) { return true; };   // pacing is not what these tests look at
    registry = std::make_unique<ConnectionRegistry>(*store, box, transport, clock, client_options);
    EngineOptions options;
    options.workers = workers;
    options.on_outcome = [this](const EventRow& e, const EventOutcome&) {
      std::lock_guard lock(mutex);
      outcomes.emplace_back(e.employee_id, e.event_id);
      changed.notify_all();
    };
    engine = std::make_unique<Engine>(*store, *registry, [this] { return rules; }, options, clock);
  }

  static HrEvent event(EventType type, const std::string& id, int employee, const std::string& department,
                       const std::string& date, const std::string& title) {
    HrEvent e;
    e.type = type;
    e.event_id = id;
    e.employee_id = "E" + std::to_string(employee);
    e.effective_date = date;
    e.fields = {{"employee_id", e.employee_id}, {"first_name", "P" + std::to_string(employee)},
                {"email", "p" + std::to_string(employee) + "@example.com"}, {"department", department},
                {"employment_type", "full_time"}, {"job_title", title}};
    return e;
  }
  int recorded_for(char department_connection) {
    std::lock_guard lock(mutex);
    int n = 0;
    for (const auto& [employee, id] : outcomes) n += id[0] == department_connection;
    return n;
  }
};

} // namespace

TEST_CASE("engine dispatch: a stalled account holds none of the threads another account needs" * doctest::test_suite("threads")) {
  Rig rig(1);   // workers: 1, as the old single pool would have stalled on the first event
  std::vector<HrEvent> events;
  // zoom-a's events arrive first; with one shared pool they would take its threads and stall there.
  for (int i = 1; i <= 6; ++i) events.push_back(Rig::event(EventType::hire, "a-" + std::to_string(i), i, "A", "", "t"));
  for (int i = 7; i <= 16; ++i) events.push_back(Rig::event(EventType::hire, "b-" + std::to_string(i), i, "B", "", "t"));
  REQUIRE(rig.engine->ingest("hires.json", events));
  rig.a.close_gate();
  CycleReport report;
  std::thread cycle([&] { report = rig.engine->run_cycle(); });
  {
    std::unique_lock lock(rig.mutex);
    rig.changed.wait_for(lock, 30s, [&] {
      int n = 0;
      for (const auto& o : rig.outcomes) n += o.second[0] == 'b';
      return n == 10;
    });
  }
  CHECK(rig.recorded_for('b') == 10);   // every one of zoom-b's while zoom-a's writes are stuck
  CHECK(rig.recorded_for('a') == 0);
  rig.a.open_gate();
  cycle.join();
  CHECK(report.done == 16);
  CHECK(rig.a.users.size() == 6);
  CHECK(rig.b.users.size() == 10);
}

TEST_CASE("engine dispatch: an employee's events apply in effective-date order, one at a time, across lanes" * doctest::test_suite("threads")) {
  Rig rig(2);
  std::vector<HrEvent> events;
  // 12 employees over two accounts, each with a hire and two updates, written newest first in the
  // file: only the effective date orders them.
  constexpr int k_employees = 12;
  for (int step = 3; step >= 1; --step)
    for (int i = 1; i <= k_employees; ++i) {
      const std::string dept = i % 2 ? "A" : "B";
      const std::string id = std::string(dept == "A" ? "a" : "b") + "-" + std::to_string(i) + "-" + std::to_string(step);
      events.push_back(Rig::event(step == 1 ? EventType::hire : EventType::update, id, i, dept,
                                  "2020-01-0" + std::to_string(step), "title " + std::to_string(step)));
    }
  for (std::size_t r = 0; r < events.size(); ++r) events[r].record = static_cast<int>(r + 1);
  REQUIRE(rig.engine->ingest("events.json", events));
  int done = 0;
  for (int cycle = 0; cycle < 10 && done < 3 * k_employees; ++cycle) done += rig.engine->run_cycle().done;
  REQUIRE(done == 3 * k_employees);
  std::map<std::string, std::vector<std::string>> order;
  for (const auto& [employee, id] : rig.outcomes) order[employee].push_back(id.substr(id.rfind('-') + 1));
  REQUIRE(order.size() == k_employees);
  for (const auto& [employee, steps] : order) {
    CAPTURE(employee);
    CHECK(steps == std::vector<std::string>{"1", "2", "3"});
  }
  // Zoom holds the last update's title for everyone: no older event applied after a newer one.
  for (auto* zoom : {&rig.a, &rig.b}) {
    CHECK(zoom->users.size() == k_employees / 2);
    for (const auto& [id, user] : zoom->users) CHECK(user["title"] == "title 3");
  }
}

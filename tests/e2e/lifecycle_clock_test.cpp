// Issue 3: effective dates with a fake clock — the real Engine, a real SQLite file and real HTTP to
// zoom-sim, but time moved by the test. Dates are in America/New_York, DST edges included.
#include "core/time.hpp"
#include "engine/engine.hpp"
#include "secrets/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"
#include "zoom/http_transport.hpp"

#include <doctest/doctest.h>

#include <spdlog/spdlog.h>

#include <stdexcept>

using namespace h2r;
using namespace h2r::test;
using nlohmann::json;

namespace {

const char* const k_zone = "America/New_York";

SystemTime at(const char* iso) {
  auto t = parse_effective_date(iso, "UTC");
  if (!t) throw std::runtime_error(t.error().message);
  return *t;
}

// One Engine wired to a zoom-sim, its store in a temp folder, and a fake clock.
class ClockRig {
public:
  explicit ClockRig(const std::string& lifecycle, SystemTime start) : m_clock(start) {
    spdlog::set_level(spdlog::level::warn);
    auto store = open_sqlite_store((m_dir.path() / "h2r.db").string());
    if (!store) throw std::runtime_error(store.error().message);
    m_store = std::move(*store);
    auto key = SecretKey::from_bytes(std::string(k_secret_key_bytes, 'k'));
    if (!key) throw std::runtime_error(key.error().message);
    m_box = std::make_unique<SecretBox>(std::move(*key));
    ConnectionRow row;
    row.name = "zoom-main";
    row.account_id = m_sim.account_id();
    row.client_id = m_sim.client_id();
    row.secret_blob = *m_box->seal(m_sim.secret(), row.name);
    row.oauth_url = m_sim.oauth_url();
    row.api_url = m_sim.api_url();
    row.rate_limit = 1000;
    if (auto r = m_store->add_connection(row); !r) throw std::runtime_error(r.error().message);
    auto rules = load_rules_text(R"(version: 1
targets:
  - connection: zoom-main
roles:
  - name: staff
    zoom: { user_type: Basic }
attributes:
  userName: "{email}"
  name.givenName: "{first_name}"
  title: "{job_title}"
)" + lifecycle, "rules.yaml");
    if (!rules) throw std::runtime_error("rules: " + rules.error().front().to_string());
    m_rules = *rules;
    m_registry = std::make_unique<ConnectionRegistry>(*m_store, *m_box, m_transport, m_clock);
    EngineOptions options;
    options.time_zone = k_zone;
    options.workers = 2;
    options.once = true;
    m_engine = std::make_unique<Engine>(*m_store, *m_registry, [this] { return m_rules; }, options, m_clock);
  }

  FakeClock& clock() { return m_clock; }
  Store& store() { return *m_store; }
  SimProcess& sim() { return m_sim; }
  Engine& engine() { return *m_engine; }

  void ingest(const std::string& file, const std::vector<HrEvent>& events) {
    auto r = m_engine->ingest(file, events);
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  }
  std::string state(const std::string& event_id) {
    auto e = m_store->find_event(event_id);
    REQUIRE(e);
    REQUIRE(*e);
    return std::string(to_string((*e)->state));
  }
  // Zoom users named `user_name`.
  std::vector<json> users(const std::string& user_name) {
    std::vector<json> out;
    for (const auto& u : m_sim.users())
      if (u.value("userName", "") == user_name) out.push_back(u);
    return out;
  }

private:
  TempDir m_dir;
  SimProcess m_sim;
  FakeClock m_clock;
  std::unique_ptr<Store> m_store;
  std::unique_ptr<SecretBox> m_box;
  HttplibTransport m_transport;
  RulesPtr m_rules;
  std::unique_ptr<ConnectionRegistry> m_registry;
  std::unique_ptr<Engine> m_engine;
};

HrEvent hr_event(const std::string& event_id, EventType type, const std::string& employee_id,
                 const std::string& effective, FieldPatch fields = {}) {
  HrEvent e;
  e.event_id = event_id;
  e.type = type;
  e.employee_id = employee_id;
  e.effective_date = effective;
  e.record = 1;
  fields["employee_id"] = employee_id;
  e.fields = std::move(fields);
  return e;
}

FieldPatch person(const std::string& email) { return {{"email", email}, {"first_name", "Pat"}, {"job_title", "Engineer"}}; }

} // namespace

TEST_CASE("e2e lifecycle clock: a future hire waits and is provisioned at local midnight of its day") {
  ClockRig rig("", at("2026-11-30T12:00:00Z"));
  rig.ingest("hires.json", {hr_event("h-1", EventType::hire, "E1", "2026-12-01", person("pat@example.com"))});
  CHECK(rig.state("h-1") == "waiting");
  rig.engine().run_cycle();
  CHECK(rig.state("h-1") == "waiting");
  CHECK(rig.users("pat@example.com").empty());

  rig.clock().set(at("2026-12-01T04:59:59Z"));   // 23:59:59 EST on Nov 30
  auto report = rig.engine().run_cycle();
  CHECK(report.processed == 0);
  CHECK(rig.users("pat@example.com").empty());

  rig.clock().set(at("2026-12-01T05:00:00Z"));   // midnight EST
  report = rig.engine().run_cycle();
  CHECK(report.done == 1);
  CHECK(rig.state("h-1") == "done");
  REQUIRE(rig.users("pat@example.com").size() == 1);
}

TEST_CASE("e2e lifecycle clock: lead_days provisions before the start date, across the spring DST change") {
  ClockRig rig("lifecycle:\n  hire: { lead_days: 2 }\n", at("2026-03-01T12:00:00Z"));
  // Starts 2026-03-10 (EDT); two days earlier is 2026-03-08, whose midnight is still EST (05:00Z).
  rig.ingest("hires.json", {hr_event("h-1", EventType::hire, "E1", "2026-03-10", person("pat@example.com")),
                            hr_event("t-1", EventType::terminate, "E2", "2026-03-10")});
  auto hire = rig.store().find_event("h-1");
  REQUIRE(hire);
  REQUIRE(*hire);
  CHECK(format_utc(from_unix_ms((*hire)->effective_at_ms)) == "2026-03-10T04:00:00Z");
  CHECK(format_utc(from_unix_ms((*hire)->due_at_ms)) == "2026-03-08T05:00:00Z");
  auto term = rig.store().find_event("t-1");
  REQUIRE(term);
  REQUIRE(*term);
  CHECK((*term)->due_at_ms == (*term)->effective_at_ms);   // lead days are for hires only

  rig.clock().set(at("2026-03-08T04:59:59Z"));
  rig.engine().run_cycle();
  CHECK(rig.state("h-1") == "waiting");
  CHECK(rig.users("pat@example.com").empty());
  rig.clock().set(at("2026-03-08T05:00:00Z"));
  rig.engine().run_cycle();
  CHECK(rig.state("h-1") == "done");
  CHECK(rig.users("pat@example.com").size() == 1);
  CHECK(rig.state("t-1") == "waiting");
}

TEST_CASE("e2e lifecycle clock: a terminate dated on the autumn DST day acts at EDT midnight") {
  ClockRig rig("", at("2026-10-01T12:00:00Z"));
  rig.ingest("hire.json", {hr_event("h-1", EventType::hire, "E1", "", person("pat@example.com"))});
  rig.ingest("term.json", {hr_event("t-1", EventType::terminate, "E1", "2026-11-01")});
  rig.engine().run_cycle();
  CHECK(rig.state("h-1") == "done");
  CHECK(rig.state("t-1") == "waiting");
  rig.clock().set(at("2026-11-01T03:59:59Z"));
  rig.engine().run_cycle();
  CHECK(rig.state("t-1") == "waiting");
  REQUIRE(rig.users("pat@example.com").size() == 1);
  CHECK(rig.users("pat@example.com")[0]["active"] == true);
  rig.clock().set(at("2026-11-01T04:00:00Z"));
  rig.engine().run_cycle();
  CHECK(rig.state("t-1") == "done");
  CHECK(rig.users("pat@example.com")[0]["active"] == false);
}

TEST_CASE("e2e lifecycle clock: a future event of one employee holds back that employee's later events only") {
  ClockRig rig("", at("2026-05-01T12:00:00Z"));
  rig.ingest("hire.json", {hr_event("h-1", EventType::hire, "E1", "2026-06-01", person("one@example.com")),
                           hr_event("h-2", EventType::hire, "E2", "2026-05-01", person("two@example.com"))});
  // E1's update is dated after its hire: it waits for it, even though it arrived due.
  rig.ingest("upd.json", {hr_event("u-1", EventType::update, "E1", "2026-06-02", {{"job_title", "Lead"}}),
                          hr_event("u-2", EventType::update, "E2", "2026-05-01", {{"job_title", "Lead"}})});
  rig.engine().run_cycle();
  CHECK(rig.state("h-2") == "done");
  CHECK(rig.state("u-2") == "done");
  CHECK(rig.users("two@example.com")[0]["title"] == "Lead");
  CHECK(rig.state("h-1") == "waiting");
  CHECK(rig.state("u-1") == "waiting");
  rig.clock().set(at("2026-06-03T12:00:00Z"));
  rig.engine().run_cycle();
  CHECK(rig.state("h-1") == "done");
  CHECK(rig.state("u-1") == "done");
  REQUIRE(rig.users("one@example.com").size() == 1);
  CHECK(rig.users("one@example.com")[0]["title"] == "Lead");
}
